package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/sdtriage/sdtriage/classify"
	"github.com/sdtriage/sdtriage/internal/cpuclock"
	"github.com/sdtriage/sdtriage/internal/traffic"
	"github.com/sdtriage/sdtriage/rules"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseBulkResponse(t *testing.T) {
	tests := []struct {
		file     string
		statuses []int
		types    []string
		outcomes []outcome
	}{
		{"bulk_created.json", []int{201, 201}, []string{"", ""}, []outcome{outcomeDone, outcomeDone}},
		{"bulk_mixed.json", []int{400, 201, 409},
			[]string{"document_parsing_exception", "", "version_conflict_engine_exception"},
			[]outcome{outcomeReject, outcomeDone, outcomeDone}},
		{"bulk_unavailable.json", []int{503, 201}, []string{"unavailable_shards_exception", ""}, []outcome{outcomeRetry, outcomeDone}},
		{"bulk_rejected_execution.json", []int{429, 201}, []string{"es_rejected_execution_exception", ""}, []outcome{outcomeRetry, outcomeDone}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseBulkResponse(readFixture(t, tt.file), len(tt.statuses), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range got {
				if r.status != tt.statuses[i] || r.errType != tt.types[i] {
					t.Errorf("item %d = %d %q, want %d %q", i, r.status, r.errType, tt.statuses[i], tt.types[i])
				}
				if o := itemOutcome(r.status, r.errType); o != tt.outcomes[i] {
					t.Errorf("item %d outcome = %d, want %d", i, o, tt.outcomes[i])
				}
			}
		})
	}
}

func TestParseBulkResponseCause(t *testing.T) {
	got, err := parseBulkResponse(readFixture(t, "bulk_mixed.json"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `[1:20] failed to parse field [service.name] of type [long] in document with id 't-0-2'. ` +
		`Preview of field's value: 'checkout': For input string: "checkout"`
	if got[0].reason != want {
		t.Errorf("reason = %q\nwant %q", got[0].reason, want)
	}
}

func TestParseBulkResponseMalformed(t *testing.T) {
	tests := []struct {
		name string
		body string
		n    int
	}{
		{"not JSON", `<html>502 Bad Gateway</html>`, 1},
		{"no items", `{"errors":false}`, 1},
		{"fewer items, no errors", string(readFixture(t, "bulk_created.json")), 3},
		{"fewer items, errors", string(readFixture(t, "bulk_mixed.json")), 4},
		{"more items", string(readFixture(t, "bulk_mixed.json")), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseBulkResponse([]byte(tt.body), tt.n, nil); !errors.Is(err, errBadBulkResponse) {
				t.Errorf("err = %v, want errBadBulkResponse", err)
			}
		})
	}
}

func FuzzParseBulkResponse(f *testing.F) {
	for _, name := range []string{"bulk_created.json", "bulk_mixed.json", "bulk_unavailable.json", "bulk_rejected_execution.json"} {
		f.Add(readFixture(f, name), 2)
	}
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		n = n & 0xff
		got, err := parseBulkResponse(body, n, nil)
		if err == nil && len(got) != n {
			t.Fatalf("%d items for %d documents without an error", len(got), n)
		}
	})
}

func TestItemOutcome(t *testing.T) {
	tests := []struct {
		status  int
		errType string
		want    outcome
	}{
		{200, "", outcomeDone},
		{201, "", outcomeDone},
		{409, "version_conflict_engine_exception", outcomeDone},
		{429, "es_rejected_execution_exception", outcomeRetry},
		{429, "circuit_breaking_exception", outcomeRetry},
		{500, "", outcomeRetry},
		{503, "unavailable_shards_exception", outcomeRetry},
		{403, "cluster_block_exception", outcomeRetry},
		{400, "document_parsing_exception", outcomeReject},
		{400, "mapper_parsing_exception", outcomeReject},
		{400, "illegal_argument_exception", outcomeReject},
		{413, "", outcomeReject},
		{401, "security_exception", outcomeFatal},
		{403, "security_exception", outcomeFatal},
		{404, "index_not_found_exception", outcomeFatal},
	}
	for _, tt := range tests {
		if got := itemOutcome(tt.status, tt.errType); got != tt.want {
			t.Errorf("itemOutcome(%d, %q) = %d, want %d", tt.status, tt.errType, got, tt.want)
		}
	}
}

// fixedDoc renders doc with timestamp ts.
func fixedDoc(doc string, ts time.Time) appendDocFunc {
	return func(dst []byte) ([]byte, time.Time, error) { return append(dst, doc...), ts, nil }
}

