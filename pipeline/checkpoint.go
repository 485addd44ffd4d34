package pipeline

import "sync"

// Ticket identifies one fetched record in the Checkpointer. It travels with
// the record through classification, indexing and the dead-letter queue, and
// is handed back to Ack once the record is safe (Benthos's shape: the
// acknowledgement travels with the data).
type Ticket struct {
	track *partitionTrack
	seq   uint64
}

// Checkpointer tracks the records in flight per partition and tells which
// offset may be committed: the highest offset below which every fetched
// record has been acknowledged. Records are acknowledged out of order (bulk
// requests run concurrently and retry independently), so a commit never
// passes a record that is still in flight, whatever finished after it.
//
// Records are tracked in fetch order, not by offset value, so gaps in the
// offsets (compaction, transaction markers) need no special case.
//
// Partitions are tracked from Assign to Revoke, in the consumer group
// generation that assigned them: a record fetched in an earlier generation
// is refused by Track (its partition may have been fetched again from an
// older offset since), and the acknowledgement of a record of a revoked
// partition changes nothing that Committable reports.
//
// A Checkpointer is safe for concurrent use.
type Checkpointer struct {
	mu    sync.Mutex
	parts map[int]*partitionTrack
}

// partitionTrack is the fetch-ordered queue of one partition's records in
// one generation.
type partitionTrack struct {
	gen       int32
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

// Assign starts tracking partitions, afresh, for generation gen.
func (c *Checkpointer) Assign(gen int32, partitions []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range partitions {
		c.parts[p] = &partitionTrack{gen: gen, acked: -1, committed: -1}
	}
}

// Revoke stops tracking partitions.
func (c *Checkpointer) Revoke(partitions []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range partitions {
		delete(c.parts, p)
	}
}

// Track registers a record fetched in generation gen. Records of one
// partition must be tracked in the order they were fetched. It reports
// false, tracking nothing, when the partition is not assigned in gen.
func (c *Checkpointer) Track(gen int32, partition int, offset int64) (Ticket, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.parts[partition]
	if p == nil || p.gen != gen {
		return Ticket{}, false
	}
	p.pending = append(p.pending, pendingOffset{offset: offset})
	return Ticket{track: p, seq: p.base + uint64(len(p.pending)-1)}, true
}

// Ack marks the record of t as done (indexed or dead-lettered). Acknowledging
// a ticket twice, or one that was never tracked, is a programming error and
// panics.
func (c *Checkpointer) Ack(t Ticket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := t.track
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

// Pending returns how many records of partitions are tracked and not yet
// acknowledged.
func (c *Checkpointer) Pending(partitions []int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, part := range partitions {
		if p := c.parts[part]; p != nil {
			n += len(p.pending)
		}
	}
	return n
}

// Committable returns, for each partition whose acknowledged position moved
// past the last MarkCommitted, the highest offset that may be committed: the
// last acknowledged record's (the committed position is the next one).
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
