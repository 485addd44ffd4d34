package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/tidwall/gjson"

	"github.com/sdtriage/sdtriage/internal/testenv"
	"github.com/sdtriage/sdtriage/pipeline"
)

// esCall sends one request to Elasticsearch and fails the test on an
// error status.
func esCall(t testing.TB, method, url string, body []byte, contentType string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: HTTP %d: %s", method, url, res.StatusCode, cut(string(b), 500))
	}
	return b
}

// installTemplate installs the index template of package pipeline for
// prefix, as `ingest setup` does.
func installTemplate(t testing.TB, url, prefix string) {
	t.Helper()
	tmpl, err := json.Marshal(pipeline.Template(prefix, ""))
	if err != nil {
		t.Fatal(err)
	}
	esCall(t, http.MethodPut, url+"/_index_template/"+prefix, tmpl, "application/json")
}

// deleteAtEnd deletes prefix's indices and template when the test ends.
// The indices are named one by one: a wildcard delete is refused where
// action.destructive_requires_name is true (the default of 8.x).
func deleteAtEnd(t testing.TB, url, prefix string) {
	t.Cleanup(func() {
		del := func(path string) {
			req, _ := http.NewRequest(http.MethodDelete, url+path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Logf("clean-up: DELETE %s: %v", path, err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Logf("clean-up: DELETE %s: HTTP %d", path, res.StatusCode)
			}
		}
		res, err := http.Get(url + "/_cat/indices/" + prefix + "-*?h=index&expand_wildcards=all")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if names := strings.Fields(string(b)); len(names) > 0 {
				del("/" + strings.Join(names, ","))
			}
		}
		del("/_index_template/" + prefix)
	})
}

// seed installs the index template for prefix and bulk-loads docs into the
// daily indices <prefix>-YYYY.MM.DD, as `ingest` does; the indices and the
// template are deleted when the test ends.
func seed(t testing.TB, url, prefix string, docs [][]byte) {
	t.Helper()
	installTemplate(t, url, prefix)
	deleteAtEnd(t, url, prefix)
	var body bytes.Buffer
	flush := func() {
		if body.Len() == 0 {
			return
		}
		res := esCall(t, http.MethodPost, url+"/_bulk?refresh=true", body.Bytes(), "application/x-ndjson")
		if gjson.GetBytes(res, "errors").Bool() {
			t.Fatalf("bulk: %s", cut(string(res), 500))
		}
		body.Reset()
	}
	for i, d := range docs {
		ts, err := time.Parse(time.RFC3339Nano, gjson.GetBytes(d, "@timestamp").Str)
		if err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		fmt.Fprintf(&body, `{"create":{"_index":"%s-%s","_id":"%d"}}`+"\n", prefix, ts.UTC().Format("2006.01.02"), i)
		body.Write(d)
		body.WriteByte('\n')
		if body.Len() > 4<<20 {
			flush()
		}
	}
	flush()
}

func readDocs(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(l) > 0 {
			docs = append(docs, l)
		}
	}
	return docs
}

func esSource(t testing.TB, url, prefix string) *Elasticsearch {
	t.Helper()
	client, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	return &Elasticsearch{Client: client, Prefix: prefix}
}

// sameReport fails unless a and b are equal but for their source.
func sameReport(t testing.TB, fromES, fromFile *Report) {
	t.Helper()
	a, b := *fromES, *fromFile
	a.Source, b.Source = "", ""
	ja, _ := json.MarshalIndent(a, "", " ")
	jb, _ := json.MarshalIndent(b, "", " ")
	if !bytes.Equal(ja, jb) {
		la, lb := strings.Split(string(ja), "\n"), strings.Split(string(jb), "\n")
		for i := range min(len(la), len(lb)) {
			if la[i] != lb[i] {
				t.Fatalf("Elasticsearch and file reports differ at line %d:\n   es: %s\n file: %s", i+1, la[i], lb[i])
			}
		}
		t.Fatalf("Elasticsearch and file reports differ in length: %d and %d lines", len(la), len(lb))
	}
}

// TestElasticsearchMatchesFile seeds the fixed dataset into a real
// Elasticsearch and checks that the aggregations give the very report the
// file gives, for a week in two time zones and for a two-day (hourly)
// period.
func TestElasticsearchMatchesFile(t *testing.T) {
	url := testenv.Elasticsearch(t)
	prefix := testenv.Name(t)
	seed(t, url, prefix, readDocs(t, "testdata/week.ndjson"))
	es := esSource(t, url, prefix)

	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	twoDays, err := Range("2026-11-17", "2026-11-19", berlin)
	if err != nil {
		t.Fatal(err)
	}
	small := *es
	small.page = 7 // many pages of every composite aggregation
	for _, tc := range []struct {
		name string
		es   *Elasticsearch
		o    Options
	}{
		{"week UTC", es, weekOptions(t, time.UTC)},
		{"week UTC, small pages", &small, weekOptions(t, time.UTC)},
		{"week Berlin", es, weekOptions(t, berlin)},
		{"two days hourly", es, Options{Period: twoDays, Now: fixedNow}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.es.Report(context.Background(), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			want := fromFile(t, "testdata/week.ndjson", tc.o)
			if want.Totals.Failures == 0 {
				t.Fatal("the period holds no failure: the comparison would prove little")
			}
			sameReport(t, got, want)
		})
	}
}

// TestElasticsearchMaxKeys checks that a composite aggregation cut short
// by MaxKeys gives a report that says so, not an error.
func TestElasticsearchMaxKeys(t *testing.T) {
	url := testenv.Elasticsearch(t)
	prefix := testenv.Name(t)
	seed(t, url, prefix, readDocs(t, "testdata/week.ndjson"))
	es := esSource(t, url, prefix)
	es.MaxKeys, es.page = 10, 5
	r, err := es.Report(context.Background(), weekOptions(t, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if r.Templates.Coverage >= 1 || len(r.Notes) < 3 {
		t.Errorf("coverage %v, notes %q; want coverage below 1 and notes on breakdowns, messages and groups", r.Templates.Coverage, r.Notes)
	}
	if r.Totals.Failures != 125 {
		t.Errorf("failures = %d, want 125: totals do not depend on MaxKeys", r.Totals.Failures)
	}
}

// TestElasticsearchEdgeCases checks that an empty index, a period without
// failures and one with a single category give sensible reports, equal to
// those of the same documents read from a file.
func TestElasticsearchEdgeCases(t *testing.T) {
	url := testenv.Elasticsearch(t)
	for _, tc := range edgeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix := testenv.Name(t)
			file := filtered(t, tc.keep, tc.edit)
			seed(t, url, prefix, readDocs(t, file))
			got, err := esSource(t, url, prefix).Report(context.Background(), weekOptions(t, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			sameReport(t, got, fromFile(t, file, weekOptions(t, time.UTC)))
			var b bytes.Buffer
			if err := Markdown(&b, got); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("report lacks %q", w)
				}
			}
		})
	}
}

// TestElasticsearchNoIndex checks that a prefix without any index gives an
// empty report, not an error.
func TestElasticsearchNoIndex(t *testing.T) {
	url := testenv.Elasticsearch(t)
	r, err := esSource(t, url, testenv.Name(t)).Report(context.Background(), weekOptions(t, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Calls != 0 || len(r.Categories) != 0 || len(r.Trend.Buckets) != 7 {
		t.Errorf("report of no index: %d calls, %d categories, %d buckets; want 0, 0, 7", r.Totals.Calls, len(r.Categories), len(r.Trend.Buckets))
	}
}