func TestBulkBody(t *testing.T) {
	var b bulkBody
	ts := time.Date(2026, 11, 25, 23, 59, 59, 0, time.FixedZone("X", -3600)) // 2026-11-26 in UTC
	if err := b.add("sdtriage", "calls", 2, 41, fixedDoc(`{"a":1}`, ts)); err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	if err := b.add("sdtriage", "calls", 2, 42, func(dst []byte) ([]byte, time.Time, error) {
		return append(dst, "partial"...), time.Time{}, errBoom
	}); !errors.Is(err, errBoom) {
		t.Fatalf("add error = %v, want errBoom", err)
	}
	if err := b.add("sdtriage", "calls", 2, 43, fixedDoc(`{"b":2}`, time.Date(1999, 1, 2, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	if err := b.add("sdtriage", "calls", 2, 44, fixedDoc(`{}`, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))); err == nil {
		t.Error("a timestamp past year 9999 was accepted")
	}
	if err := b.add("sdtriage", "calls", 2, 45, fixedDoc(`{"c":3}`, time.Date(42, 12, 31, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	want := `{"create":{"_index":"sdtriage-2026.11.26","_id":"calls-2-41"}}` + "\n" + `{"a":1}` + "\n" +
		`{"create":{"_index":"sdtriage-1999.01.02","_id":"calls-2-43"}}` + "\n" + `{"b":2}` + "\n" +
		`{"create":{"_index":"sdtriage-0042.12.31","_id":"calls-2-45"}}` + "\n" + `{"c":3}` + "\n"
	if string(b.buf) != want {
		t.Errorf("body:\n%s\nwant:\n%s", b.buf, want)
	}
	if b.len() != 3 {
		t.Fatalf("len = %d, want 3", b.len())
	}
	sub := b.subset([]int{1})
	if got, want := string(sub.buf), `{"create":{"_index":"sdtriage-1999.01.02","_id":"calls-2-43"}}`+"\n"+`{"b":2}`+"\n"; got != want {
		t.Errorf("subset:\n%s\nwant:\n%s", got, want)
	}
}

// fakeES answers bulk requests with the given bodies in turn and records
// the requests.
type fakeES struct {
	mu        sync.Mutex
	responses []fakeResponse
	requests  []string
}

type fakeResponse struct {
	status int
	body   []byte
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, string(b))
	res := f.responses[0]
	if len(f.responses) > 1 {
		f.responses = f.responses[1:]
	}
	f.mu.Unlock()
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(res.status)
	w.Write(res.body)
}

func newTestSink(t *testing.T, h http.Handler) (*sink, *Metrics) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}, DisableRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	s := newSink(client, m, zap.NewNop())
	s.newBackOff = func() backoff.BackOff { return &backoff.ZeroBackOff{} }
	return s, m
}

func twoItemBody(t *testing.T) *bulkBody {
	var b bulkBody
	ts := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for off := int64(0); off < 2; off++ {
		if err := b.add("p", "t", 0, off, fixedDoc(`{"n":1}`, ts)); err != nil {
			t.Fatal(err)
		}
	}
	return &b
}

func TestSinkRetriesOnlyRetryableItems(t *testing.T) {
	for _, fixture := range []string{"bulk_unavailable.json", "bulk_rejected_execution.json"} {
		t.Run(fixture, func(t *testing.T) {
			es := &fakeES{responses: []fakeResponse{
				{200, readFixture(t, fixture)},               // item 0 must be retried
				{503, []byte(`{"error":"node restarting"}`)}, // the whole request fails
				{200, []byte(`{"errors":false,"items":[{"create":{"status":201}}]}`)},
			}}
			s, m := newTestSink(t, es)
			body := twoItemBody(t)
			rejected, err := s.Write(context.Background(), body)
			if err != nil || len(rejected) != 0 {
				t.Fatalf("Write = %v, %v; want no rejection, no error", rejected, err)
			}
			if len(es.requests) != 3 {
				t.Fatalf("%d requests, want 3", len(es.requests))
			}
			item0 := string(body.item(0))
			if es.requests[1] != item0 || es.requests[2] != item0 {
				t.Errorf("retries sent\n%q\n%q\nwant only item 0:\n%q", es.requests[1], es.requests[2], item0)
			}
			if got := counterValue(t, m.Indexed); got != 2 {
				t.Errorf("indexed = %v, want 2", got)
			}
			if got := counterValue(t, m.Retries); got != 2 {
				t.Errorf("retries = %v, want 2", got)
			}
		})
	}
}

func TestSinkRejectsForGood(t *testing.T) {
	es := &fakeES{responses: []fakeResponse{{200, readFixture(t, "bulk_mixed.json")}}}
	s, _ := newTestSink(t, es)
	var body bulkBody
	for off := int64(0); off < 3; off++ {
		if err := body.add("p", "t", 0, off, fixedDoc(`{}`, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	rejected, err := s.Write(context.Background(), &body)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 1 || rejected[0].item != 0 || rejected[0].status != 400 ||
		!strings.HasPrefix(rejected[0].reason, "document_parsing_exception: [1:20] failed to parse field [service.name]") {
		t.Errorf("rejected = %+v", rejected)
	}
	if len(es.requests) != 1 {
		t.Errorf("%d requests, want 1: a 400 is not retried", len(es.requests))
	}
}

func TestSinkStopsOnAuthenticationError(t *testing.T) {
	es := &fakeES{responses: []fakeResponse{{401, readFixture(t, "security_exception.json")}}}
	s, _ := newTestSink(t, es)
	_, err := s.Write(context.Background(), twoItemBody(t))
	var fatal *FatalError
	if !errors.As(err, &fatal) || fatal.Status != 401 || fatal.Type != "security_exception" {
		t.Fatalf("err = %v, want a 401 FatalError", err)
	}
	if !strings.Contains(err.Error(), "ELASTICSEARCH_API_KEY") {
		t.Errorf("error %q does not say what to check", err)
	}
}

func TestSinkRetriesUntilCanceled(t *testing.T) {
	es := &fakeES{responses: []fakeResponse{{503, []byte(`{"error":{"type":"x","reason":"down"}}`)}}}
	s, _ := newTestSink(t, es)
	s.newBackOff = func() backoff.BackOff { return backoff.NewConstantBackOff(20 * time.Millisecond) }
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	unhealthy := make(chan bool, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		unhealthy <- !s.Healthy()
	}()
	if _, err := s.Write(ctx, twoItemBody(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if !<-unhealthy {
		t.Error("Healthy() was true while retrying")
	}
	if len(es.requests) < 3 {
		t.Errorf("%d requests in 300ms of retries", len(es.requests))
	}
	if !s.Healthy() {
		t.Error("Healthy() is false after Write returned")
	}
}

func counterValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var total float64
	close(ch)
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		total += d.GetCounter().GetValue()
	}
	return total
}

func TestErrorTypeReason(t *testing.T) {
	tests := []struct{ body, typ, reason string }{
		{string(readFixture(t, "security_exception.json")), "security_exception",
			"unable to authenticate with provided credentials and anonymous access is not allowed for this request"},
		{`{"error":"Incorrect HTTP method"}`, "", "Incorrect HTTP method"},
		{`bad gateway`, "", "bad gateway"},
		{strings.Repeat("x", 300), "", strings.Repeat("x", 200)},
	}
	for _, tt := range tests {
		typ, reason := errorTypeReason([]byte(tt.body))
		if typ != tt.typ || reason != tt.reason {
			t.Errorf("errorTypeReason(%.40q) = %q, %q; want %q, %q", tt.body, typ, reason, tt.typ, tt.reason)
		}
	}
}

func BenchmarkBulkBodyAdd(b *testing.B) {
	b.ReportAllocs()
	doc := bytes.Repeat([]byte("x"), 600)
	ts := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	appendDoc := func(dst []byte) ([]byte, time.Time, error) { return append(dst, doc...), ts, nil }
	var body bulkBody
	cpu, n := cpuclock.Now(), 0
	for ; b.Loop(); n++ {
		if n%1000 == 0 {
			body.reset()
		}
		if err := body.add("sdtriage", "sdtriage.api-calls", n%3, int64(n), appendDoc); err != nil {
			b.Fatal(err)
		}
	}
	cpuclock.Report(b, cpu, n)
	b.SetBytes(int64(len(body.buf) / max(body.len(), 1)))
}

// BenchmarkBulkBodyClassify is the batcher's work per record: classify a
// realistic record, render its document and append it with its create
// action to the bulk body.
func BenchmarkBulkBodyClassify(b *testing.B) {
	c, err := classify.New(rules.Default())
	if err != nil {
		b.Fatal(err)
	}
	g, err := traffic.New(traffic.Config{Seed: 1, Records: 4096,
		Start: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	var recs [][]byte
	size := 0
	for g.More() {
		recs = append(recs, g.Next(nil))
		size += len(recs[len(recs)-1])
	}
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	now := time.Now()
	var body bulkBody
	cpu, n := cpuclock.Now(), 0
	for ; b.Loop(); n++ {
		if n%1000 == 0 {
			body.reset()
		}
		rec := recs[n%len(recs)]
		src := classify.Source{Topic: "sdtriage.api-calls", Partition: n % 3, Offset: int64(n)}
		err := body.add("sdtriage", src.Topic, src.Partition, src.Offset, func(dst []byte) ([]byte, time.Time, error) {
			doc, res, err := c.AppendDocument(dst, rec, src, now)
			return doc, res.Timestamp, err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	cpuclock.Report(b, cpu, n)
}
