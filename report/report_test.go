package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedNow is the generated_at time of every test report.
var fixedNow = time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)

func weekOptions(t testing.TB, loc *time.Location) Options {
	t.Helper()
	p, err := Week("2026-W47", loc)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Period: p, Now: fixedNow}
}

func fromFile(t testing.TB, name string, o Options) *Report {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := FromNDJSON(f, name, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var extensions = map[string]string{"markdown": "md", "html": "html", "json": "json", "csv": "csv"}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test ./report -update if the change is intended)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: got %d lines, want %d (run go test ./report -update if intended)", path, len(gl), len(wl))
	}
}

// TestGolden renders the report of the fixed dataset (two weeks of
// generated traffic, classified by `ingest classify`) in every format.
func TestGolden(t *testing.T) {
	r := fromFile(t, "testdata/week.ndjson", weekOptions(t, time.UTC))
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, r, format); err != nil {
				t.Fatal(err)
			}
			golden(t, "week."+extensions[format], b.Bytes())
		})
	}
}

// TestReportContent checks the numbers of the fixed dataset against counts
// made independently of the report code (jq over testdata/week.ndjson).
func TestReportContent(t *testing.T) {
	r := fromFile(t, "testdata/week.ndjson", weekOptions(t, time.UTC))
	if r.Totals.Calls != 1000 || r.Totals.Failures != 125 || r.Totals.PreviousFailures != 145 {
		t.Errorf("totals = %d calls, %d failures, %d before; want 1000, 125, 145", r.Totals.Calls, r.Totals.Failures, r.Totals.PreviousFailures)
	}
	var sum, trend int64
	for _, c := range r.Categories {
		var rs int64
		for _, x := range c.Reasons {
			rs += x.Count
		}
		if rs != c.Count {
			t.Errorf("category %s: reasons add up to %d, want %d", c.Category, rs, c.Count)
		}
		sum += c.Count
	}
	for _, b := range r.Trend.Buckets {
		trend += b.Total
	}
	if sum != r.Totals.Failures || trend != r.Totals.Failures {
		t.Errorf("categories add up to %d, trend to %d; want %d", sum, trend, r.Totals.Failures)
	}
	for _, bd := range r.Breakdowns {
		n := bd.OtherFailures
		for _, row := range bd.Rows {
			n += row.Failures
		}
		if n != r.Totals.Failures {
			t.Errorf("breakdown %s adds up to %d, want %d", bd.Dimension, n, r.Totals.Failures)
		}
	}
	var hints int64
	for _, h := range r.Checklist {
		hints += h.Count
	}
	if hints != r.Totals.Failures {
		t.Errorf("checklist addresses %d failures, want %d", hints, r.Totals.Failures)
	}
	if r.Templates.Coverage != 1 {
		t.Errorf("template coverage = %v, want 1 for a file", r.Templates.Coverage)
	}
	if len(r.Trend.Buckets) != 7 || r.Trend.Granularity != Daily {
		t.Errorf("trend has %d %s buckets, want 7 daily", len(r.Trend.Buckets), r.Trend.Granularity)
	}
}

