package report

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/sdtriage/sdtriage/classify"
	"github.com/sdtriage/sdtriage/internal/testenv"
	"github.com/sdtriage/sdtriage/internal/traffic"
	"github.com/sdtriage/sdtriage/rules"
)

func BenchmarkMessageTemplate(b *testing.B) {
	msgs := []string{
		`Post "https://api.stability.ai/v2beta/stable-image/generate/core": read tcp 10.40.57.71:34802->104.18.13.241:443: read: connection reset by peer`,
		`Rate limit reached for gpt-image-1 in organization org-TTYK7NWQug2IE84RVvmrstNn on images per minute (IPM): Limit 7, Used 7, Requested 1.`,
		`HTTPConnectionPool(host='sd-webui.gpu.internal', port=7860): Read timed out. (read timeout=60)`,
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		MessageTemplate(msgs[i%len(msgs)])
	}
}

// BenchmarkFromNDJSON reads the fixed dataset (2,000 documents).
func BenchmarkFromNDJSON(b *testing.B) {
	data, err := os.ReadFile("testdata/week.ndjson")
	if err != nil {
		b.Fatal(err)
	}
	o := weekOptions(b, time.UTC)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromNDJSON(bytes.NewReader(data), "week", o); err != nil {
			b.Fatal(err)
		}
	}
}

// The large benchmark: REPORT_BENCH_DOCS documents (say 1000000) of
// generated traffic over 2026-W46 and 2026-W47, classified with the default
// rules, bulk-loaded once into the real Elasticsearch and written to a
// file; then the report of 2026-W47 from each source. It is skipped unless
// REPORT_BENCH_DOCS is set, so that `go test -bench .` stays fast:
//
//	REPORT_BENCH_DOCS=1000000 ELASTICSEARCH_URL=http://127.0.0.1:9200 \
//	  go test ./report -run '^$' -bench Large -benchtime 3x -timeout 60m
//
// With REPORT_BENCH_PREFIX the indices get that prefix and are kept, and a
// later run finds them loaded; otherwise they are deleted at the end.
var large struct {
	once   sync.Once
	prefix string
	file   string
	docs   int
	err    error
}

func loadLarge(b *testing.B) {
	n, err := strconv.Atoi(os.Getenv("REPORT_BENCH_DOCS"))
	if err != nil || n <= 0 {
		b.Skip("REPORT_BENCH_DOCS is not set: skipping the large report benchmark")
	}
	url := testenv.Elasticsearch(b)
	large.once.Do(func() {
		large.docs = n
		large.file = filepath.Join(os.TempDir(), fmt.Sprintf("sdtriage-report-bench-%d.ndjson", n))
		large.prefix = os.Getenv("REPORT_BENCH_PREFIX")
		keep := large.prefix != ""
		if !keep {
			large.prefix = fmt.Sprintf("report-bench-%d", time.Now().UnixNano())
			deleteAtEnd(b, url, large.prefix)
		}
		start := time.Now()
		wrote, err := writeLarge(large.file, n)
		if large.err = err; err != nil {
			return
		}
		if wrote {
			b.Logf("generated and classified %d documents into %s in %s", n, large.file, time.Since(start).Round(time.Millisecond))
		}
		if keep && countDocs(url, large.prefix) == int64(n) {
			b.Logf("reusing the %d documents of %s-*", n, large.prefix)
			return
		}
		start = time.Now()
		large.err = bulkLoad(b, url, large.prefix, large.file)
		b.Logf("bulk-loaded %d documents into %s-* in %s", n, large.prefix, time.Since(start).Round(time.Millisecond))
	})
	if large.err != nil {
		b.Fatal(large.err)
	}
}

// writeLarge writes n classified documents to file unless it exists;
// wrote says whether it did.
func writeLarge(file string, n int) (wrote bool, err error) {
	if _, err := os.Stat(file); err == nil {
		return false, nil
	}
	cls, err := classify.New(rules.Default())
	if err != nil {
		return false, err
	}
	g, err := traffic.New(traffic.NewConfig(7, time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), n))
	if err != nil {
		return false, err
	}
	f, err := os.Create(file + ".tmp")
	if err != nil {
		return false, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	ingested := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var rec, doc []byte
	for i := 0; g.More(); i++ {
		rec = g.Next(rec[:0])
		doc, _, err = cls.AppendDocument(doc[:0], rec, classify.Source{Topic: "bench", Offset: int64(i)}, ingested)
		if err != nil {
			continue
		}
		w.Write(doc)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	return true, os.Rename(file+".tmp", file)
}

// bulkLoad indexes the documents of file into <prefix>-YYYY.MM.DD with the
// template of package pipeline, two bulk requests at a time (the test node has a 1 GiB heap).
func bulkLoad(b *testing.B, url, prefix, file string) error {
	installTemplate(b, url, prefix)
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	bodies := make(chan []byte)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range bodies {
				res, err := http.Post(url+"/_bulk", "application/x-ndjson", bytes.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				var rb bytes.Buffer
				rb.ReadFrom(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || gjson.GetBytes(rb.Bytes(), "errors").Bool() {
					errs <- fmt.Errorf("bulk: HTTP %d: %s", res.StatusCode, cut(rb.String(), 300))
					return
				}
			}
		}()
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), maxLine)
	var body []byte
	i := 0
	send := func() bool {
		select {
		case bodies <- body:
			body = nil
			return true
		case err := <-errs:
			errs <- err
			return false
		}
	}
	for sc.Scan() {
		d := sc.Bytes()
		ts, _ := time.Parse(time.RFC3339Nano, gjson.GetBytes(d, "@timestamp").Str)
		body = fmt.Appendf(body, `{"create":{"_index":"%s-%s","_id":"%d"}}`+"\n", prefix, ts.UTC().Format("2006.01.02"), i)
		body = append(append(body, d...), '\n')
		i++
		if len(body) > 8<<20 && !send() {
			break
		}
	}
	if len(body) > 0 {
		send()
	}
	close(bodies)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	res, err := http.Post(url+"/"+prefix+"-*/_refresh", "application/json", nil)
	if err != nil {
		return err
	}
	res.Body.Close()
	return sc.Err()
}

// countDocs is the number of documents in prefix's indices; -1 on error.
func countDocs(url, prefix string) int64 {
	res, err := http.Get(url + "/" + prefix + "-*/_count")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	if c := gjson.GetBytes(b.Bytes(), "count"); c.Exists() {
		return c.Int()
	}
	return -1
}

func BenchmarkLarge(b *testing.B) {
	loadLarge(b)
	o := weekOptions(b, time.UTC)
	b.Run("elasticsearch", func(b *testing.B) {
		es := esSource(b, testenv.Elasticsearch(b), large.prefix)
		b.ReportAllocs()
		for b.Loop() {
			r, err := es.Report(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(r.Totals.Calls+r.Totals.PreviousCalls), "docs")
		}
	})
	b.Run("same", func(b *testing.B) {
		// Not a timing: both sources must give the same report at scale too.
		for b.Loop() {
			r, err := esSource(b, testenv.Elasticsearch(b), large.prefix).Report(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			f, err := os.Open(large.file)
			if err != nil {
				b.Fatal(err)
			}
			want, err := FromNDJSON(f, large.file, o)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			sameReport(b, r, want)
		}
	})
	b.Run("ndjson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f, err := os.Open(large.file)
			if err != nil {
				b.Fatal(err)
			}
			r, err := FromNDJSON(f, large.file, o)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(r.Totals.Calls+r.Totals.PreviousCalls), "docs")
		}
	})
}
