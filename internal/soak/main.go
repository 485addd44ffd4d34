// Command soak runs the ingester through a long stream with faults (make
// soak, issue 7): RECORDS generated records in four segments, each produced
// at full speed, and in the middle of each segment one fault:
//
//  1. the Kafka broker is stopped, kept down, and started again;
//  2. a second ingester joins the consumer group (a rebalance);
//  3. the second ingester leaves it again (SIGTERM, another rebalance);
//  4. Elasticsearch is stopped, kept down, and started again.
//
// After each fault it measures how long the ingesters took to commit again
// and to bring the group's lag back to zero. At the end it checks every
// Kafka position of the topic: indexed exactly once, under its
// deterministic id, or dead-lettered; nothing lost, nothing duplicated. It
// samples the ingesters' resident memory throughout and prints a one-screen
// summary; the exit code is 1 when any check fails.
//
// It restarts the servers with testenv/testenv.sh, so it refuses to run
// unless SDTRIAGE_STATE names a state folder of its own: `make soak`
// starts a separate pair on other ports, never the shared servers.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sdtriage/sdtriage/internal/testenv"
	"github.com/sdtriage/sdtriage/internal/traffic"
)

func main() {
	records := flag.Int("records", 1_000_000, "records to produce, in four segments")
	partitions := flag.Int("partitions", 4, "partitions of the soak topic")
	downtime := flag.Duration("downtime", 10*time.Second, "how long Kafka and Elasticsearch stay down")
	unusable := flag.Float64("unusable", 0.002, "share of records that are not JSON objects (dead-lettered)")
	maxRSS := flag.Int64("max-rss-mb", 150, "resident memory bound of each ingester, MB")
	bin := flag.String("ingest", "bin/ingest", "the ingest binary")
	script := flag.String("testenv", "testenv/testenv.sh", "the script that stops and starts the servers")
	flag.Parse()

	if os.Getenv("SDTRIAGE_STATE") == "" {
		die("SDTRIAGE_STATE is not set: the soak restarts Kafka and Elasticsearch, so it needs a pair of its own; run `make soak`")
	}
	s := &soak{
		brokers: strings.Split(need("KAFKA_BROKERS"), ","),
		es:      strings.TrimRight(need("ELASTICSEARCH_URL"), "/"),
		run:     fmt.Sprintf("soak-%d", time.Now().Unix()),
		bin:     *bin, script: *script, downtime: *downtime,
		http: &http.Client{Timeout: 60 * time.Second},
	}
	s.topic = "sdtriage." + s.run
	s.logDir = must1(os.MkdirTemp("", s.run+"-"))
	atExit = s.stopIngesters

	fmt.Printf("soak: %d records in 4 segments, %d partitions, %s downtime per server restart, run %s\n",
		*records, *partitions, *downtime, s.run)
	must(testenv.CreateTopic(s.brokers[0], s.topic, *partitions))
	must(s.setup())
	gen := must1(traffic.New(traffic.Config{Seed: 7, Records: *records, UnusableRate: *unusable,
		SuccessRate: traffic.DefaultSuccessRate, ECSRate: traffic.DefaultECSRate, LeakRate: traffic.DefaultLeakRate,
		Start: time.Now().UTC().Add(-7 * 24 * time.Hour).Truncate(time.Hour), End: time.Now().UTC().Truncate(time.Hour)}))

	mem := newSampler()
	go mem.loop()
	a := s.startIngest("a")
	mem.watch(a)

	start := time.Now()
	seg := *records / 4
	events := []struct {
		name string
		do   func() (down time.Duration)
	}{
		{"kafka restart", func() time.Duration { return s.restart("kafka") }},
		{"ingester joins", func() time.Duration { b := s.startIngest("b"); mem.watch(b); return 0 }},
		{"ingester leaves", func() time.Duration { s.stopIngest(s.ingesters[1]); return 0 }},
		{"elasticsearch restart", func() time.Duration { return s.restart("elasticsearch") }},
	}
	var faults []fault
	for i, ev := range events {
		n := seg
		if i == len(events)-1 {
			n = *records - 3*seg
		}
		base := s.endTotal()
		t0 := time.Now()
		produced := s.produce(gen, n)
		fmt.Printf("segment %d: %d records produced in %.1fs; %s when half of them are committed\n",
			i+1, produced, time.Since(t0).Seconds(), ev.name)
		s.waitCommitted(base+int64(produced)/2, 10*time.Minute)
		f := fault{name: ev.name}
		f.down = ev.do()
		back := time.Now()
		if committed := s.committedTotal(); committed < s.endTotal() {
			f.resumed = s.waitCommitted(committed+1, 10*time.Minute).Sub(back)
			f.caughtUp = s.waitLagZero(10 * time.Minute).Sub(back)
		}
		faults = append(faults, f)
		fmt.Printf("  %s: resumed committing after %.1fs, lag zero after %.1fs\n", ev.name, f.resumed.Seconds(), f.caughtUp.Seconds())
		s.checkAlive()
	}
	elapsed := time.Since(start)
	s.stopIngest(a)
	mem.stop()

	res := s.verify()
	res.print(s, *records, elapsed, faults, mem, *maxRSS)
	ok := res.ok() && mem.peakMB() <= float64(*maxRSS)
	if !ok {
		fmt.Printf("\nRESULT: FAIL (ingester logs in %s)\n", s.logDir)
		os.Exit(1)
	}
	s.cleanup()
	os.RemoveAll(s.logDir)
	fmt.Println("\nRESULT: PASS")
}

