// Command e2ebench measures the ingester end to end on real servers (make
// bench): records per second from a Kafka backlog into Elasticsearch, set
// against two ceilings measured in the same run on the same records, and the
// ingester's peak resident memory while it works through that backlog.
//
//   - consume ceiling: a kafka-go consumer group reading the backlog and
//     committing, doing no other work;
//   - index ceiling: the same records, classified beforehand, bulk-indexed
//     straight into Elasticsearch under the ids the ingester gives them, in
//     the order they were produced, with the ingester's batch size and
//     number of concurrent bulk requests, before and after each end-to-end
//     run, the node warmed up first by indexing a quarter of them (not
//     counted);
//   - end to end: the ingest binary, as users run it, from start until every
//     record is consumed and nothing is in flight; --rounds runs, each set
//     against the better of the index ceilings before and after it;
//   - ingest alone: the same binary with its bulk requests answered at once
//     by a stub that indexes nothing: the ingester's own speed and CPU per
//     record, without a node to share the machine with.
//
// The ceilings and the end-to-end runs are measured once per --placement
// (see placement): split gives the node half of the CPUs and everything else
// the other half, so that the node has the same CPU in the ceilings and
// beside the ingester; shared leaves every process on every CPU, where the
// ingester's CPU is taken from the node. The servers get their CPUs back
// when the benchmark ends, also when it fails or is interrupted.
//
// It reads KAFKA_BROKERS and ELASTICSEARCH_URL like the tests, and removes
// its topic, indices and templates when it ends.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sdtriage/sdtriage/classify"
	"github.com/sdtriage/sdtriage/internal/testenv"
	"github.com/sdtriage/sdtriage/internal/traffic"
	"github.com/sdtriage/sdtriage/rules"
)

