package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"
)

// Fetch settings of the consumer.
const (
	fetchMaxBytes = 1 << 20                // per partition and fetch request
	fetchMaxWait  = 250 * time.Millisecond // how long the broker may hold a fetch for data
	// fetchTimeout bounds the reading of a fetch response (waits to hand
	// chunks on excluded), so that a broker that stops answering is dialled
	// again instead of waited for.
	fetchTimeout = 30 * time.Second
	// revokeWait is how long a generation's end waits for the records of its
	// partitions to be acknowledged before committing what is: well inside
	// the rebalance timeout, after which the group would move on without us.
	revokeWait = 5 * time.Second
	// chunkSize is the most records handed on at once: a partition holds at
	// most one chunk while the pipeline is full, whatever the fetch size.
	chunkSize = 256
)

// consumer reads the topic as a member of the consumer group. kafka-go's
// ConsumerGroup keeps the membership; in each generation one goroutine per
// assigned partition reads fetch responses from the partition's leader and
// hands them on in chunks, and offsets are committed through
// the generation. When the generation ends (partitions move to another
// member, the coordinator is lost, or the ingester stops) what the
// partitions' records reached is committed before they are given up.
//
// kafka.Reader does the same with one goroutine hand-over and one read
// deadline per record, and without a hook for partitions moving: consuming
// with no other work took 1.7 us of CPU per record with it and 1.2-1.4 us
// reading fetch responses directly; and after a rebalance a late commit of
// the old owner could move a partition's offset back.
type consumer struct {
	o      Options
	cp     *Checkpointer
	group  *kafka.ConsumerGroup
	chunks chan chunk
	// spare holds the record slices of chunks the batcher is done with,
	// for the next chunks: a new one for every chunk was 39 KB of garbage
	// with pointers in it per 256 records.
	spare chan []kafka.Message

	mu  sync.Mutex        // serialises commits with generations starting and ending
	gen *kafka.Generation // the current generation; nil between generations

	closing chan struct{}   // closed by close: generation ends stop waiting for acknowledgements
	fail    func(err error) // reports an error that waiting cannot heal
	missing bool            // the topic was found missing (run's goroutine only)
}

// chunk is up to chunkSize consecutive records of a partition, fetched in
// generation gen.
type chunk struct {
	gen           int32
	msgs          []kafka.Message
	highWaterMark int64
	spare         chan<- []kafka.Message // where recycle returns msgs
}

// recycle hands the chunk's record slice back to the consumer, emptied;
// the records must not be used through it any more (copies of them may).
func (c chunk) recycle() {
	clear(c.msgs)
	select {
	case c.spare <- c.msgs[:0]:
	default:
	}
}

// newMsgs returns an empty slice for a chunk's records.
func (c *consumer) newMsgs() []kafka.Message {
	select {
	case m := <-c.spare:
		return m
	default:
		return make([]kafka.Message, 0, chunkSize)
	}
}

// newConsumer returns a consumer of o.Topic in group o.Group that tracks its
// records in cp and reports errors that waiting cannot heal to fail.
func newConsumer(o Options, cp *Checkpointer, fail func(error)) (*consumer, error) {
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:          o.Group,
		Brokers:     o.Brokers,
		Dialer:      o.Security.dialer(),
		Topics:      []string{o.Topic},
		StartOffset: kafka.FirstOffset,
		// Partitions added to the topic are taken up within seconds: the
		// watcher ends the generation when the count changes, and the
		// rebalance that follows assigns them. Without it they would wait
		// for the next rebalance (a restart, a member joining or leaving).
		// It also ends, at once, every generation while the topic does not
		// exist: run paces those (see paceEmpty).
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 5 * time.Second,
		// A member that died without leaving (SIGKILL, a lost host) holds
		// its partitions until its session expires: keep that short.
		SessionTimeout:   10 * time.Second,
		RebalanceTimeout: 10 * time.Second,
		Timeout:          10 * time.Second,
		ErrorLogger:      kafkaLogger(o.Logger),
	})
	if err != nil {
		return nil, err
	}
	return &consumer{o: o, cp: cp, group: group, chunks: make(chan chunk, 4),
		spare: make(chan []kafka.Message, 16), closing: make(chan struct{}), fail: fail}, nil
}