// soak is one run: its servers, names and ingesters.
type soak struct {
	brokers      []string
	es           string
	run, topic   string
	bin, script  string
	logDir       string
	downtime     time.Duration
	http         *http.Client
	mu           sync.Mutex
	ingesters    []*ingester
	produceRetry int
}

// fault is what one fault cost.
type fault struct {
	name     string
	down     time.Duration // how long the server was unreachable (stop to ready)
	resumed  time.Duration // from the server back (or the member change) to the next commit
	caughtUp time.Duration // from the same moment to a lag of zero
}

// ingester is a running `ingest run` process.
type ingester struct {
	name    string
	cmd     *exec.Cmd
	done    chan error // Wait's result, put back by whoever reads it
	stopped bool       // stopped on purpose (under soak.mu)
}

func (s *soak) env(extra ...string) []string {
	return append(os.Environ(), append([]string{"KAFKA_TOPIC=" + s.topic, "KAFKA_GROUP=" + s.run,
		"ELASTICSEARCH_INDEX=" + s.run}, extra...)...)
}

func (s *soak) setup() error {
	cmd := exec.Command(s.bin, "setup")
	cmd.Env, cmd.Stderr = s.env(), os.Stderr
	return cmd.Run()
}

// startIngest starts an ingester with the default settings users get, its
// metrics on a free port (two on the default :9464 would collide).
func (s *soak) startIngest(name string) *ingester {
	l := must1(net.Listen("tcp", "127.0.0.1:0"))
	addr := l.Addr().String()
	l.Close()
	logFile := must1(os.Create(filepath.Join(s.logDir, "ingest-"+name+".log")))
	cmd := exec.Command(s.bin, "run")
	cmd.Env, cmd.Stdout, cmd.Stderr = s.env("METRICS_ADDR="+addr), logFile, logFile
	must(cmd.Start())
	in := &ingester{name: name, cmd: cmd, done: make(chan error, 1)}
	go func() { in.done <- cmd.Wait(); logFile.Close() }()
	s.mu.Lock()
	s.ingesters = append(s.ingesters, in)
	s.mu.Unlock()
	return in
}

// stopIngest sends SIGTERM and requires a clean exit.
func (s *soak) stopIngest(in *ingester) {
	s.mu.Lock()
	in.stopped = true
	s.mu.Unlock()
	must(in.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-in.done:
		if err != nil {
			die("ingester %s did not stop cleanly after SIGTERM: %v; log in %s", in.name, err, s.logDir)
		}
	case <-time.After(time.Minute):
		die("ingester %s still running a minute after SIGTERM; log in %s", in.name, s.logDir)
	}
	in.done <- nil
}