func main() {
	records := flag.Int("records", 1_000_000, "records in the backlog")
	partitions := flag.Int("partitions", 4, "partitions of the backlog topic")
	batch := flag.Int("batch-size", 1000, "records per bulk request (as ingest --batch-size)")
	workers := flag.Int("workers", 2, "concurrent bulk requests (as ingest --workers)")
	ingestBin := flag.String("ingest", "bin/ingest", "the ingest binary to measure")
	rounds := flag.Int("rounds", 3, "end-to-end runs, each between two index ceilings")
	placeList := flag.String("placement", "split,shared", "where the processes run, measured in turn: split (the node on half of the CPUs, everything else on the other half) or shared (all on every CPU)")
	flag.Parse()
	if *rounds < 1 {
		die("--rounds is %d, want at least 1", *rounds)
	}
	places, err := placements(*placeList, runtime.NumCPU())
	must(err)

	brokers := strings.Split(env("KAFKA_BROKERS"), ",")
	esURL := strings.TrimRight(env("ELASTICSEARCH_URL"), "/")
	run := fmt.Sprintf("bench-%d", time.Now().Unix())
	b := &bench{brokers: brokers, es: esURL, run: run, batch: *batch, workers: *workers}
	atExit = b.cleanup
	defer func() { atExit() }()
	if slices.ContainsFunc(places, placement.pinned) {
		pin, err := newPinner(esURL, brokers)
		must(err)
		atExit = func() {
			if err := pin.restore(); err != nil {
				fmt.Fprintf(os.Stderr, "e2ebench: giving the servers their CPUs back: %v\n", err)
			}
			b.cleanup()
		}
		b.pin = pin
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() { die("%v", <-sigs) }()

	fmt.Printf("e2ebench: %d records, %d partitions, batch %d, %d bulk workers, run %s\n",
		*records, *partitions, *batch, *workers, run)

	t0 := time.Now()
	must(b.produce(*records, *partitions))
	fmt.Printf("backlog produced in %.1fs\n", time.Since(t0).Seconds())

	stub, stopStub := b.bulkStub()
	alone, _, _ := b.endToEnd(*ingestBin, *records, "alone", stub)
	stopStub()
	fmt.Printf("ingest alone:    %8.0f records/s (bulk requests answered by a stub that indexes nothing)\n", alone)
	b.prepare()

	type result struct {
		pl     placement
		ratios []float64
	}
	var results []result
	var peak int64
	for _, pl := range places {
		fmt.Printf("\nplacement %v\n", pl)
		ratios, rss := b.measure(pl, *ingestBin, *records, *rounds)
		results = append(results, result{pl, ratios})
		peak = max(peak, rss)
	}

	fmt.Println()
	for _, r := range results {
		note := "(target >= 85%)"
		if !r.pl.pinned() {
			note = "(for comparison: the ingester's CPU is taken from the node)"
		}
		fmt.Printf("end to end / lower ceiling, %-7s %5.1f%% median of %d rounds (%s)  %s\n",
			r.pl.name+":", 100*median(r.ratios), len(r.ratios), percents(r.ratios), note)
	}
	fmt.Printf("ingest peak resident memory:         %5.1f MB with a backlog of %d records (target < 150 MB)\n",
		float64(peak)/(1<<20), *records)
}

// measure puts the processes where pl says and measures the consume
// ceiling, then rounds end-to-end runs, each between two index ceilings;
// it returns each round's ratio of end to end to the lower ceiling and the
// ingester's peak resident memory.
func (b *bench) measure(pl placement, ingestBin string, n, rounds int) ([]float64, int64) {
	if b.pin != nil {
		must(b.pin.apply(pl))
	}
	consume := b.consumeCeiling(n, pl.name)
	fmt.Printf("consume ceiling: %8.0f records/s\n", consume)

	// The node's JVM compiles its hot paths during the first minute of
	// indexing, and again when it moves to other CPUs: a warm-up, not
	// counted, keeps the first phase from running on a colder node than
	// the later ones.
	warm := b.docs[:len(b.docs)/4]
	rate, _ := b.indexCeiling("warm-up-"+pl.name, warm)
	fmt.Printf("warm-up:         %8.0f records/s (%d documents indexed and deleted, not counted)\n", rate, len(warm))
	b.settle("warm-up-" + pl.name)

	// Each end-to-end run sits between two index ceilings and is set
	// against the better of them: the node's speed drifts over a run
	// (compilation, merges, other load on the machine), by a tenth or more
	// between two ceilings of the same documents, and the ceiling must not
	// be the easy one. Each indexing phase starts on a quiet node: the
	// previous phase's indices are deleted, so that their background merges
	// do not land on the next phase.
	ceiling := func(name string) float64 {
		var rate float64
		var lat time.Duration
		cpu := b.nodeCPU(func() { rate, lat = b.indexCeiling(name, b.docs) })
		fmt.Printf("index ceiling:   %8.0f records/s (node CPU %3.0f%%, bulk requests %v on average)\n", rate, cpu, lat)
		b.settle(name)
		return rate
	}
	before := ceiling(fmt.Sprintf("ceiling-%s-0", pl.name))
	var ratios []float64
	var peak int64
	for r := 1; r <= rounds; r++ {
		name := fmt.Sprintf("ingest-%s-%d", pl.name, r)
		var e2e float64
		var rss int64
		var lat time.Duration
		cpu := b.nodeCPU(func() { e2e, rss, lat = b.endToEnd(ingestBin, n, name, b.es) })
		fmt.Printf("end to end:      %8.0f records/s (node CPU %3.0f%% with start-up, bulk requests %v on average)\n", e2e, cpu, lat)
		b.settle(name)
		after := ceiling(fmt.Sprintf("ceiling-%s-%d", pl.name, r))
		lower := min(consume, max(before, after))
		ratios = append(ratios, e2e/lower)
		fmt.Printf("round %d: end to end / lower ceiling: %5.1f%% (consume %.0f, index %.0f)\n", r, 100*e2e/lower, consume, max(before, after))
		peak = max(peak, rss)
		before = after
	}
	return ratios, peak
}

// median returns the median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percents lists ratios as percentages, in order.
func percents(xs []float64) string {
	p := make([]string, len(xs))
	for i, x := range xs {
		p[i] = fmt.Sprintf("%.1f%%", 100*x)
	}
	return strings.Join(p, ", ")
}

type bench struct {
	brokers        []string
	es, run        string
	batch, workers int
	phases         []string // names of the phases run, each with indices and a template <run>-<name>
	values         [][]byte // the backlog, in production order
	partitions     int      // record i went to partition i%partitions, at offset i/partitions
	docs           []doc    // the classified documents, for the index ceiling
	pin            *pinner  // nil when every placement is shared
}

type doc struct {
	day  string // YYYY.MM.DD of the daily index
	id   string
	body []byte
}

func (b *bench) topic() string { return "sdtriage." + b.run }

// produce writes n generated records to a new topic of p partitions and keeps
// them for the index ceiling. Record i goes to partition i%p, so that its
// offset, i/p, and the id the ingester gives its document are known; the
// partitions' end offsets are checked against that.
func (b *bench) produce(n, p int) error {
	if err := testenv.CreateTopic(b.brokers[0], b.topic(), p); err != nil {
		return err
	}
	b.partitions = p

	end := time.Now().UTC().Truncate(time.Hour)
	g, err := traffic.New(traffic.NewConfig(42, end.Add(-14*24*time.Hour), end, n))
	if err != nil {
		return err
	}
	byIndex := kafka.BalancerFunc(func(m kafka.Message, partitions ...int) int {
		return partitions[m.WriterData.(int)%len(partitions)]
	})
	w := &kafka.Writer{Addr: kafka.TCP(b.brokers...), Topic: b.topic(), Balancer: byIndex,
		BatchSize: 5000, BatchBytes: 8 << 20, BatchTimeout: 20 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	msgs := make([]kafka.Message, 0, 5000)
	b.values = make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		v := g.Next(nil)
		b.values = append(b.values, v)
		msgs = append(msgs, kafka.Message{Value: v, WriterData: i})
		if len(msgs) == cap(msgs) || i == n-1 {
			if err := w.WriteMessages(context.Background(), msgs...); err != nil {
				return err
			}
			msgs = msgs[:0]
		}
	}
	for part := range p {
		conn, err := kafka.DialLeader(context.Background(), "tcp", b.brokers[0], b.topic(), part)
		if err != nil {
			return err
		}
		last, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			return err
		}
		if want := int64((n - part + p - 1) / p); last != want {
			return fmt.Errorf("partition %d ends at offset %d, want %d: the records' offsets are not known", part, last, want)
		}
	}
	return nil
}

