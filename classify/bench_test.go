package classify

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sdtriage/sdtriage/internal/cpuclock"
	"github.com/sdtriage/sdtriage/rules"
)

// benchRecords returns the labelled corpus, or the document test records
// while there is no corpus.
func benchRecords(b *testing.B) [][]byte {
	files, _ := filepath.Glob("testdata/corpus/*.ndjson")
	if len(files) == 0 {
		files = []string{"testdata/documents.ndjson"}
	}
	var recs [][]byte
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 {
				recs = append(recs, line)
			}
		}
	}
	return recs
}

// BenchmarkClassify measures extraction and classification with the
// default rule pack; one op is one record of the corpus.
func BenchmarkClassify(b *testing.B) {
	c, err := New(rules.Default())
	if err != nil {
		b.Fatal(err)
	}
	recs := benchRecords(b)
	b.ReportAllocs()
	start, n := cpuclock.Now(), 0
	for ; b.Loop(); n++ {
		if _, err := c.Classify(recs[n%len(recs)]); err != nil && err != ErrNotObject {
			b.Fatal(err)
		}
	}
	cpuclock.Report(b, start, n)
}

// BenchmarkAppendDocument measures Classify plus rendering the document.
func BenchmarkAppendDocument(b *testing.B) {
	c, err := New(rules.Default())
	if err != nil {
		b.Fatal(err)
	}
	recs := benchRecords(b)
	now := time.Now()
	var dst []byte
	b.ReportAllocs()
	start, n := cpuclock.Now(), 0
	for ; b.Loop(); n++ {
		dst, _, _ = c.AppendDocument(dst[:0], recs[n%len(recs)], Source{Topic: "t", Offset: int64(n)}, now)
	}
	cpuclock.Report(b, start, n)
}