// stopIngesters kills whatever still runs (on failure).
func (s *soak) stopIngesters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.ingesters {
		if in.cmd.ProcessState == nil {
			in.cmd.Process.Kill()
		}
	}
}

// checkAlive dies when an ingester exited on its own: a fault it did not
// survive.
func (s *soak) checkAlive() {
	s.mu.Lock()
	var dead *ingester
	var deadErr error
	for _, in := range s.ingesters {
		select {
		case err := <-in.done:
			in.done <- err
			if !in.stopped {
				dead, deadErr = in, err
			}
		default:
		}
	}
	s.mu.Unlock()
	if dead != nil {
		die("ingester %s exited by itself (%v); its log: %s", dead.name, deadErr, filepath.Join(s.logDir, "ingest-"+dead.name+".log"))
	}
}

// restart stops a server, keeps it down for the downtime, starts it again,
// and returns how long it was down.
func (s *soak) restart(service string) time.Duration {
	t0 := time.Now()
	s.script1("stop", service)
	time.Sleep(s.downtime)
	s.script1("start", service)
	return time.Since(t0)
}

func (s *soak) script1(args ...string) {
	cmd := exec.Command("bash", append([]string{s.script}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		die("%s %s: %v\n%s", s.script, strings.Join(args, " "), err, out)
	}
}

// produce writes the next n records of gen as fast as the broker takes
// them, resending a batch the broker did not acknowledge (a resent batch
// may land twice: the checks count Kafka positions, not generated records).
func (s *soak) produce(gen *traffic.Generator, n int) int {
	w := &kafka.Writer{Addr: kafka.TCP(s.brokers...), Topic: s.topic, Balancer: &kafka.RoundRobin{},
		BatchSize: 5000, BatchBytes: 8 << 20, BatchTimeout: 20 * time.Millisecond, RequiredAcks: kafka.RequireAll,
		Transport: &kafka.Transport{}}
	defer w.Close()
	msgs := make([]kafka.Message, 0, 5000)
	flush := func() {
		for attempt := 1; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := w.WriteMessages(ctx, msgs...)
			cancel()
			if err == nil {
				break
			}
			if attempt == 10 {
				die("producing: %v", err)
			}
			s.produceRetry++
			time.Sleep(time.Second)
		}
		msgs = msgs[:0]
	}
	for i := 0; i < n && gen.More(); i++ {
		msgs = append(msgs, kafka.Message{Value: gen.Next(nil)})
		if len(msgs) == cap(msgs) {
			flush()
		}
	}
	if len(msgs) > 0 {
		flush()
	}
	return n
}

// client returns a Kafka client with a fresh transport: after a broker
// restart, cached connections are stale.
func (s *soak) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(s.brokers...), Timeout: 10 * time.Second, Transport: &kafka.Transport{}}
}

// endOffsets returns each partition's end offset.
func (s *soak) endOffsets() (map[int]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := s.client()
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{s.topic}})
	if err != nil {
		return nil, err
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil, fmt.Errorf("metadata of %s: %v", s.topic, meta.Topics)
	}
	var req []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		req = append(req, kafka.LastOffsetOf(p.ID))
	}
	res, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{s.topic: req}})
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, po := range res.Topics[s.topic] {
		if po.Error != nil {
			return nil, po.Error
		}
		out[po.Partition] = po.LastOffset
	}
	return out, nil
}

// committed returns the group's committed offset of each partition.
func (s *soak) committed(parts map[int]int64) (map[int]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids := make([]int, 0, len(parts))
	for p := range parts {
		ids = append(ids, p)
	}
	res, err := s.client().OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: s.run, Topics: map[string][]int{s.topic: ids}})
	if err != nil {
		return nil, err
	}
	if res.Error != nil {
		return nil, res.Error
	}
	out := map[int]int64{}
	for _, p := range res.Topics[s.topic] {
		if p.Error != nil {
			return nil, p.Error
		}
		out[p.Partition] = max(p.CommittedOffset, 0)
	}
	return out, nil
}

