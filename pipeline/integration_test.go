package pipeline_test

// Integration tests against the real Kafka broker and Elasticsearch node
// (internal/testenv: skipped without KAFKA_BROKERS and ELASTICSEARCH_URL,
// failing under CI=true). They are the contract suite of issue 4: every
// record acknowledged exactly once, nothing lost on restart. Each uses its
// own topics, group and index prefix, so they run in parallel: most of
// their time is spent waiting for group joins, commits and restarts.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/sdtriage/sdtriage/classify"
	"github.com/sdtriage/sdtriage/internal/testenv"
	"github.com/sdtriage/sdtriage/internal/traffic"
	"github.com/sdtriage/sdtriage/pipeline"
	"github.com/sdtriage/sdtriage/rules"
)

// env is one test's servers and names: a topic, its dead-letter topic, a
// consumer group and an index prefix, all unique to the test and removed
// after it (testenv.Name).
type env struct {
	t       *testing.T
	brokers []string
	esURL   string
	es      *elasticsearch.Client
	topic   string
	dlq     string
	group   string
	index   string
}

// newEnv returns the environment of a test: a topic of the given number of
// partitions (none: the topic does not exist) and its dead-letter topic.
func newEnv(t *testing.T, partitions int) *env {
	return newEnvWith(t, partitions, testenv.Elasticsearch(t))
}

// newEnvWith is newEnv with the Elasticsearch node at esURL.
func newEnvWith(t *testing.T, partitions int, esURL string) *env {
	brokers := testenv.Kafka(t)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}, DisableRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	name := testenv.Name(t)
	e := &env{t: t, brokers: brokers, esURL: esURL, es: es,
		topic: name, dlq: name + ".dlq", group: name + "-group", index: name}
	topics := []kafka.TopicConfig{{Topic: e.dlq, NumPartitions: 1, ReplicationFactor: 1}}
	if partitions > 0 {
		topics = append(topics, kafka.TopicConfig{Topic: e.topic, NumPartitions: partitions, ReplicationFactor: 1})
	}
	e.createTopics(topics...)
	return e
}

func (e *env) createTopics(topics ...kafka.TopicConfig) {
	e.t.Helper()
	conn, err := kafka.Dial("tcp", e.brokers[0])
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	ctrl, err := conn.Controller()
	if err != nil {
		e.t.Fatal(err)
	}
	cc, err := kafka.Dial("tcp", net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port)))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cc.Close()
	if err := cc.CreateTopics(topics...); err != nil {
		e.t.Fatalf("create topics: %v", err)
	}
	// Producing to a topic created a moment ago can fail with Unknown Topic
	// Or Partition.
	for _, tc := range topics {
		e.waitLeaders(tc.Topic, tc.NumPartitions)
	}
}

// addPartitions grows the topic to n partitions.
func (e *env) addPartitions(n int) {
	e.t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(e.brokers...)}
	res, err := c.CreatePartitions(context.Background(), &kafka.CreatePartitionsRequest{
		Topics: []kafka.TopicPartitionsConfig{{Name: e.topic, Count: int32(n)}}})
	if err == nil {
		err = res.Errors[e.topic]
	}
	if err != nil {
		e.t.Fatalf("create partitions: %v", err)
	}
	e.waitLeaders(e.topic, n)
}

// waitLeaders waits until topic has n partitions, each with a leader.
func (e *env) waitLeaders(topic string, n int) {
	e.t.Helper()
	conn, err := kafka.Dial("tcp", e.brokers[0])
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		parts, err := conn.ReadPartitions(topic)
		ready := err == nil && len(parts) == n
		for _, p := range parts {
			ready = ready && p.Leader.ID >= 0 && p.Leader.Host != ""
		}
		if ready {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("topic %s has no leader for each of %d partitions after 30s: %v %v", topic, n, parts, err)
		}
	}
}

// record is a produced record with its label and where it landed.
type record struct {
	key       string
	value     []byte
	unusable  bool
	partition int
	offset    int64
}

// id is the document id the pipeline must give the record.
func (r record) id(topic string) string {
	return fmt.Sprintf("%s-%d-%d", topic, r.partition, r.offset)
}

