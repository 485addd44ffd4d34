// Package pipeline consumes API call log records from Kafka, classifies
// them and indexes them into Elasticsearch, with nothing lost and nothing
// duplicated.
//
// A record travels with its acknowledgement (Benthos's shape): the consumer
// (consumer.go) fetches it in a chunk of its partition; the batcher takes a
// slot of the in-flight limit and a Ticket from the Checkpointer for it and
// classifies it into a bulk body (or a dead letter); a worker writes the
// batch to Elasticsearch, retrying what can succeed later, dead-letters what
// was rejected for good, and only then acknowledges every record of the
// batch. The committer commits, per partition, the highest offset below
// which everything is acknowledged; so does the consumer when partitions
// move to another member.
//
// A record may still be in flight here when its partition has moved (the
// wait for it at the rebalance is bounded), so the new owner fetches it
// again. Deterministic document ids in deterministic indices (see Template)
// with create actions make that harmless: the second create answers 409,
// counted as done.
package pipeline

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/sdtriage/sdtriage/classify"
)

// Options configure a Pipeline. cmd/ingest documents the defaults users see.
type Options struct {
	Brokers  []string
	Topic    string
	Group    string
	DLQTopic string
	Security KafkaSecurity

	Elasticsearch *elasticsearch.Client
	Index         string // prefix of the daily indices <Index>-YYYY.MM.DD

	Classifier *classify.Classifier

	BatchSize       int           // records per bulk request
	BatchBytes      int           // bytes per bulk request body
	FlushInterval   time.Duration // longest a record waits for its batch to fill
	MaxInFlight     int           // records fetched and not yet acknowledged; fetching pauses at the limit
	Workers         int           // concurrent bulk requests
	CommitInterval  time.Duration
	ShutdownTimeout time.Duration // from the stop signal to the end of Run

	Metrics *Metrics
	Logger  *zap.Logger
}

// Pipeline is the Kafka to Elasticsearch ingester.
type Pipeline struct {
	o    Options
	cp   *Checkpointer
	sink *sink
	lim  *limiter // in-flight limit: one slot per fetched, unacknowledged record
	// free holds finished batches for reuse: a batch's bulk body grows to
	// megabytes, and growing a new one for every request cost a tenth of
	// the ingester's CPU in copying and garbage collection.
	free chan *batch

	running atomic.Bool

	failOnce sync.Once
	failErr  error
	stop     func() // cancels fetching and draining after a fatal error
}

// New returns a Pipeline; Run starts it.
func New(o Options) *Pipeline {
	return &Pipeline{
		o:    o,
		cp:   NewCheckpointer(),
		sink: newSink(o.Elasticsearch, o.Metrics, o.Logger),
		lim:  newLimiter(o.MaxInFlight),
		free: make(chan *batch, o.Workers+2),
	}
}

// newBatch returns an empty batch, reusing a finished one when there is one.
func (p *Pipeline) newBatch() *batch {
	select {
	case b := <-p.free:
		return b
	default:
		return &batch{}
	}
}

// recycle empties a finished batch and keeps it for newBatch; nothing may
// refer to it any more. Records are cleared so that their bytes can be
// collected.
func (p *Pipeline) recycle(b *batch) {
	b.body.reset()
	clear(b.msgs)
	clear(b.dead)
	b.msgs, b.dead, b.tickets = b.msgs[:0], b.dead[:0], b.tickets[:0]
	select {
	case p.free <- b:
	default:
	}
}

// Ready reports whether the pipeline is consuming and Elasticsearch is
// taking documents (for /readyz). While bulk requests wait to be retried it
// is not ready, and fetching is paused by the in-flight limit.
func (p *Pipeline) Ready() bool { return p.running.Load() && p.sink.Healthy() }

// batch is the unit of work of a bulk request.
type batch struct {
	body    bulkBody
	msgs    []kafka.Message // msgs[i] is body item i, kept for the dead-letter topic
	dead    []deadLetter    // records dead-lettered without reaching Elasticsearch
	tickets []Ticket        // every record of the batch
}

