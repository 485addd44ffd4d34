package pipeline

import (
	"maps"
	"testing"
)

func TestCheckpointer(t *testing.T) {
	type fetch struct {
		partition int
		offset    int64
	}
	tests := []struct {
		name    string
		fetched []fetch
		acks    []int // indexes into fetched, in acknowledgement order
		want    map[int]int64
	}{
		{
			name:    "nothing acknowledged",
			fetched: []fetch{{0, 0}, {0, 1}},
			want:    nil,
		},
		{
			name:    "in order",
			fetched: []fetch{{0, 0}, {0, 1}, {0, 2}},
			acks:    []int{0, 1, 2},
			want:    map[int]int64{0: 2},
		},
		{
			name:    "out of order stops at the first record in flight",
			fetched: []fetch{{0, 10}, {0, 11}, {0, 12}, {0, 13}},
			acks:    []int{1, 3, 0},
			want:    map[int]int64{0: 11},
		},
		{
			name:    "first record still in flight blocks everything",
			fetched: []fetch{{0, 5}, {0, 6}, {0, 7}},
			acks:    []int{2, 1},
			want:    nil,
		},
		{
			name:    "gaps in offsets",
			fetched: []fetch{{0, 3}, {0, 9}, {0, 40}},
			acks:    []int{2, 1, 0},
			want:    map[int]int64{0: 40},
		},
		{
			name:    "partitions are independent",
			fetched: []fetch{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {2, 7}},
			acks:    []int{1, 2, 3},
			want:    map[int]int64{1: 1},
		},
		{
			name: "records fetched again queue behind the first delivery",
			// 0..2 fetched, then the partition restarts at 1 and 1..2 come again.
			fetched: []fetch{{0, 0}, {0, 1}, {0, 2}, {0, 1}, {0, 2}},
			acks:    []int{0, 3, 4, 1},
			want:    map[int]int64{0: 1},
		},
		{
			name:    "redelivered records never move the commit backwards",
			fetched: []fetch{{0, 0}, {0, 1}, {0, 2}, {0, 1}},
			acks:    []int{0, 1, 2, 3},
			want:    map[int]int64{0: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCheckpointer()
			c.Assign(1, []int{0, 1, 2})
			tickets := make([]Ticket, len(tt.fetched))
			for i, f := range tt.fetched {
				var ok bool
				if tickets[i], ok = c.Track(1, f.partition, f.offset); !ok {
					t.Fatalf("Track(%d, %d) refused", f.partition, f.offset)
				}
			}
			for _, i := range tt.acks {
				c.Ack(tickets[i])
			}
			if got := c.Committable(); !maps.Equal(got, tt.want) {
				t.Errorf("Committable() = %v, want %v", got, tt.want)
			}
		})
	}
}

// track tracks a record of generation 1, failing the test if it is refused.
func track(t testing.TB, c *Checkpointer, partition int, offset int64) Ticket {
	t.Helper()
	tk, ok := c.Track(1, partition, offset)
	if !ok {
		t.Fatalf("Track(1, %d, %d) refused", partition, offset)
	}
	return tk
}

func TestCheckpointerMarkCommitted(t *testing.T) {
	c := NewCheckpointer()
	c.Assign(1, []int{0})
	a, b := track(t, c, 0, 0), track(t, c, 0, 1)
	c.Ack(a)
	if got := c.Committable(); !maps.Equal(got, map[int]int64{0: 0}) {
		t.Fatalf("Committable() = %v, want map[0:0]", got)
	}
	c.MarkCommitted(0, 0)
	if got := c.Committable(); got != nil {
		t.Fatalf("after MarkCommitted, Committable() = %v, want nothing", got)
	}
	c.Ack(b)
	if got := c.Committable(); !maps.Equal(got, map[int]int64{0: 1}) {
		t.Fatalf("Committable() = %v, want map[0:1]", got)
	}
}

// TestCheckpointerGenerations: records of a partition not assigned, or
// assigned in another generation, are refused; once a partition is revoked
// the acknowledgement of its records still in flight changes nothing, and
// a new assignment starts afresh.
func TestCheckpointerGenerations(t *testing.T) {
	c := NewCheckpointer()
	if _, ok := c.Track(1, 0, 0); ok {
		t.Fatal("Track of a partition never assigned accepted")
	}
	c.Assign(1, []int{0, 1})
	late := track(t, c, 0, 7)
	done := track(t, c, 1, 3)
	c.Ack(done)
	if n := c.Pending([]int{0, 1}); n != 1 {
		t.Fatalf("Pending = %d, want 1", n)
	}
	c.Revoke([]int{0, 1})
	c.Assign(2, []int{0})
	if _, ok := c.Track(1, 0, 8); ok {
		t.Fatal("Track of a record fetched in generation 1 accepted in generation 2")
	}
	c.Ack(late) // indexed after the rebalance
	if got := c.Committable(); got != nil {
		t.Fatalf("Committable() = %v after a revoked record was acknowledged, want nothing", got)
	}
	tk, ok := c.Track(2, 0, 5)
	if !ok {
		t.Fatal("Track refused in the generation that assigned the partition")
	}
	c.Ack(tk)
	if got := c.Committable(); !maps.Equal(got, map[int]int64{0: 5}) {
		t.Fatalf("Committable() = %v, want map[0:5]", got)
	}
}

func TestCheckpointerDoubleAckPanics(t *testing.T) {
	c := NewCheckpointer()
	c.Assign(1, []int{0})
	tk := track(t, c, 0, 0)
	c.Ack(tk)
	defer func() {
		if recover() == nil {
			t.Error("second Ack did not panic")
		}
	}()
	c.Ack(tk)
}

func BenchmarkCheckpointer(b *testing.B) {
	b.ReportAllocs()
	c := NewCheckpointer()
	c.Assign(1, []int{0, 1, 2, 3})
	var window [64]Ticket
	for i := 0; i < b.N; i++ {
		if i >= len(window) {
			c.Ack(window[i%len(window)])
		}
		window[i%len(window)], _ = c.Track(1, i%4, int64(i))
	}
}