// generate returns n records of realistic traffic of which a share are not
// JSON objects (marked unusable).
func generate(t *testing.T, n int, unusable float64) []record {
	t.Helper()
	g, err := traffic.New(traffic.Config{Seed: 4, Records: n, UnusableRate: unusable,
		Start: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]record, 0, n)
	for g.More() {
		v := g.Next(nil)
		out = append(out, record{key: strconv.Itoa(len(out)), value: v, unusable: g.Label().Unusable})
	}
	return out
}

// produce writes recs to the topic, keyed by their key (unique in the
// topic), and fills in their partitions and offsets (read back from the
// topic).
func (e *env) produce(recs []record) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(e.brokers...), Topic: e.topic, Balancer: &kafka.Hash{},
		BatchSize: 1000, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll,
		// Not the shared default transport: its cached metadata may predate the topic.
		Transport: &kafka.Transport{}}
	msgs := make([]kafka.Message, len(recs))
	byKey := make(map[string]*record, len(recs))
	for i := range recs {
		msgs[i] = kafka.Message{Key: []byte(recs[i].key), Value: recs[i].value}
		byKey[recs[i].key] = &recs[i]
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		e.t.Fatalf("produce: %v", err)
	}
	if err := w.Close(); err != nil {
		e.t.Fatal(err)
	}
	found := 0
	for _, m := range e.readAll(e.topic) {
		if r := byKey[string(m.Key)]; r != nil {
			r.partition, r.offset = m.Partition, m.Offset
			found++
		}
	}
	if found != len(recs) {
		e.t.Fatalf("read back %d of the %d records produced", found, len(recs))
	}
}

// readAll reads every message of topic, all partitions.
func (e *env) readAll(topic string) []kafka.Message {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []kafka.Message
	for p, end := range e.endOffsets(topic) {
		if end == 0 {
			continue
		}
		conn, err := kafka.DialLeader(ctx, "tcp", e.brokers[0], topic, p)
		if err != nil {
			e.t.Fatal(err)
		}
		for next := int64(0); next < end; {
			if _, err := conn.Seek(next, kafka.SeekAbsolute); err != nil {
				e.t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			batch := conn.ReadBatch(1, 10<<20)
			for {
				m, err := batch.ReadMessage()
				if err != nil {
					break
				}
				out = append(out, m)
				next = m.Offset + 1
			}
			if err := batch.Close(); err != nil {
				e.t.Fatalf("reading %s/%d at %d: %v", topic, p, next, err)
			}
		}
		conn.Close()
	}
	return out
}

// endOffsets returns the end offset of each partition of topic.
func (e *env) endOffsets(topic string) map[int]int64 {
	e.t.Helper()
	conn, err := kafka.Dial("tcp", e.brokers[0])
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		e.t.Fatal(err)
	}
	req := map[string][]kafka.OffsetRequest{}
	for _, p := range parts {
		req[topic] = append(req[topic], kafka.LastOffsetOf(p.ID))
	}
	c := &kafka.Client{Addr: kafka.TCP(e.brokers...)}
	res, err := c.ListOffsets(context.Background(), &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[int]int64{}
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			e.t.Fatal(po.Error)
		}
		out[po.Partition] = po.LastOffset
	}
	return out
}

// committed returns the group's committed offset of each partition (-1
// where nothing is committed).
func (e *env) committed() map[int]int64 {
	e.t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(e.brokers...)}
	parts := []int{}
	for p := range e.endOffsets(e.topic) {
		parts = append(parts, p)
	}
	res, err := c.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: e.group,
		Topics: map[string][]int{e.topic: parts}})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[int]int64{}
	for _, p := range res.Topics[e.topic] {
		out[p.Partition] = p.CommittedOffset
	}
	return out
}

// committedTotal is the number of records below the committed offsets.
func (e *env) committedTotal() int64 {
	var n int64
	for _, off := range e.committed() {
		n += max(off, 0)
	}
	return n
}