// Run consumes until ctx ends or a fatal error, then shuts down: it stops
// fetching, flushes and indexes what was fetched, commits, and leaves the
// group, all within ShutdownTimeout of ctx's end. It returns nil after a
// complete graceful shutdown.
func (p *Pipeline) Run(ctx context.Context) error {
	o := p.o
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	created, err := EnsureTopic(tctx, o.Brokers, o.Security, o.DLQTopic)
	cancel()
	switch {
	case err != nil:
		o.Logger.Warn("could not make sure the dead-letter topic exists; create it if automatic topic creation is off",
			zap.String("topic", o.DLQTopic), zap.Error(err))
	case created:
		o.Logger.Info("dead-letter topic created", zap.String("topic", o.DLQTopic))
	}
	cons, err := newConsumer(o, p.cp, p.fail)
	if err != nil {
		return fmt.Errorf("kafka consumer group: %w", err)
	}
	writer := &kafka.Writer{
		Addr:                   kafka.TCP(o.Brokers...),
		Topic:                  o.DLQTopic,
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           5 * time.Millisecond,
		AllowAutoTopicCreation: false, // EnsureTopic creates it, with the brokers' defaults
		Transport:              o.Security.transport(),
		ErrorLogger:            kafkaLogger(o.Logger),
	}
	dlq := newDLQWriter(writer, o.Classifier.Ruleset(), o.Metrics, o.Logger)

	// fetchCtx ends fetching: at ctx's end or on a fatal error. drainCtx
	// ends retries of what was fetched: at the shutdown deadline (less a
	// reserve for the final commit and leaving the group) or on a fatal error.
	fetchCtx, stopFetch := context.WithCancel(ctx)
	drainCtx, stopDrain := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFetch()
	defer stopDrain()
	p.stop = func() { stopFetch(); stopDrain() }
	reserve := min(o.ShutdownTimeout/4, 3*time.Second)
	deadline := make(chan time.Time, 1) // when the shutdown must be over
	go func() {
		select {
		case <-ctx.Done():
			deadline <- time.Now().Add(o.ShutdownTimeout)
			o.Logger.Info("stopping: no more fetching; flushing what is in flight", zap.Duration("deadline", o.ShutdownTimeout))
			t := time.NewTimer(o.ShutdownTimeout - reserve)
			defer t.Stop()
			select {
			case <-t.C:
				stopDrain()
			case <-drainCtx.Done():
			}
		case <-drainCtx.Done():
		}
	}()

	batches := make(chan *batch, o.Workers)
	var wg sync.WaitGroup
	wg.Go(func() { cons.run(fetchCtx) })
	wg.Go(func() { p.batch(fetchCtx, drainCtx, cons.chunks, batches) })
	var workers sync.WaitGroup
	for range o.Workers {
		workers.Go(func() { p.work(drainCtx, dlq, batches) })
	}
	workersDone := make(chan struct{})
	go func() { workers.Wait(); close(workersDone) }()

	p.running.Store(true)
	o.Logger.Info("consuming", zap.String("topic", o.Topic), zap.String("group", o.Group),
		zap.String("index", o.Index+"-*"), zap.String("dlq_topic", o.DLQTopic), zap.String("ruleset", o.Classifier.Ruleset()))
	tick := time.NewTicker(o.CommitInterval)
	for done := false; !done; {
		select {
		case <-tick.C:
			if err := cons.commit(); err != nil && drainCtx.Err() == nil {
				o.Logger.Warn("committing offsets failed; will retry", zap.Error(err))
			}
		case <-workersDone:
			done = true
		}
	}
	tick.Stop()
	p.running.Store(false)
	wg.Wait()

	// Final commit and leaving the group, within what is left of the deadline.
	var end time.Time
	select {
	case end = <-deadline:
	default:
		end = time.Now().Add(o.ShutdownTimeout) // fatal error: ctx has not ended
	}
	cctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), end)
	defer cancel()
	committed := make(chan error, 1)
	go func() { committed <- cons.commit() }()
	var commitErr error
	select {
	case commitErr = <-committed:
	case <-cctx.Done():
		commitErr = fmt.Errorf("not finished before the shutdown deadline: %w", cctx.Err())
	}
	if commitErr != nil {
		o.Logger.Error("final offset commit failed; the records after the last commit will be redelivered", zap.Error(commitErr))
	}
	closed := make(chan error, 1)
	go func() { closed <- errors.Join(cons.close(), writer.Close()) }()
	select {
	case err := <-closed:
		if err != nil {
			o.Logger.Warn("closing the Kafka clients", zap.Error(err))
		}
	case <-cctx.Done():
		o.Logger.Warn("leaving the consumer group did not finish before the shutdown deadline")
	}

	if p.failErr != nil {
		return p.failErr
	}
	if n := p.lim.inUse(); n > 0 {
		return fmt.Errorf("shutdown deadline reached with %d record(s) not acknowledged; they were not committed and will be redelivered", n)
	}
	if commitErr != nil {
		return fmt.Errorf("final offset commit: %w", commitErr)
	}
	o.Logger.Info("stopped cleanly: everything fetched is indexed or dead-lettered and committed")
	return nil
}

