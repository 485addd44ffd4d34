package pipeline

import (
	"sync"
	"testing"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(10)
	steps := []struct {
		take, release int // release happens first
		want, inUse   int
		woken         bool // a token is waiting in freed
	}{
		{take: 4, want: 4, inUse: 4},
		{take: 8, want: 6, inUse: 10},
		{take: 1, want: 0, inUse: 10},
		{release: 3, take: 0, want: 0, inUse: 7, woken: true},
		{release: 2, take: 9, want: 5, inUse: 10, woken: true},
		{release: 10, take: 0, want: 0, inUse: 0, woken: true},
	}
	for i, s := range steps {
		l.release(s.release)
		if got := l.take(s.take); got != s.want {
			t.Errorf("step %d: take(%d) = %d, want %d", i, s.take, got, s.want)
		}
		if got := l.inUse(); got != s.inUse {
			t.Errorf("step %d: inUse = %d, want %d", i, got, s.inUse)
		}
		woken := false
		select {
		case <-l.freed:
			woken = true
		default:
		}
		if woken != s.woken {
			t.Errorf("step %d: woken = %v, want %v", i, woken, s.woken)
		}
	}
}

// TestLimiterConcurrent takes and releases from several goroutines: the
// limit is never passed and every slot comes back.
func TestLimiterConcurrent(t *testing.T) {
	l := newLimiter(100)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 2000 {
				n := l.take(1 + i%40)
				if u := l.inUse(); u > 100 {
					t.Errorf("%d slots in use, limit 100", u)
				}
				l.release(n)
			}
		})
	}
	wg.Wait()
	if u := l.inUse(); u != 0 {
		t.Errorf("%d slots in use after every release", u)
	}
}