// run takes part in the group's generations until ctx ends, the group is
// closed or an error that waiting cannot heal. Chunks go to c.chunks until
// ctx ends; the generation then lasts until close.
func (c *consumer) run(ctx context.Context) {
	for {
		gen, err := c.group.Next(ctx)
		switch {
		case ctx.Err() != nil, errors.Is(err, kafka.ErrGroupClosed):
			return
		case err != nil && permanentKafkaError(err):
			c.fail(fmt.Errorf("joining consumer group %s: %w", c.o.Group, err))
			return
		case err != nil:
			// The brokers are restarting or unreachable: the group tries
			// again by itself, after its join back-off.
			c.o.Logger.Warn("joining the consumer group failed; retrying", zap.String("group", c.o.Group), zap.Error(err))
			continue
		}
		assigned := gen.Assignments[c.o.Topic]
		parts := make([]int, len(assigned))
		for i, a := range assigned {
			parts[i] = a.ID
		}
		slices.Sort(parts)
		c.mu.Lock()
		c.gen = gen
		c.cp.Assign(gen.ID, parts)
		c.mu.Unlock()
		c.o.Logger.Info("partitions assigned", zap.Int32("generation", gen.ID), zap.Ints("partitions", parts))
		for _, a := range assigned {
			gen.Start(func(gctx context.Context) { c.fetch(ctx, gctx, gen.ID, a) })
		}
		gen.Start(func(gctx context.Context) {
			<-gctx.Done()
			c.revoke(gen, parts)
		})
		if len(parts) == 0 {
			c.paceEmpty(ctx)
		} else if c.missing {
			c.missing = false
			c.o.Logger.Info("the topic exists now", zap.String("topic", c.o.Topic))
		}
	}
}

// topicRecheck is how long run waits, while the topic does not exist,
// before it takes the group's next generation.
const topicRecheck = 5 * time.Second

// paceEmpty follows a generation that gave this member no partition. In a
// group with more members than partitions that is normal, and the
// generation lasts. But while the topic does not exist, the partition
// watcher ends each generation at once and kafka-go joins again without a
// pause: then the next generation is taken only after topicRecheck (kafka-go
// waits for it before it joins again), and the topic's absence is logged
// once.
func (c *consumer) paceEmpty(ctx context.Context) {
	exists, err := topicExists(ctx, c.o.Brokers, c.o.Security, c.o.Topic)
	if err == nil && exists {
		return
	}
	if err == nil && !c.missing {
		c.missing = true
		c.o.Logger.Warn("the topic does not exist: nothing to consume until it is created; checking again every few seconds",
			zap.String("topic", c.o.Topic), zap.Duration("every", topicRecheck))
	}
	t := time.NewTimer(topicRecheck)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-c.closing:
	}
}