// fail records the first fatal error and stops the pipeline.
func (p *Pipeline) fail(err error) {
	p.failOnce.Do(func() {
		p.failErr = err
		p.o.Logger.Error("stopping on a fatal error; nothing past it is committed", zap.Error(err))
		p.stop()
	})
}

// permanentKafkaError reports whether a fetch error cannot heal by waiting:
// rejected credentials, missing authorization, an untrusted or invalid
// certificate. Everything else (connection refused or reset, a broker
// restarting, a coordinator moving) is retried.
func permanentKafkaError(err error) bool {
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		switch kerr {
		case kafka.SASLAuthenticationFailed, kafka.UnsupportedSASLMechanism, kafka.IllegalSASLState,
			kafka.TopicAuthorizationFailed, kafka.GroupAuthorizationFailed, kafka.ClusterAuthorizationFailed:
			return true
		}
	}
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// classKey labels sdtriage_records_classified_total.
type classKey struct{ outcome, category, reason string }

// errUnusable marks a JSON object with none of the contract's fields.
var errUnusable = errors.New("the record has none of the fields of an API call log record")

// batch takes the records of the chunks from in, each with a slot of the
// in-flight limit and a ticket, and classifies them into batches for out:
// a batch goes when it is full, when FlushInterval has passed since its
// first record, and before waiting for a slot. It stops when ctx ends (then
// it hands on what it holds, unless drain ends first) and closes out.
// Records it did not take are not tracked, so never committed: they are
// fetched again by the next consumer.
func (p *Pipeline) batch(ctx, drain context.Context, in <-chan chunk, out chan<- *batch) {
	defer close(out)
	o := p.o
	counters := map[classKey]prometheus.Counter{}
	b := p.newBatch()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	send := func() bool {
		timer.Stop()
		if len(b.tickets) == 0 {
			return true
		}
		select {
		case out <- b:
		case <-drain.Done():
			return false // never acknowledged: not committed, delivered again later
		}
		b = p.newBatch()
		return true
	}
	for {
		var c chunk
		select {
		case c = <-in:
		case <-timer.C:
			if !send() {
				return
			}
			continue
		case <-ctx.Done():
			send()
			return
		}
		msgs, tracked := c.msgs, 0
		for len(msgs) > 0 {
			k := p.lim.take(len(msgs))
			if k == 0 {
				// At the limit: the slots come back once the workers have
				// written what this batch holds too.
				if !send() {
					return
				}
				select {
				case <-p.lim.freed:
					continue
				case <-ctx.Done():
					send()
					return
				}
			}
			// One clock reading for the records taken together: they are
			// classified within a millisecond or two of it.
			now := time.Now()
			n, sent := 0, true
			for _, m := range msgs[:k] {
				t, ok := p.cp.Track(c.gen, m.Partition, m.Offset)
				if !ok {
					break // fetched before a rebalance: the partition is fetched again
				}
				n++
				if len(b.tickets) == 0 {
					timer.Reset(o.FlushInterval)
				}
				p.add(b, m, t, now, counters)
				if len(b.tickets) >= o.BatchSize || len(b.body.buf) >= o.BatchBytes {
					if sent = send(); !sent {
						break
					}
				}
			}
			p.lim.release(k - n) // slots of records not taken
			o.Metrics.Consumed.Add(float64(n))
			o.Metrics.InFlight.Add(float64(n))
			tracked += n
			if !sent {
				return
			}
			if n < k {
				break
			}
			msgs = msgs[k:]
		}
		if tracked > 0 { // the consumer deletes the gauge of a partition it gives up
			m := c.msgs[tracked-1]
			o.Metrics.Lag.WithLabelValues(strconv.Itoa(m.Partition)).Set(float64(c.highWaterMark - m.Offset - 1))
		}
		c.recycle()
	}
}