// waitCommitted waits until the group has committed every partition to its end.
func (e *env) waitCommitted(timeout time.Duration) {
	e.t.Helper()
	end := e.endOffsets(e.topic)
	deadline := time.Now().Add(timeout)
	for {
		c := e.committed()
		done := true
		for p, off := range end {
			if c[p] != off {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("after %s the group has committed %v, want %v", timeout, c, end)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// indexed returns, for every document under the index prefix, how many
// times its id occurs (across the daily indices). Tests poll it while the
// ingester's first bulk request creates a daily index, and until that
// index's primary shard has started a search answers 503
// (no_shard_available_action_exception): then it waits for the shards and
// searches again from the start.
func (e *env) indexed() map[string]int {
	e.t.Helper()
	for attempt := 1; ; attempt++ {
		ids, unavailable := e.searchIDs()
		if !unavailable {
			return ids
		}
		if attempt == 5 {
			e.t.Fatalf("search: shards of %s-* still unavailable after %d attempts", e.index, attempt)
		}
		health := esapi.ClusterHealthRequest{Index: []string{e.index + "-*"}, WaitForStatus: "yellow", Timeout: 30 * time.Second}
		res, err := health.Do(context.Background(), e.es)
		if err != nil {
			e.t.Fatal(err)
		}
		res.Body.Close()
	}
}

// searchIDs is one pass of indexed; unavailable reports a 503, after
// which ids is incomplete.
func (e *env) searchIDs() (ids map[string]int, unavailable bool) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := (esapi.IndicesRefreshRequest{Index: []string{e.index + "-*"}}).Do(ctx, e.es); err != nil {
		e.t.Fatal(err)
	}
	ids = map[string]int{}
	var searchAfter json.RawMessage
	for {
		q := map[string]any{"size": 5000, "_source": false, "sort": []any{map[string]any{"kafka.offset": "asc"}, map[string]any{"kafka.partition": "asc"}, map[string]any{"_index": "asc"}}}
		if searchAfter != nil {
			q["search_after"] = searchAfter
		}
		body, _ := json.Marshal(q)
		res, err := esapi.SearchRequest{Index: []string{e.index + "-*"}, Body: bytes.NewReader(body)}.Do(ctx, e.es)
		if err != nil {
			e.t.Fatal(err)
		}
		var out struct {
			Hits struct {
				Hits []struct {
					ID   string          `json:"_id"`
					Sort json.RawMessage `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode == 404:
			return ids, false
		case res.StatusCode == 503:
			return ids, true
		case res.IsError():
			e.t.Fatalf("search: %s", b)
		}
		if err := json.Unmarshal(b, &out); err != nil {
			e.t.Fatal(err)
		}
		if len(out.Hits.Hits) == 0 {
			return ids, false
		}
		for _, h := range out.Hits.Hits {
			ids[h.ID]++
		}
		searchAfter = out.Hits.Hits[len(out.Hits.Hits)-1].Sort
	}
}

// deadLetters returns the dead-letter messages by their original key.
func (e *env) deadLetters() map[string][]kafka.Message {
	out := map[string][]kafka.Message{}
	for _, m := range e.readAll(e.dlq) {
		out[string(m.Key)] = append(out[string(m.Key)], m)
	}
	return out
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// checkExactlyOnce checks that every usable record in recs is indexed
// exactly once under its deterministic id and that nothing else is, and
// that every unusable one is in the dead-letter topic with its reason.
// Dead letters are at least once: a crash between writing them and the
// commit repeats them.
func (e *env) checkExactlyOnce(recs []record) {
	e.t.Helper()
	ids := e.indexed()
	dead := e.deadLetters()
	want := 0
	for _, r := range recs {
		id := r.id(e.topic)
		if r.unusable {
			ms := dead[r.key]
			if len(ms) == 0 {
				e.t.Errorf("unusable record %s (%.40q) is not in the dead-letter topic", id, r.value)
				continue
			}
			m := ms[0]
			if got := header(m, pipeline.HeaderReason); got != pipeline.ReasonNotObject {
				e.t.Errorf("dead letter %s: reason %q, want %q", id, got, pipeline.ReasonNotObject)
			}
			if header(m, pipeline.HeaderTopic) != e.topic || header(m, pipeline.HeaderPartition) != strconv.Itoa(r.partition) ||
				header(m, pipeline.HeaderOffset) != strconv.FormatInt(r.offset, 10) {
				e.t.Errorf("dead letter %s has provenance headers %v", id, m.Headers)
			}
			if !bytes.Equal(m.Value, r.value) {
				e.t.Errorf("dead letter %s holds %q, want the original %q", id, m.Value, r.value)
			}
			if ids[id] != 0 {
				e.t.Errorf("unusable record %s was indexed", id)
			}
			continue
		}
		want++
		if n := ids[id]; n != 1 {
			e.t.Errorf("record %s indexed %d times, want once", id, n)
		}
		if len(dead[r.key]) != 0 {
			e.t.Errorf("usable record %s is in the dead-letter topic", id)
		}
	}
	total := 0
	for _, n := range ids {
		total += n
	}
	if total != want {
		e.t.Errorf("%d documents indexed, want %d", total, want)
	}
	unusable := map[string]bool{}
	for _, r := range recs {
		unusable[r.key] = r.unusable
	}
	for key := range dead {
		if !unusable[key] {
			e.t.Errorf("record %s is in the dead-letter topic but should not be", key)
		}
	}
}

// options returns pipeline options for e with small batches.
func (e *env) options(t *testing.T) pipeline.Options {
	c, err := classify.New(rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.Options{
		Brokers: e.brokers, Topic: e.topic, Group: e.group, DLQTopic: e.dlq,
		Elasticsearch: e.es, Index: e.index, Classifier: c,
		BatchSize: 500, BatchBytes: 1 << 20, FlushInterval: 100 * time.Millisecond,
		MaxInFlight: 4000, Workers: 2, CommitInterval: 100 * time.Millisecond, ShutdownTimeout: 20 * time.Second,
		Metrics: pipeline.NewMetrics(prometheus.NewRegistry()),
		Logger:  zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)),
	}
}

// setup installs the index template.
func (e *env) setup() {
	e.t.Helper()
	if err := pipeline.Setup(context.Background(), e.es, e.index, 24*time.Hour, zap.NewNop()); err != nil {
		e.t.Fatal(err)
	}
}

// start runs p until the returned stop is called; stop returns Run's error.
func start(p *pipeline.Pipeline) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() error { cancel(); return <-done }
}

func TestIngestExactlyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.dlq = e.topic + ".dlq-by-run" // not created by the test: Run must create it
	e.setup()
	recs := generate(t, 20000, 0.02)
	e.produce(recs)
	stop := start(pipeline.New(e.options(t)))
	e.waitCommitted(2 * time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.checkExactlyOnce(recs)
	unusable := 0
	for _, r := range recs {
		if r.unusable {
			unusable++
		}
	}
	if unusable < 300 {
		t.Fatalf("only %d unusable records of 20000: the test needs about 2%%", unusable)
	}
}

// TestIngestRejectedDocument makes Elasticsearch reject documents for good
// with a field type conflict (an index whose mapping says service.name is a
// number, as after a careless manual change) and checks that they go to the
// dead-letter topic while the partition keeps moving.
func TestIngestRejectedDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	e.setup()
	conflict := e.index + "-2001.01.01"
	res, err := esapi.IndicesCreateRequest{Index: conflict, Body: strings.NewReader(
		`{"mappings":{"properties":{"service":{"properties":{"name":{"type":"long"}}}}}}`)}.Do(context.Background(), e.es)
	if err != nil || res.IsError() {
		t.Fatalf("creating %s: %v %v", conflict, err, res)
	}
	res.Body.Close()

	recs := generate(t, 1000, 0)
	rejected := map[string]bool{}
	for i := 100; i < len(recs); i += 100 {
		recs[i].value = []byte(`{"@timestamp":"2001-01-01T12:00:00Z","service":"checkout","status":500,` +
			`"url":"https://api.stability.ai/v2beta/stable-image/generate/core","error":"internal error"}`)
		rejected[recs[i].key] = true
	}
	e.produce(recs)
	stop := start(pipeline.New(e.options(t)))
	e.waitCommitted(time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	ids := e.indexed()
	dead := e.deadLetters()
	for _, r := range recs {
		id := r.id(e.topic)
		if !rejected[r.key] {
			if ids[id] != 1 {
				t.Errorf("record %s indexed %d times, want once", id, ids[id])
			}
			continue
		}
		if ids[id] != 0 {
			t.Errorf("conflicting record %s was indexed", id)
		}
		if len(dead[r.key]) != 1 {
			t.Errorf("conflicting record %s is %d times in the dead-letter topic, want once", id, len(dead[r.key]))
			continue
		}
		m := dead[r.key][0]
		if got := header(m, pipeline.HeaderReason); got != pipeline.ReasonESRejected {
			t.Errorf("dead letter %s: reason %q, want %q", id, got, pipeline.ReasonESRejected)
		}
		if got := header(m, pipeline.HeaderError); !strings.Contains(got, "failed to parse field [service.name] of type [long]") {
			t.Errorf("dead letter %s: error %q does not name the conflict", id, got)
		}
		if header(m, pipeline.HeaderRuleset) != rules.Default().Version || header(m, pipeline.HeaderTime) == "" {
			t.Errorf("dead letter %s lacks the ruleset or time header: %v", id, m.Headers)
		}
	}
	if len(dead) != len(rejected) {
		t.Errorf("%d records in the dead-letter topic, want %d", len(dead), len(rejected))
	}
}

// binDir holds the ingest binary built for the subprocess tests.
var binDir string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "sdtriage-pipeline-test")
	if err != nil {
		panic(err)
	}
	binDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildErr  error
)

// ingestBinary builds cmd/ingest once per test run.
func ingestBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "ingest")
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", bin, "github.com/sdtriage/sdtriage/cmd/ingest").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ingest: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

// lockedBuffer is a bytes.Buffer safe for a process's output and a test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is a running `ingest` process.
type proc struct {
	cmd     *exec.Cmd
	out     *lockedBuffer
	done    chan struct{}
	metrics string // base URL of /metrics, /healthz, /readyz
}

// ingestEnv is the environment of the ingest binary for e.
func (e *env) ingestEnv(extra ...string) []string {
	env := append(os.Environ(),
		"KAFKA_BROKERS="+strings.Join(e.brokers, ","), "KAFKA_TOPIC="+e.topic, "KAFKA_GROUP="+e.group,
		"KAFKA_DLQ_TOPIC="+e.dlq, "ELASTICSEARCH_URL="+e.esURL, "ELASTICSEARCH_INDEX="+e.index,
		"FLUSH_INTERVAL=100ms", "COMMIT_INTERVAL=200ms")
	return append(env, extra...)
}

// runSetup runs `ingest setup` and fails the test unless it exits 0.
func (e *env) runSetup() {
	e.t.Helper()
	cmd := exec.Command(ingestBinary(e.t), "setup")
	cmd.Env = e.ingestEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("ingest setup: %v\n%s", err, out)
	}
}

// startIngest starts `ingest run` with extra environment variables.
func (e *env) startIngest(extra ...string) *proc {
	e.t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(e.t))
	cmd := exec.Command(ingestBinary(e.t), "run")
	cmd.Env = e.ingestEnv(append(extra, "METRICS_ADDR="+addr)...)
	p := &proc{cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{}), metrics: "http://" + addr}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if e.t.Failed() {
			e.t.Logf("ingest output:\n%s", tail(p.out.String(), 4000))
		}
	})
	return p
}

// stop sends sig and waits up to timeout for the exit; it returns the exit
// code and how long the process took to exit.
func (p *proc) stop(t *testing.T, sig syscall.Signal, timeout time.Duration) (int, time.Duration) {
	t.Helper()
	t0 := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("ingest did not exit within %s of %s", timeout, sig)
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(t0)
}

// stopCleanly sends SIGTERM and fails the test unless the ingester exits 0
// within 30 s.
func (p *proc) stopCleanly(t *testing.T) {
	t.Helper()
	if code, _ := p.stop(t, syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// waitProgress waits until the group has committed at least n records.
func (e *env) waitProgress(n int64, timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for e.committedTotal() < n {
		if time.Now().After(deadline) {
			e.t.Fatalf("fewer than %d records committed after %s", n, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestIngestSIGKILLRestart kills the ingester mid-stream, with no chance
// to flush or commit, and restarts it: nothing lost, nothing duplicated.
func TestIngestSIGKILLRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.runSetup()
	recs := generate(t, 20000, 0.02)
	e.produce(recs)
	slow := []string{"BATCH_SIZE=100", "BULK_WORKERS=1", "MAX_IN_FLIGHT=1000"}
	p := e.startIngest(slow...)
	e.waitProgress(3000, time.Minute)
	p.stop(t, syscall.SIGKILL, 10*time.Second)
	if n := e.committedTotal(); n >= int64(len(recs)) {
		t.Fatalf("all %d records were committed before the kill: the test did not kill mid-stream", n)
	}
	p = e.startIngest()
	e.waitCommitted(2 * time.Minute)
	p.stopCleanly(t)
	e.checkExactlyOnce(recs)
}

// TestIngestCommitsWhenPartitionsMove: with periodic commits far away
// (COMMIT_INTERVAL=1h), a second member joining the group makes the first
// give up partitions, and it commits what it has indexed as it does: the
// group's offsets reach the end of the topic while both still run. The
// new owner then has nothing to fetch again.
func TestIngestCommitsWhenPartitionsMove(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	e.runSetup()
	recs := generate(t, 4000, 0)
	e.produce(recs)
	a := e.startIngest("COMMIT_INTERVAL=1h")
	deadline := time.Now().Add(time.Minute)
	for len(e.indexed()) < len(recs) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records indexed after a minute", len(e.indexed()), len(recs))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := e.committedTotal(); n != 0 {
		t.Fatalf("%d records committed before the rebalance: the test needs the periodic commit not to have run", n)
	}
	b := e.startIngest("COMMIT_INTERVAL=1h")
	e.waitCommitted(time.Minute)
	if !strings.Contains(a.out.String(), "partitions given up") {
		t.Errorf("the first member's log does not say it gave partitions up")
	}
	for _, p := range []*proc{b, a} {
		p.stopCleanly(t)
	}
	e.checkExactlyOnce(recs)
}

// TestIngestTakesUpAddedPartitions grows the topic while the ingester
// runs: the records of the new partitions are indexed without a restart,
// and nothing is lost or duplicated.
func TestIngestTakesUpAddedPartitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	e.runSetup()
	recs := generate(t, 4000, 0)
	e.produce(recs[:2000])
	p := e.startIngest()
	e.waitCommitted(time.Minute)
	e.addPartitions(4)
	e.produce(recs[2000:])
	added := 0
	for _, r := range recs[2000:] {
		if r.partition >= 2 {
			added++
		}
	}
	if added == 0 {
		t.Fatal("no record went to the added partitions: the test proves nothing")
	}
	e.waitCommitted(time.Minute)
	p.stopCleanly(t)
	e.checkExactlyOnce(recs)
}

// TestIngestWaitsForMissingTopic starts the ingester on a topic that does
// not exist yet (the test broker creates no topic by itself, as production
// brokers usually don't): it says so, does not join the group again and
// again meanwhile, and consumes the topic once it is created.
func TestIngestWaitsForMissingTopic(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	e.runSetup()
	p := e.startIngest()
	// The first join of a group on a new broker waits for the offsets
	// topic to be created: allow for it.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(p.out.String(), "the topic does not exist"); {
		if time.Now().After(deadline) {
			t.Fatal("after 30 s the ingester has not said that the topic does not exist")
		}
		time.Sleep(100 * time.Millisecond)
	}
	before := strings.Count(p.out.String(), `"partitions assigned"`)
	time.Sleep(3 * time.Second)
	if n := strings.Count(p.out.String(), `"partitions assigned"`) - before; n > 1 {
		t.Errorf("the ingester took %d generations of the group in 3 s while the topic was missing: it joins again without a pause", n)
	}
	e.createTopics(kafka.TopicConfig{Topic: e.topic, NumPartitions: 2, ReplicationFactor: 1})
	recs := generate(t, 1000, 0)
	e.produce(recs)
	e.waitCommitted(time.Minute)
	p.stopCleanly(t)
	if !strings.Contains(p.out.String(), "the topic exists now") {
		t.Errorf("the ingester did not say that the topic exists now")
	}
	e.checkExactlyOnce(recs)
}

// TestIngestSIGTERM stops the ingester mid-stream with SIGTERM: it exits 0
// within SHUTDOWN_TIMEOUT, and everything it consumed is indexed (or
// dead-lettered) and committed, nothing beyond.
func TestIngestSIGTERM(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.runSetup()
	recs := generate(t, 20000, 0.02)
	e.produce(recs)
	const deadline = 10 * time.Second
	p := e.startIngest("BATCH_SIZE=100", "BULK_WORKERS=1", "MAX_IN_FLIGHT=2000", "SHUTDOWN_TIMEOUT="+deadline.String())
	e.waitProgress(2000, time.Minute)

	if code, body := httpGet(t, p.metrics+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := httpGet(t, p.metrics+"/readyz"); code != 200 {
		t.Errorf("/readyz: %d %s", code, body)
	}
	// A partition's lag is known from its first fetched chunk on, which may
	// come after other partitions' first 2,000 records: wait for it.
	want := []string{"sdtriage_records_consumed_total", "sdtriage_records_indexed_total",
		`sdtriage_records_classified_total{category="",outcome="success",reason=""}`, "sdtriage_records_in_flight",
		`sdtriage_consumer_lag{partition="0"}`, "sdtriage_bulk_request_duration_seconds_bucket"}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, metrics := httpGet(t, p.metrics+"/metrics")
		var missing []string
		for _, name := range want {
			if !strings.Contains(metrics, name) {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("/metrics has no %s", strings.Join(missing, ", "))
			break
		}
	}

	code, took := p.stop(t, syscall.SIGTERM, deadline+5*time.Second)
	if code != 0 || took > deadline {
		t.Fatalf("after SIGTERM: exit code %d after %s, want 0 within %s", code, took, deadline)
	}
	if !strings.Contains(p.out.String(), "stopped cleanly") {
		t.Errorf("the log does not say the shutdown was clean")
	}
	committed := e.committed()
	var consumed []record
	for _, r := range recs {
		if r.offset < committed[r.partition] {
			consumed = append(consumed, r)
		}
	}
	if len(consumed) == len(recs) {
		t.Fatal("everything was consumed before SIGTERM: the test did not stop mid-stream")
	}
	t.Logf("SIGTERM after %d of %d records; exit after %s", len(consumed), len(recs), took)
	e.checkExactlyOnce(consumed)
}

// TestIngestElasticsearchOutage stops Elasticsearch for 20 s mid-stream:
// the ingester says it is not ready, commits nothing it has not indexed,
// and recovers by itself when the node is back. The node is a private one
// started by testenv.sh for this test, so the shared node other tests use
// is never stopped.
func TestIngestElasticsearchOutage(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts its own Elasticsearch node and stops it for 20 s")
	}
	testenv.Elasticsearch(t) // the shared servers' settings: skip or fail as the other tests do
	node := startPrivateElasticsearch(t)
	e := newEnvWith(t, 3, node.url)
	e.setup()
	recs := generate(t, 20000, 0.02)
	e.produce(recs)
	o := e.options(t)
	o.BatchSize, o.Workers = 100, 1
	p := pipeline.New(o)
	stop := start(p)
	e.waitProgress(3000, time.Minute)

	node.run("stop")
	t0 := time.Now()
	time.Sleep(3 * time.Second)
	if p.Ready() {
		t.Error("Ready() is true with Elasticsearch stopped")
	}
	before := e.committedTotal()
	time.Sleep(20*time.Second - time.Since(t0))
	if after := e.committedTotal(); after != before {
		t.Errorf("commits moved from %d to %d while Elasticsearch was down", before, after)
	}
	if before >= int64(len(recs)) {
		t.Fatal("everything was committed before Elasticsearch stopped: the outage was not mid-stream")
	}
	node.run("start")
	e.waitCommitted(3 * time.Minute)
	if !p.Ready() {
		t.Error("Ready() is false after the recovery")
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.checkExactlyOnce(recs)
}

// privateNode is an Elasticsearch node of one test, run by testenv.sh with
// its own ports and state folder.
type privateNode struct {
	t   *testing.T
	env []string
	url string
}

// startPrivateElasticsearch starts a node that is stopped, and its data
// removed, when the test ends.
func startPrivateElasticsearch(t *testing.T) *privateNode {
	port := testenv.FreePort(t)
	n := &privateNode{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", port), env: append(os.Environ(),
		"SDTRIAGE_STATE="+t.TempDir(), "ES_PORT="+strconv.Itoa(port),
		"ES_TRANSPORT_PORT="+strconv.Itoa(testenv.FreePort(t)), "ES_HEAP=512m")}
	t.Cleanup(func() { n.run("stop") })
	n.run("start")
	return n
}

// run runs testenv.sh ACTION elasticsearch for the node.
func (n *privateNode) run(action string) {
	n.t.Helper()
	cmd := exec.Command("bash", filepath.Join("..", "testenv", "testenv.sh"), action, "elasticsearch")
	cmd.Env = n.env
	if out, err := cmd.CombinedOutput(); err != nil {
		n.t.Fatalf("testenv.sh %s elasticsearch: %v\n%s", action, err, out)
	}
}

// TestIngestSASL consumes through the broker's SASL_SSL listener with each
// SASL mechanism, trusting the test CA (testenv.KafkaSASL), and
// dead-letters through it too.
func TestIngestSASL(t *testing.T) {
	t.Parallel()
	sasl := testenv.KafkaSASL(t)
	e := newEnv(t, 1)
	e.runSetup()
	recs := generate(t, 500, 0.02)
	e.produce(recs)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		e.group = e.topic + "-" + strings.ToLower(mech)
		p := e.startIngest("KAFKA_BROKERS="+strings.Join(sasl.Brokers, ","), "KAFKA_GROUP="+e.group,
			"KAFKA_SASL_MECHANISM="+mech, "KAFKA_USERNAME="+sasl.Username, "KAFKA_PASSWORD="+sasl.Password,
			"KAFKA_CA_FILE="+sasl.CAFile)
		e.waitCommitted(time.Minute)
		if code, _ := p.stop(t, syscall.SIGTERM, 30*time.Second); code != 0 {
			t.Fatalf("%s: exit code %d after SIGTERM, want 0", mech, code)
		}
		if strings.Contains(p.out.String(), sasl.Password) {
			t.Errorf("%s: the log shows the SASL password", mech)
		}
	}
	e.checkExactlyOnce(recs)
}

// TestIngestStopsOnAuthenticationError answers every bulk request with 401
// (an Elasticsearch whose API key was revoked): Run stops with a clear
// error and commits nothing.
func TestIngestStopsOnAuthenticationError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	recs := generate(t, 200, 0)
	e.produce(recs)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"type":"security_exception","reason":"api key [k1] has been invalidated"},"status":401}`)
	}))
	defer srv.Close()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}, DisableRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	o := e.options(t)
	o.Elasticsearch = es
	done := make(chan error, 1)
	go func() { done <- pipeline.New(o).Run(context.Background()) }()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not stop within a minute of a 401")
	}
	var fatal *pipeline.FatalError
	if !errors.As(err, &fatal) || fatal.Status != 401 || !strings.Contains(err.Error(), "api key [k1] has been invalidated") {
		t.Fatalf("Run = %v, want the 401 FatalError", err)
	}
	if n := e.committedTotal(); n != 0 {
		t.Errorf("%d records committed after a 401, want none", n)
	}
}

// TestSetup installs the template twice (idempotent) and checks what
// CheckSetup says about a missing, an outdated and a current template.
func TestSetup(t *testing.T) {
	t.Parallel()
	url := testenv.Elasticsearch(t)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	prefix := testenv.Name(t)

	if err := pipeline.CheckSetup(ctx, es, prefix); !errors.Is(err, pipeline.ErrNotSetUp) ||
		!strings.Contains(err.Error(), "is missing: run `ingest setup`") {
		t.Errorf("CheckSetup without a template = %v, want it missing", err)
	}
	for range 2 {
		if err := pipeline.Setup(ctx, es, prefix, 24*time.Hour, zaptest.NewLogger(t)); err != nil {
			t.Fatalf("Setup: %v", err)
		}
	}
	if err := pipeline.CheckSetup(ctx, es, prefix); err != nil {
		t.Errorf("CheckSetup after Setup: %v", err)
	}
	old := pipeline.Template(prefix, "")
	old["version"] = pipeline.TemplateVersion - 1
	body, _ := json.Marshal(old)
	if res, err := (esapi.IndicesPutIndexTemplateRequest{Name: prefix, Body: bytes.NewReader(body)}).Do(ctx, es); err != nil || res.IsError() {
		t.Fatalf("installing an old template: %v %v", err, res)
	}
	if err := pipeline.CheckSetup(ctx, es, prefix); !errors.Is(err, pipeline.ErrNotSetUp) || !strings.Contains(err.Error(), "is outdated") {
		t.Errorf("CheckSetup with an old template = %v, want it outdated", err)
	}
}
