package pipeline

import "sync"

// Ticket identifies one fetched record in the Checkpointer. It travels with
// the record through classification, indexing and the dead-letter queue, and
// is handed back to Ack once the record is safe (Benthos's shape: the
// acknowledgement travels with the data).
type Ticket struct {
	Partition int
	seq       uint64
}

// Checkpointer tracks the records in flight per partition and tells which
// offset may be committed: the highest offset below which every fetched
// record has been acknowledged. Records are acknowledged out of order (bulk
// requests run concurrently and retry independently), so a commit never
// passes a record that is still in flight, whatever finished after it.
//
// Records are tracked in fetch order, not by offset value, so gaps in the
// offsets (compaction, transaction markers) need no special case, and a
// partition that is fetched again from an older offset after a rebalance
// simply queues the redelivered records behind the earlier ones.
//
// A Checkpointer is safe for concurrent use.
type Checkpointer struct {
	mu    sync.Mutex
	parts map[int]*partitionTrack
}

// partitionTrack is the fetch-ordered queue of one partition's records.
type partitionTrack struct {
	pending   []pendingOffset // pending[i] has sequence number base+i
	base      uint64
	acked     int64 // highest offset with every earlier fetched record acknowledged; -1 if none
	committed int64 // highest offset reported by MarkCommitted; -1 if none
}

type pendingOffset struct {
	offset int64
	done   bool
}

// NewCheckpointer returns an empty Checkpointer.
func NewCheckpointer() *Checkpointer {
	return &Checkpointer{parts: make(map[int]*partitionTrack)}
}

// Track registers a fetched record. Records of one partition must be tracked
// in the order they were fetched.
func (c *Checkpointer) Track(partition int, offset int64) Ticket {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.parts[partition]
	if p == nil {
		p = &partitionTrack{acked: -1, committed: -1}
		c.parts[partition] = p
	}
	p.pending = append(p.pending, pendingOffset{offset: offset})
	return Ticket{Partition: partition, seq: p.base + uint64(len(p.pending)-1)}
}

// Ack marks the record of t as done (indexed or dead-lettered). Acknowledging
// a ticket twice, or one that was never tracked, is a programming error and
// panics.
func (c *Checkpointer) Ack(t Ticket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.parts[t.Partition]
	if p == nil || t.seq < p.base || t.seq-p.base >= uint64(len(p.pending)) || p.pending[t.seq-p.base].done {
		panic("pipeline: Ack of an unknown or already acknowledged ticket")
	}
	p.pending[t.seq-p.base].done = true
	n := 0
	for n < len(p.pending) && p.pending[n].done {
		p.acked = max(p.acked, p.pending[n].offset)
		n++
	}
	p.pending = p.pending[n:]
	p.base += uint64(n)
}

// Committable returns, for each partition whose acknowledged position moved
// past the last MarkCommitted, the highest offset that may be committed.
// (kafka-go's CommitMessages commits offset+1, the next record to read.)
func (c *Checkpointer) Committable() map[int]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out map[int]int64
	for part, p := range c.parts {
		if p.acked > p.committed {
			if out == nil {
				out = make(map[int]int64)
			}
			out[part] = p.acked
		}
	}
	return out
}

// MarkCommitted records that offset was committed for partition, so that
// Committable does not report it again.
func (c *Checkpointer) MarkCommitted(partition int, offset int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.parts[partition]; p != nil {
		p.committed = max(p.committed, offset)
	}
}