// add classifies one record into b, as ingested at now: a document of the
// bulk body, or a dead letter. counters caches the classified counter of
// each outcome.
func (p *Pipeline) add(b *batch, m kafka.Message, t Ticket, now time.Time, counters map[classKey]prometheus.Counter) {
	o := p.o
	var res classify.Result
	err := b.body.add(o.Index, m.Topic, m.Partition, m.Offset, func(dst []byte) ([]byte, time.Time, error) {
		doc, rr, err := o.Classifier.AppendDocument(dst, m.Value, classify.Source{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}, now)
		res = rr
		switch {
		case err != nil:
			return doc, time.Time{}, err
		case rr.Unusable:
			return doc, time.Time{}, errUnusable
		case !rr.Timestamp.IsZero():
			return doc, rr.Timestamp, nil
		case !m.Time.IsZero():
			// No time in the record: the Kafka timestamp is the
			// same on every delivery, so the index stays the same.
			return doc, m.Time, nil
		}
		return doc, now, nil
	})
	b.tickets = append(b.tickets, t)
	if err != nil {
		reason := ReasonUnusable
		if errors.Is(err, classify.ErrNotObject) {
			reason = ReasonNotObject
		}
		b.dead = append(b.dead, deadLetter{msg: m, reason: reason, err: err.Error()})
		return
	}
	b.msgs = append(b.msgs, m)
	k := classKey{outcome: "success"}
	if res.Failure {
		k = classKey{"failure", string(res.Category), res.Reason}
	}
	c := counters[k]
	if c == nil {
		c = o.Metrics.Classified.WithLabelValues(k.outcome, k.category, k.reason)
		counters[k] = c
	}
	c.Inc()
}

// work writes batches: bulk request, dead letters, then acknowledgement.
// A batch that cannot be finished (fatal error, shutdown deadline) is left
// unacknowledged, so no commit passes it.
func (p *Pipeline) work(ctx context.Context, dlq *dlqWriter, in <-chan *batch) {
	for b := range in {
		if b.body.len() > 0 {
			rejected, err := p.sink.Write(ctx, &b.body)
			if err != nil {
				if ctx.Err() == nil {
					p.fail(err)
				}
				continue
			}
			for _, r := range rejected {
				m := b.msgs[r.item]
				p.o.Logger.Warn("elasticsearch rejected a document; dead-lettering it",
					zap.String("topic", m.Topic), zap.Int("partition", m.Partition), zap.Int64("offset", m.Offset),
					zap.Int("status", r.status), zap.String("error", classify.MaskString(r.reason)))
				b.dead = append(b.dead, deadLetter{msg: m, reason: ReasonESRejected, err: r.reason})
			}
		}
		if err := dlq.Write(ctx, b.dead); err != nil {
			continue
		}
		for _, t := range b.tickets {
			p.cp.Ack(t)
		}
		p.lim.release(len(b.tickets))
		p.o.Metrics.InFlight.Sub(float64(len(b.tickets)))
		p.recycle(b)
	}
}