// filtered writes the lines of testdata/week.ndjson that keep accepts,
// changed by edit when it is not nil, to a temporary file and returns its
// name.
func filtered(t *testing.T, keep func(line string) bool, edit func(t *testing.T, i int, line string) string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/week.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !keep(l) {
			continue
		}
		if edit != nil {
			l = edit(t, i, l)
		}
		out = append(out, l)
	}
	name := filepath.Join(t.TempDir(), "docs.ndjson")
	if err := os.WriteFile(name, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// longMessages gives some error messages lengths around the keyword
// limit of 1,024 UTF-16 code units (an emoji counts two), beyond which
// Elasticsearch does not index a keyword.
func longMessages(t *testing.T, i int, line string) string {
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	e, ok := doc["error"].(map[string]any)
	if !ok || e["message"] == nil {
		return line
	}
	switch i % 4 {
	case 0:
		e["message"] = strings.Repeat("x", keywordLimit+6) // not indexed
	case 1:
		e["message"] = strings.Repeat("y", keywordLimit-1) + "😀" // 1,024 runes, 1,025 units: not indexed
	case 2:
		e["message"] = strings.Repeat("z", keywordLimit-2) + "😀" // 1,024 units: indexed
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// edgeCases are datasets that must give a sensible report, not an error.
var edgeCases = []struct {
	name string
	keep func(line string) bool
	edit func(t *testing.T, i int, line string) string
	// want is text each rendering must hold.
	want []string
}{
	{"empty", func(string) bool { return false }, nil, []string{"No API calls were recorded"}},
	{"no failures", func(l string) bool { return strings.Contains(l, `"outcome":"success"`) }, nil, []string{"No failures among 875 calls"}},
	{"single category", func(l string) bool {
		return strings.Contains(l, `"outcome":"success"`) || strings.Contains(l, `"category":"server"`)
	}, nil, []string{"Most are server (100%)"}},
	{"failures only", func(l string) bool { return strings.Contains(l, `"outcome":"failure"`) }, nil, []string{"failure rate is not given"}},
	{"messages around the keyword limit", func(string) bool { return true }, longMessages, []string{"125 failures"}},
}

func TestEdgeCases(t *testing.T) {
	for _, tc := range edgeCases {
		t.Run(tc.name, func(t *testing.T) {
			r := fromFile(t, filtered(t, tc.keep, tc.edit), weekOptions(t, time.UTC))
			for _, format := range []string{"markdown", "html"} {
				var b bytes.Buffer
				if err := Render(&b, r, format); err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				for _, w := range tc.want {
					if !strings.Contains(b.String(), w) {
						t.Errorf("%s report lacks %q", format, w)
					}
				}
			}
			for _, format := range []string{"json", "csv"} {
				if err := Render(&bytes.Buffer{}, r, format); err != nil {
					t.Fatalf("%s: %v", format, err)
				}
			}
		})
	}
}

func TestBadLinesAreCounted(t *testing.T) {
	in := "not json\n[1,2]\n\n" + `{"@timestamp":"2026-11-17T10:00:00Z","event":{"outcome":"success"}}` + "\n"
	r, err := FromNDJSON(strings.NewReader(in), "in.ndjson", weekOptions(t, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Calls != 1 {
		t.Errorf("calls = %d, want 1", r.Totals.Calls)
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "2 of 4 lines are not JSON objects") {
		t.Errorf("notes = %q, want one that counts 2 bad lines of 4", r.Notes)
	}
}

func FuzzFromNDJSON(f *testing.F) {
	b, err := os.ReadFile("testdata/week.ndjson")
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.SplitN(string(b), "\n", 6)[:5] {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{"@timestamp":"2026-11-17T10:00:00Z","event":{"outcome":"failure"},"classification":{"category":"x"},"http":{"response":{"status_code":"a"}}}`))
	o := weekOptions(f, time.UTC)
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := FromNDJSON(bytes.NewReader(in), "fuzz", o)
		if err != nil {
			return
		}
		for _, format := range Formats {
			if err := Render(&bytes.Buffer{}, r, format); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
		}
	})
}

// TestJSONContract checks the keys the issue promises to JSON consumers.
func TestJSONContract(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, fromFile(t, "testdata/week.ndjson", weekOptions(t, time.UTC))); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	has := func(m any, keys ...string) {
		t.Helper()
		obj, ok := m.(map[string]any)
		if !ok {
			t.Fatalf("%v is not an object", m)
		}
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("JSON lacks %q in %v", k, cut(fmt.Sprint(obj), 80))
			}
		}
	}
	has(doc, "schema_version", "period", "totals", "categories")
	has(doc["period"], "from", "to")
	has(doc["totals"], "calls", "failures", "failure_rate")
	cats, _ := doc["categories"].([]any)
	if len(cats) == 0 {
		t.Fatal("no categories")
	}
	for _, c := range cats {
		has(c, "category", "count", "previous_count", "reasons")
		for _, r := range c.(map[string]any)["reasons"].([]any) {
			has(r, "reason", "count")
		}
	}
}

// TestHTMLIsSelfContained checks that the HTML loads nothing: no
// stylesheet, script, image, font or frame from anywhere.
func TestHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, fromFile(t, "testdata/week.ndjson", weekOptions(t, time.UTC))); err != nil {
		t.Fatal(err)
	}
	page := strings.ToLower(b.String())
	for _, bad := range []string{"<link", "<script", "<img", "<iframe", "<object", "<embed", " src=", " href=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the HTML holds %q: it must load nothing", bad)
		}
	}
}