// revoke ends generation gen, whose partitions are parts: it waits, up to
// revokeWait, until the records fetched from them are acknowledged, commits
// through gen (Kafka takes commits of the current generation while the
// group rebalances), and stops tracking them. Records still in flight are
// indexed later all the same; their partitions' new owner fetches them
// again from the commit, and their deterministic ids make the second copy
// a no-op.
func (c *consumer) revoke(gen *kafka.Generation, parts []int) {
	wait := time.NewTimer(revokeWait)
	defer wait.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting && c.cp.Pending(parts) > 0; {
		select {
		case <-tick.C:
		case <-wait.C:
			waiting = false
		case <-c.closing:
			waiting = false
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.commitLocked(gen); err != nil {
		c.o.Logger.Warn("committing offsets as the partitions are given up failed; their records after the last commit will be delivered again",
			zap.Int32("generation", gen.ID), zap.Error(err))
	}
	c.cp.Revoke(parts)
	for _, part := range parts {
		c.o.Metrics.Lag.DeleteLabelValues(strconv.Itoa(part))
	}
	if c.gen == gen {
		c.gen = nil
	}
	c.o.Logger.Info("partitions given up", zap.Int32("generation", gen.ID), zap.Ints("partitions", parts))
}

// commit commits every assigned partition's acknowledged position.
func (c *consumer) commit() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == nil {
		return nil
	}
	return c.commitLocked(c.gen)
}

func (c *consumer) commitLocked(gen *kafka.Generation) error {
	acked := c.cp.Committable()
	if len(acked) == 0 {
		return nil
	}
	next := make(map[int]int64, len(acked))
	for part, off := range acked {
		next[part] = off + 1 // the committed position is the next record to read
	}
	if err := gen.CommitOffsets(map[string]map[int]int64{c.o.Topic: next}); err != nil {
		return err
	}
	for part, off := range acked {
		c.cp.MarkCommitted(part, off)
	}
	c.o.Metrics.Commits.Inc()
	return nil
}

// close leaves the group. The current generation ends first: its
// partitions' acknowledged positions are committed once more.
func (c *consumer) close() error {
	close(c.closing)
	return c.group.Close()
}

// fetch reads partition a from its leader, from a.Offset on, and hands the
// records on in chunks, until the generation ends (gctx) or
// fetching stops (stop). Connection and broker errors are retried with
// back-off, on a new connection, from the next offset not yet handed on.
// It returns when the generation ends: a generation of kafka-go ends as
// soon as one of its functions returns, and it must last until the final
// commit.
func (c *consumer) fetch(stop, gctx context.Context, gen int32, a kafka.PartitionAssignment) {
	defer func() { <-gctx.Done() }()
	ctx, cancel := context.WithCancel(gctx)
	defer cancel()
	defer context.AfterFunc(stop, cancel)()
	log := c.o.Logger.With(zap.String("topic", c.o.Topic), zap.Int("partition", a.ID))

	offset := a.Offset
	var conn *kafka.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	bo := backoff.NewExponentialBackOff()
	bo.MaxInterval = 10 * time.Second
	failed := func(err error) {
		if conn != nil {
			conn.Close()
			conn = nil
		}
		d := bo.NextBackOff()
		log.Warn("fetching from Kafka failed; retrying", zap.Int64("offset", offset), zap.Duration("in", d), zap.Error(err))
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			if conn, offset, err = c.dial(ctx, a.ID, offset); err != nil {
				switch {
				case ctx.Err() != nil:
					return
				case permanentKafkaError(err):
					c.fail(fmt.Errorf("fetching from topic %s: %w", c.o.Topic, err))
					return
				}
				failed(err)
				continue
			}
		}
		conn.SetReadDeadline(time.Now().Add(fetchTimeout))
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: fetchMaxBytes, MaxWait: fetchMaxWait})
		hwm := batch.HighWaterMark()
		// A chunk goes as soon as it is full, so that a partition holds one
		// chunk, not a whole fetch response, while the pipeline is full.
		hand := func(msgs []kafka.Message) bool {
			// Read before the hand-over: from then on the batcher may
			// recycle msgs.
			next := msgs[len(msgs)-1].Offset + 1
			select {
			case c.chunks <- chunk{gen: gen, msgs: msgs, highWaterMark: hwm, spare: c.spare}:
				offset = next
				return true
			case <-ctx.Done():
				return false
			}
		}
		msgs := c.newMsgs()
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			msgs = append(msgs, m)
			if len(msgs) == chunkSize {
				if !hand(msgs) {
					batch.Close()
					return
				}
				msgs = c.newMsgs()
				// The time spent waiting to hand the chunk on is not the
				// broker's.
				conn.SetReadDeadline(time.Now().Add(fetchTimeout))
			}
		}
		err := batch.Close()
		if len(msgs) == 0 {
			chunk{msgs: msgs, spare: c.spare}.recycle()
		} else if !hand(msgs) {
			return
		}
		switch {
		case err == nil, errors.Is(err, kafka.RequestTimedOut):
			// RequestTimedOut: nothing new arrived within fetchMaxWait.
			bo.Reset()
		case ctx.Err() != nil:
			return
		case errors.Is(err, kafka.OffsetOutOfRange):
			first, last, rerr := conn.ReadOffsets()
			switch {
			case rerr != nil:
				failed(rerr)
			case offset < first:
				// Retention deleted records before they were read.
				log.Error("records were deleted from the partition before they were consumed; going on from the first one left",
					zap.Int64("offset", offset), zap.Int64("first", first), zap.Int64("lost", first-offset))
				offset = first
				conn.Seek(offset, kafka.SeekAbsolute|kafka.SeekDontCheck)
			case offset > last:
				log.Warn("the committed offset is past the end of the partition; going on from its end",
					zap.Int64("offset", offset), zap.Int64("end", last))
				offset = last
				conn.Seek(offset, kafka.SeekAbsolute|kafka.SeekDontCheck)
			default:
				failed(err)
			}
		case permanentKafkaError(err):
			c.fail(fmt.Errorf("fetching from topic %s: %w", c.o.Topic, err))
			return
		default:
			failed(err)
		}
	}
}

// dial connects to the leader of partition, trying each broker in turn, and
// positions the connection at offset, resolving kafka.FirstOffset and
// kafka.LastOffset; it returns the connection and the offset it reads from.
// An offset outside the partition is left for the first fetch to report.
func (c *consumer) dial(ctx context.Context, partition int, offset int64) (*kafka.Conn, int64, error) {
	d := c.o.Security.fetchDialer()
	var errs []error
	for _, broker := range c.o.Brokers {
		conn, err := d.DialLeader(ctx, "tcp", broker, c.o.Topic, partition)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		conn.SetDeadline(time.Now().Add(d.Timeout))
		first, last, err := conn.ReadOffsets()
		if err == nil {
			switch offset {
			case kafka.FirstOffset:
				offset = first
			case kafka.LastOffset:
				offset = last
			}
			_, err = conn.Seek(offset, kafka.SeekAbsolute|kafka.SeekDontCheck)
		}
		conn.SetDeadline(time.Time{})
		if err != nil {
			conn.Close()
			errs = append(errs, err)
			continue
		}
		return conn, offset, nil
	}
	return nil, offset, errors.Join(errs...)
}
