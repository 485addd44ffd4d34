package classify

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sdtriage/sdtriage/rules"
	"github.com/tidwall/gjson"
)

// addSeeds adds every line of the test records and the corpus as seeds.
func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*.ndjson")
	files = append(files, "testdata/documents.ndjson")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			f.Add(line)
		}
	}
	f.Add([]byte(`{"error":{"message":{"deep":[1,2,{"x":"\u0000"}]}},"status":"1e400","ts":"9999-12-31T23:59:60.9999999999+23:59"}`))
	for _, ts := range []string{"2026-03-02T12:00:60Z", "2026-03-02T12:00:00.120Z", "2026-03-02t12:00:00Z",
		"2026-03-02T12:00:00.1234567891Z", "2026-03-02T12:00:00,5Z", "0042-03-02T12:00:00.5Z", "2026-03-02T12:00:00+01:00"} {
		f.Add([]byte(`{"@timestamp":"` + ts + `","status":500}`))
	}
	f.Add([]byte(`{"http":{"response":{"body":{"content":"{\"status\":\"failed\",\"error\":\"` + "\xff" + `\"}"}}}}`))
}

// FuzzClassify checks that no input panics and that Classify and Explain
// agree.
func FuzzClassify(f *testing.F) {
	addSeeds(f)
	c, err := New(rules.Default())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		res, err := c.Classify(rec)
		ex, exErr := c.Explain(rec)
		if (err == nil) != (exErr == nil) {
			t.Fatalf("Classify error %v, Explain error %v", err, exErr)
		}
		if err != nil {
			return
		}
		if res != ex.Result {
			t.Errorf("Classify %+v, Explain %+v", res, ex.Result)
		}
		if res.Failure != (res.Category != "") || res.Failure != (res.Reason != "") {
			t.Errorf("inconsistent result %+v", res)
		}
	})
}

// FuzzAppendDocument checks that every document is valid JSON and that its
// @timestamp is the record's time, or the ingest time, as appendRFC3339
// writes it, whether it was copied from the record or written anew.
func FuzzAppendDocument(f *testing.F) {
	addSeeds(f)
	c, err := New(rules.Default())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		doc, res, err := c.AppendDocument(nil, rec, Source{Topic: "t"}, ingestedAt)
		if err != nil {
			return
		}
		if !json.Valid(doc) {
			t.Fatalf("invalid document for %q:\n%s", rec, doc)
		}
		ts := res.Timestamp
		if ts.IsZero() {
			ts = ingestedAt
		}
		if got, want := gjson.GetBytes(doc, `\@timestamp`).Str, string(appendRFC3339(nil, ts.UTC())); got != want {
			t.Errorf("@timestamp %q, want %q, for %q", got, want, rec)
		}
	})
}
