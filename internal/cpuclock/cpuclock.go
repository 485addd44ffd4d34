// Package cpuclock measures the CPU time of the whole process, so that
// benchmarks on a shared machine can report "cpu-ns/op" beside ns/op:
// wall-clock ns/op also counts the time other processes held the CPU.
package cpuclock

import (
	"testing"
	"time"
)

// Report reports the process CPU time per op since start (a value of Now)
// as "cpu-ns/op". It reports nothing where the platform gives no CPU time.
func Report(b *testing.B, start time.Duration, n int) {
	if now := Now(); n > 0 && now > 0 {
		b.ReportMetric(float64(now-start)/float64(n), "cpu-ns/op")
	}
}