func sum(m map[int]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// endTotal returns the number of records in the topic, retrying while the
// broker is unreachable.
func (s *soak) endTotal() int64 {
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(time.Second) {
		end, err := s.endOffsets()
		if err == nil {
			return sum(end)
		}
		if time.Now().After(deadline) {
			die("reading the end offsets: %v", err)
		}
	}
}

// committedTotal returns the number of records below the group's commits.
func (s *soak) committedTotal() int64 {
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(time.Second) {
		end, err := s.endOffsets()
		if err == nil {
			var c map[int]int64
			if c, err = s.committed(end); err == nil {
				return sum(c)
			}
		}
		if time.Now().After(deadline) {
			die("reading the committed offsets: %v", err)
		}
	}
}

// waitCommitted waits until at least n records are committed and returns
// when that was seen.
func (s *soak) waitCommitted(n int64, timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	for {
		s.checkAlive()
		if s.committedTotal() >= n {
			return time.Now()
		}
		if time.Now().After(deadline) {
			die("fewer than %d records committed after %s; logs in %s", n, timeout, s.logDir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitLagZero waits until every partition is committed to its end.
func (s *soak) waitLagZero(timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	for {
		s.checkAlive()
		end, err := s.endOffsets()
		if err == nil {
			c, err := s.committed(end)
			if err == nil && sum(c) == sum(end) {
				return time.Now()
			}
		}
		if time.Now().After(deadline) {
			die("the group's lag is not zero after %s; logs in %s", timeout, s.logDir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// result is what the final check found.
type result struct {
	records     int64 // Kafka positions in the topic
	documents   int64 // Elasticsearch's count under the prefix
	distinct    int64 // distinct Kafka positions among the documents
	dead        int64 // dead-letter messages
	deadDistinc int64 // distinct Kafka positions among them
	lost        int64 // positions neither indexed nor dead-lettered
	duplicated  int64 // extra documents for a position, or a position both indexed and dead-lettered
	badIDs      int   // sampled documents whose _id is not <topic>-<partition>-<offset>
}

// ok says whether nothing was lost or indexed twice. Dead letters may
// repeat: the pipeline writes them at least once (a record dead-lettered
// but not yet committed when a broker restarts is fetched and
// dead-lettered again), and the summary counts the repeats.
func (r result) ok() bool {
	return r.records > 0 && r.lost == 0 && r.duplicated == 0 && r.badIDs == 0 &&
		r.documents+r.deadDistinc == r.records
}

// verify checks every Kafka position of the topic against the documents
// and the dead-letter topic.
func (s *soak) verify() result {
	end, err := s.endOffsets()
	must(err)
	var r result
	seen := map[int][]uint8{} // per partition and offset: documents (low nibble) and dead letters (high nibble)
	for p, n := range end {
		seen[p] = make([]uint8, n)
		r.records += n
	}
	bump := func(p int, off int64, by uint8) {
		if b, ok := seen[p]; ok && off >= 0 && off < int64(len(b)) && b[off]&0x0f != 0x0f {
			b[off] += by
		}
	}
	s.esDo("POST", "/"+s.run+"-*/_refresh", nil, nil)
	var count struct{ Count int64 }
	s.esDo("GET", "/"+s.run+"-*/_count", nil, &count)
	r.documents = count.Count

	// Every document's Kafka position, in pages of a composite aggregation.
	var after map[string]any
	for {
		comp := map[string]any{"size": 10000, "sources": []any{
			map[string]any{"p": map[string]any{"terms": map[string]any{"field": "kafka.partition"}}},
			map[string]any{"o": map[string]any{"terms": map[string]any{"field": "kafka.offset"}}},
		}}
		if after != nil {
			comp["after"] = after
		}
		var out struct {
			Aggregations struct {
				Pos struct {
					AfterKey map[string]any `json:"after_key"`
					Buckets  []struct {
						Key      struct{ P, O int64 }
						DocCount int64 `json:"doc_count"`
					}
				}
			}
		}
		s.esDo("POST", "/"+s.run+"-*/_search", map[string]any{"size": 0, "aggs": map[string]any{"pos": map[string]any{"composite": comp}}}, &out)
		for _, b := range out.Aggregations.Pos.Buckets {
			r.distinct++
			for range b.DocCount {
				bump(int(b.Key.P), b.Key.O, 1)
			}
		}
		if len(out.Aggregations.Pos.Buckets) == 0 || out.Aggregations.Pos.AfterKey == nil {
			break
		}
		after = out.Aggregations.Pos.AfterKey
	}

	// A sample of documents: the _id is the deterministic one.
	var sample struct {
		Hits struct {
			Hits []struct {
				ID     string `json:"_id"`
				Source struct {
					Kafka struct {
						Topic     string
						Partition int
						Offset    int64
					}
				} `json:"_source"`
			}
		}
	}
	s.esDo("POST", "/"+s.run+"-*/_search", map[string]any{"size": 1000, "_source": []string{"kafka.*"},
		"query": map[string]any{"function_score": map[string]any{"random_score": map[string]any{"seed": 7, "field": "_seq_no"}}}}, &sample)
	for _, h := range sample.Hits.Hits {
		if h.ID != fmt.Sprintf("%s-%d-%d", h.Source.Kafka.Topic, h.Source.Kafka.Partition, h.Source.Kafka.Offset) || h.Source.Kafka.Topic != s.topic {
			r.badIDs++
		}
	}

	for _, m := range s.readDLQ() {
		r.dead++
		p, err1 := strconv.Atoi(header(m, "sdtriage.partition"))
		off, err2 := strconv.ParseInt(header(m, "sdtriage.offset"), 10, 64)
		if err1 == nil && err2 == nil {
			bump(p, off, 0x10)
		}
	}
	for _, b := range seen {
		for _, v := range b {
			docs, dead := int64(v&0x0f), int64(v>>4)
			switch {
			case docs == 0 && dead == 0:
				r.lost++
			case docs > 1:
				r.duplicated += docs - 1
			}
			if docs > 0 && dead > 0 {
				r.duplicated++
			}
			if dead > 0 {
				r.deadDistinc++
			}
		}
	}
	return r
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// readDLQ reads every message of the dead-letter topic.
func (s *soak) readDLQ() []kafka.Message {
	dlq := s.topic + ".dlq"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	meta, err := s.client().Metadata(ctx, &kafka.MetadataRequest{Topics: []string{dlq}})
	if err != nil || len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil // no dead letters: the topic was never created
	}
	var out []kafka.Message
	for _, p := range meta.Topics[0].Partitions {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: s.brokers, Topic: dlq, Partition: p.ID, MaxWait: 200 * time.Millisecond})
		last, err := (&kafka.Client{Addr: kafka.TCP(s.brokers...)}).ListOffsets(ctx, &kafka.ListOffsetsRequest{
			Topics: map[string][]kafka.OffsetRequest{dlq: {kafka.LastOffsetOf(p.ID)}}})
		must(err)
		for end := last.Topics[dlq][0].LastOffset; int64(len(out)) < end && r.Offset() < end; {
			m, err := r.ReadMessage(ctx)
			must(err)
			out = append(out, m)
		}
		r.Close()
	}
	return out
}

// esDo sends a JSON request to Elasticsearch and decodes the answer into out.
func (s *soak) esDo(method, path string, body, out any) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(must1(json.Marshal(body)))
	}
	req := must1(http.NewRequest(method, s.es+path, rd))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	must(err)
	defer resp.Body.Close()
	b := must1(io.ReadAll(resp.Body))
	if resp.StatusCode >= 300 {
		die("%s %s: HTTP %d: %.500s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		must(json.Unmarshal(b, out))
	}
}

// cleanup removes the run's topics, indices and template.
func (s *soak) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.client().DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{s.topic, s.topic + ".dlq"}})
	for _, path := range []string{"/" + s.run + "-*", "/_index_template/" + s.run} {
		if req, err := http.NewRequest(http.MethodDelete, s.es+path, nil); err == nil {
			if resp, err := s.http.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
}

// sampler records the peak resident memory of the ingesters.
type sampler struct {
	mu    sync.Mutex
	procs []*ingester
	peak  map[string]int64
	quit  chan struct{}
}

func newSampler() *sampler { return &sampler{peak: map[string]int64{}, quit: make(chan struct{})} }

func (m *sampler) watch(in *ingester) {
	m.mu.Lock()
	m.procs = append(m.procs, in)
	m.mu.Unlock()
}

func (m *sampler) loop() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-m.quit:
			return
		}
		m.mu.Lock()
		for _, in := range m.procs {
			m.peak[in.name] = max(m.peak[in.name], testenv.ResidentBytes(in.cmd.Process.Pid))
		}
		m.mu.Unlock()
	}
}

func (m *sampler) stop() { close(m.quit) }

func (m *sampler) peakMB() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var p int64
	for _, v := range m.peak {
		p = max(p, v)
	}
	return float64(p) / (1 << 20)
}

// print writes the one-screen summary.
func (r result) print(s *soak, generated int, elapsed time.Duration, faults []fault, mem *sampler, maxRSS int64) {
	mark := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "FAIL"
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Println()
	fmt.Printf("soak summary (%d CPUs, load average %s)\n", runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	fmt.Printf("  records generated           %10d\n", generated)
	fmt.Printf("  records in (Kafka)          %10d   (%d produce retries)\n", r.records, s.produceRetry)
	fmt.Printf("  documents out (ES)          %10d   (%d distinct Kafka positions)\n", r.documents, r.distinct)
	fmt.Printf("  dead-lettered               %10d   (%d messages: dead letters are at least once)\n", r.deadDistinc, r.dead)
	fmt.Printf("  lost                        %10d   %s\n", r.lost, mark(r.lost == 0))
	fmt.Printf("  duplicated                  %10d   %s\n", r.duplicated, mark(r.duplicated == 0))
	fmt.Printf("  documents + dead-lettered = records %v %s\n", r.documents+r.deadDistinc == r.records, mark(r.documents+r.deadDistinc == r.records))
	fmt.Printf("  sampled ids deterministic   %10v   %s\n", r.badIDs == 0, mark(r.badIDs == 0))
	mem.mu.Lock()
	for _, name := range []string{"a", "b"} {
		if p, ok := mem.peak[name]; ok {
			fmt.Printf("  peak RSS ingester %s         %8.1f MB   %s (bound %d MB)\n", name, float64(p)/(1<<20),
				mark(p <= maxRSS<<20), maxRSS)
		}
	}
	mem.mu.Unlock()
	fmt.Printf("  wall time                   %9.1fs   (%.0f records/s overall, faults included)\n",
		elapsed.Seconds(), float64(r.records)/elapsed.Seconds())
	fmt.Println("  faults (from the server back, or the member change, to the next commit and to a lag of zero)")
	fmt.Println("                                 down   resumed   lag zero")
	for _, f := range faults {
		down := "-"
		if f.down > 0 {
			down = fmt.Sprintf("%.1fs", f.down.Seconds())
		}
		if f.caughtUp == 0 {
			fmt.Printf("    %-24s %8s   caught up before the fault ended\n", f.name, down)
			continue
		}
		fmt.Printf("    %-24s %8s %8.1fs %9.1fs\n", f.name, down, f.resumed.Seconds(), f.caughtUp.Seconds())
	}
}

func need(name string) string {
	v := os.Getenv(name)
	if v == "" {
		die("%s is not set: run `make soak`", name)
	}
	return v
}

func must(err error) {
	if err != nil {
		die("%v", err)
	}
}

func must1[T any](v T, err error) T {
	must(err)
	return v
}

// atExit stops the ingesters; die calls it.
var atExit = func() {}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...)
	atExit()
	os.Exit(1)
}
