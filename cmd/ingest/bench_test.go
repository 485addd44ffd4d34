package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sdtriage/sdtriage/internal/cpuclock"
)

// BenchmarkClassifyCLI measures `ingest classify` end to end (rule
// loading, reading, classifying, writing documents) on the labelled corpus
// repeated to 100,000 records; it reports records/s and, because wall time
// on a shared machine also counts other processes, records/cpu-s.
func BenchmarkClassifyCLI(b *testing.B) {
	files, _ := filepath.Glob("../../classify/testdata/corpus/*.ndjson")
	if len(files) == 0 {
		files = []string{"../../classify/testdata/documents.ndjson"}
	}
	var recs [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 {
				recs = append(recs, line)
			}
		}
	}
	const n = 100_000
	var in bytes.Buffer
	for i := range n {
		in.Write(recs[i%len(recs)])
		in.WriteByte('\n')
	}
	input := filepath.Join(b.TempDir(), "input.ndjson")
	if err := os.WriteFile(input, in.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(in.Len()))
	b.ReportAllocs()
	start, cpuStart, ops := time.Now(), cpuclock.Now(), 0
	for ; b.Loop(); ops++ {
		if code := run([]string{"classify", input}, nil, io.Discard, io.Discard); code != successExitCode {
			b.Fatalf("exit %d", code)
		}
	}
	records := float64(ops * n)
	b.ReportMetric(records/time.Since(start).Seconds(), "records/s")
	if cpu := cpuclock.Now() - cpuStart; cpu > 0 {
		b.ReportMetric(records/cpu.Seconds(), "records/cpu-s")
	}
	b.ReportMetric(0, "ns/op") // one op is 100,000 records; the metrics above say more
}
