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
			name: "redelivery after a rebalance queues behind the first delivery",
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
			tickets := make([]Ticket, len(tt.fetched))
			for i, f := range tt.fetched {
				tickets[i] = c.Track(f.partition, f.offset)
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

func TestCheckpointerMarkCommitted(t *testing.T) {
	c := NewCheckpointer()
	a, b := c.Track(0, 0), c.Track(0, 1)
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

func TestCheckpointerDoubleAckPanics(t *testing.T) {
	c := NewCheckpointer()
	tk := c.Track(0, 0)
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
	var window [64]Ticket
	for i := 0; i < b.N; i++ {
		if i >= len(window) {
			c.Ack(window[i%len(window)])
		}
		window[i%len(window)] = c.Track(i%4, int64(i))
	}
}
