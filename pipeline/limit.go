package pipeline

import "sync/atomic"

// limiter is the in-flight limit: slots for records fetched and not yet
// acknowledged. The batcher takes slots for a whole chunk at once and the
// workers give a whole batch's back at once, where a channel slot per
// record cost two channel operations per record.
type limiter struct {
	used atomic.Int64
	max  int64
	// freed holds a token after a release, so that a batcher that found no
	// slot wakes up; a stale token costs one more look.
	freed chan struct{}
}

func newLimiter(max int) *limiter {
	return &limiter{max: int64(max), freed: make(chan struct{}, 1)}
}

// take takes up to n free slots and returns how many it took, 0 at the
// limit.
func (l *limiter) take(n int) int {
	for {
		used := l.used.Load()
		k := min(int64(n), l.max-used)
		if k <= 0 {
			return 0
		}
		if l.used.CompareAndSwap(used, used+k) {
			return int(k)
		}
	}
}

// release gives n slots back.
func (l *limiter) release(n int) {
	if n == 0 {
		return
	}
	l.used.Add(-int64(n))
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// inUse returns the number of slots taken.
func (l *limiter) inUse() int { return int(l.used.Load()) }