// consumeCeiling reads the whole backlog in a consumer group of its own,
// committing every 1,000 records, and returns records per second.
func (b *bench) consumeCeiling(n int, name string) float64 {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: b.brokers, Topic: b.topic(), GroupID: b.run + "-consume-" + name,
		StartOffset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 250 * time.Millisecond})
	defer r.Close()
	ctx := context.Background()
	start := time.Now()
	pending := make([]kafka.Message, 0, 1000)
	for i := 0; i < n; i++ {
		m, err := r.FetchMessage(ctx)
		must(err)
		pending = append(pending, m)
		if len(pending) == cap(pending) || i == n-1 {
			must(r.CommitMessages(ctx, pending...))
			pending = pending[:0]
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// indexCeiling bulk-indexes docs (see prepare) into indices of their own
// with the ingester's batch size and concurrency, and returns records per
// second and the average duration of a bulk request.
func (b *bench) indexCeiling(name string, docs []doc) (float64, time.Duration) {
	prefix := b.run + "-" + name
	b.phases = append(b.phases, name)
	must(b.putTemplate(prefix))

	batches := make(chan []doc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var busy time.Duration // summed duration of the bulk requests
	requests := 0
	start := time.Now()
	for w := 0; w < b.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for docs := range batches {
				buf.Reset()
				for _, d := range docs {
					fmt.Fprintf(&buf, `{"create":{"_index":"%s-%s","_id":%q}}`+"\n", prefix, d.day, d.id)
					buf.Write(d.body)
					buf.WriteByte('\n')
				}
				t := time.Now()
				b.bulk(buf.Bytes())
				mu.Lock()
				busy += time.Since(t)
				requests++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < len(docs); i += b.batch {
		batches <- docs[i:min(i+b.batch, len(docs))]
	}
	close(batches)
	wg.Wait()
	return float64(len(docs)) / time.Since(start).Seconds(), (busy / time.Duration(requests)).Round(time.Millisecond)
}

// prepare classifies the backlog into documents, once, outside any timing,
// each with its Kafka position and the id the ingester gives it
// (<topic>-<partition>-<offset>, see pipeline/bulk.go).
func (b *bench) prepare() {
	c, err := classify.New(rules.Default())
	must(err)
	ingested := time.Now()
	b.docs = make([]doc, 0, len(b.values))
	for i, v := range b.values {
		src := classify.Source{Topic: b.topic(), Partition: i % b.partitions, Offset: int64(i / b.partitions)}
		body, res, err := c.AppendDocument(nil, v, src, ingested)
		must(err)
		ts := res.Timestamp
		if ts.IsZero() {
			ts = ingested
		}
		id := fmt.Sprintf("%s-%d-%d", src.Topic, src.Partition, src.Offset)
		b.docs = append(b.docs, doc{day: ts.UTC().Format("2006.01.02"), id: id, body: body})
	}
}

// bulkFilter is the filter_path the ingester's sink sends with its bulk
// requests: Elasticsearch renders the same response for the ceiling.
const bulkFilter = "errors,items.*.status,items.*.error,error,status"

// settle deletes the indices of the phase name, then waits, up to a
// minute, until the node uses less than a tenth of a core.
func (b *bench) settle(name string) {
	del(b.es + "/" + b.run + "-" + name + "-*")
	start := time.Now()
	for time.Since(start) < time.Minute {
		if b.nodeCPU(func() { time.Sleep(time.Second) }) < 10 {
			break
		}
	}
	fmt.Printf("node quiet after %.1fs\n", time.Since(start).Seconds())
}

// nodeCPU runs f and returns the Elasticsearch node's CPU use meanwhile,
// in percent of one core (from the node's process stats): how busy the
// node was tells a CPU-bound run from one that left it waiting.
func (b *bench) nodeCPU(f func()) float64 {
	millis := func() float64 {
		resp, err := http.Get(b.es + "/_nodes/_local/stats/process?filter_path=nodes.*.process.cpu.total_in_millis")
		must(err)
		defer resp.Body.Close()
		var r struct {
			Nodes map[string]struct {
				Process struct {
					CPU struct {
						TotalInMillis float64 `json:"total_in_millis"`
					} `json:"cpu"`
				} `json:"process"`
			} `json:"nodes"`
		}
		must(json.NewDecoder(resp.Body).Decode(&r))
		for _, n := range r.Nodes {
			return n.Process.CPU.TotalInMillis
		}
		die("no node in the process stats")
		return 0
	}
	c0, t0 := millis(), time.Now()
	f()
	return 100 * (millis() - c0) / float64(time.Since(t0).Milliseconds())
}

func (b *bench) bulk(body []byte) {
	resp, err := http.Post(b.es+"/_bulk?filter_path="+bulkFilter, "application/x-ndjson", bytes.NewReader(body))
	must(err)
	defer resp.Body.Close()
	var r struct {
		Errors bool `json:"errors"`
	}
	must(json.NewDecoder(resp.Body).Decode(&r))
	if resp.StatusCode != 200 || r.Errors {
		die("bulk request failed: HTTP %d, errors=%v", resp.StatusCode, r.Errors)
	}
}

// endToEnd runs the ingest binary on the backlog, against the Elasticsearch
// at esURL, with a group and index prefix of its own (run-name) until every
// record is consumed and none is in flight, sampling its resident memory; it
// returns records per second, timed from the first record consumed
// (start-up is printed on its own), the peak resident set size in bytes and
// the average duration of a bulk request.
func (b *bench) endToEnd(bin string, n int, name, esURL string) (float64, int64, time.Duration) {
	prefix := b.run + "-" + name
	b.phases = append(b.phases, name)
	metrics := freeAddr()
	env := append(os.Environ(), "ELASTICSEARCH_URL="+esURL,
		"KAFKA_TOPIC="+b.topic(), "KAFKA_GROUP="+prefix, "ELASTICSEARCH_INDEX="+prefix,
		"METRICS_ADDR="+metrics, "BATCH_SIZE="+strconv.Itoa(b.batch), "BULK_WORKERS="+strconv.Itoa(b.workers))
	setup := exec.Command(bin, "setup")
	setup.Env, setup.Stderr = env, os.Stderr
	must(setup.Run())

	logPath := filepath.Join(os.TempDir(), b.run+"-ingest.log")
	logFile, err := os.Create(logPath)
	must(err)
	defer logFile.Close()
	cmd := exec.Command(bin, "run")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	start := time.Now()
	must(cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var peak int64
	var first time.Time // when the first record was consumed: start-up (group join) ends
	var elapsed, bulkLat time.Duration
	for {
		select {
		case err := <-done:
			die("ingest exited before catching up (%v); log: %s", err, logPath)
		case <-time.After(200 * time.Millisecond):
		}
		peak = max(peak, testenv.ResidentBytes(cmd.Process.Pid))
		consumed, inflight, lat, ok := progress(metrics)
		bulkLat = lat
		if ok && consumed > 0 && first.IsZero() {
			first = time.Now()
			fmt.Printf("ingest consuming after %.1fs of start-up (template check, group join; %s run)\n", first.Sub(start).Seconds(), name)
		}
		if ok && consumed >= float64(n) && inflight == 0 {
			elapsed = time.Since(first)
			break
		}
	}
	peak = max(peak, testenv.ResidentBytes(cmd.Process.Pid))
	if cpu := cpuSeconds(cmd.Process.Pid); cpu > 0 {
		fmt.Printf("ingest CPU time (%s run): %.1fs, %.1f µs per record\n", name, cpu, cpu/float64(n)*1e6)
	}
	must(cmd.Process.Signal(syscall.SIGTERM))
	if err := <-done; err != nil {
		die("ingest did not stop cleanly: %v; log: %s", err, logPath)
	}
	os.Remove(logPath)
	return float64(n) / elapsed.Seconds(), peak, bulkLat
}

// bulkStub serves, at a local address it returns, the Elasticsearch API for
// the ingest alone phase: bulk requests are answered at once as if every
// document were created, and nothing is indexed; everything else (the
// template check at start) goes on to the real node.
func (b *bench) bulkStub() (string, func()) {
	node, err := url.Parse(b.es)
	must(err)
	proxy := httputil.NewSingleHostReverseProxy(node)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/_bulk") {
			proxy.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var resp bytes.Buffer
		resp.WriteString(`{"errors":false,"items":[`)
		for i := range bytes.Count(body, []byte("\n")) / 2 { // an action line and a document per item
			if i > 0 {
				resp.WriteByte(',')
			}
			resp.WriteString(`{"create":{"status":201}}`)
		}
		resp.WriteString("]}")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Elastic-Product", "Elasticsearch") // the Go client checks it
		w.Write(resp.Bytes())
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go srv.Serve(l)
	return "http://" + l.Addr().String(), func() { srv.Close() }
}

// progress reads records consumed and in flight, and the average duration
// of a bulk request so far, from the ingester's metrics.
func progress(addr string) (consumed, inflight float64, bulk time.Duration, ok bool) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, 0, 0, false
	}
	defer resp.Body.Close()
	var seen int
	var sum, count float64
	s := bufio.NewScanner(resp.Body)
	for s.Scan() {
		name, value, found := strings.Cut(s.Text(), " ")
		if !found {
			continue
		}
		switch name {
		case "sdtriage_records_consumed_total":
			consumed, _ = strconv.ParseFloat(value, 64)
			seen++
		case "sdtriage_records_in_flight":
			inflight, _ = strconv.ParseFloat(value, 64)
			seen++
		case "sdtriage_bulk_request_duration_seconds_sum":
			sum, _ = strconv.ParseFloat(value, 64)
		case "sdtriage_bulk_request_duration_seconds_count":
			count, _ = strconv.ParseFloat(value, 64)
		}
	}
	if count > 0 {
		bulk = time.Duration(sum / count * 1e9).Round(time.Millisecond)
	}
	return consumed, inflight, bulk, seen == 2
}

// cpuSeconds returns the user and system CPU time pid has used, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s), or 0.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after it don't.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

// putTemplate installs the ingester's index template for prefix, so that the
// index ceiling indexes into the same mappings as the ingester.
func (b *bench) putTemplate(prefix string) error {
	cmd := exec.Command("bin/ingest", "setup")
	cmd.Env = append(os.Environ(), "ELASTICSEARCH_INDEX="+prefix)
	cmd.Stderr = io.Discard
	return cmd.Run()
}

// cleanup removes the run's topic, indices and templates.
func (b *bench) cleanup() {
	if conn, err := kafka.Dial("tcp", b.brokers[0]); err == nil {
		if ctrl, err := conn.Controller(); err == nil {
			if cc, err := kafka.Dial("tcp", net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port))); err == nil {
				cc.DeleteTopics(b.topic())
				cc.Close()
			}
		}
		conn.Close()
	}
	for _, name := range b.phases {
		p := b.run + "-" + name
		del(b.es + "/" + p + "-*")
		del(b.es + "/_index_template/" + p)
	}
}

func del(url string) {
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer l.Close()
	return l.Addr().String()
}

func env(name string) string {
	v := os.Getenv(name)
	if v == "" {
		die("%s is not set: run through `make bench`, or export what `make up` prints", name)
	}
	return v
}

func must(err error) {
	if err != nil {
		die("%v", err)
	}
}

// atExit removes what the run created; die calls it too.
var atExit = func() {}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "e2ebench: "+format+"\n", args...)
	atExit()
	os.Exit(1)
}
