// Package pipeline consumes API call log records from Kafka, classifies
// them and indexes them into Elasticsearch, with nothing lost and nothing
// duplicated.
//
// A record travels with its acknowledgement (Benthos's shape): the fetch
// loop takes a slot of the in-flight limit and a Ticket from the
// Checkpointer; the batcher classifies it into a bulk body (or a dead
// letter); a worker writes the batch to Elasticsearch, retrying what can
// succeed later, dead-letters what was rejected for good, and only then
// acknowledges every record of the batch. The committer commits, per
// partition, the highest offset below which everything is acknowledged.
//
// kafka-go has no partition-revoked callback: after a rebalance a partition
// may be fetched again from its last commit, and records still in flight
// here may be indexed after another member fetched them too. Deterministic
// document ids in deterministic indices (see Template) with create actions
// make that harmless: the second create answers 409, counted as done.
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

	"github.com/cenkalti/backoff/v5"
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
	sem  chan struct{} // in-flight limit: one slot per fetched, unacknowledged record
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
		sem:  make(chan struct{}, o.MaxInFlight),
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

// fetched is a record with its ticket.
type fetched struct {
	msg    kafka.Message
	ticket Ticket
}

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
	created, err := ensureTopic(tctx, o.Brokers, o.Security, o.DLQTopic)
	cancel()
	switch {
	case err != nil:
		o.Logger.Warn("could not make sure the dead-letter topic exists; create it if automatic topic creation is off",
			zap.String("topic", o.DLQTopic), zap.Error(err))
	case created:
		o.Logger.Info("dead-letter topic created", zap.String("topic", o.DLQTopic))
	}
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        o.Brokers,
		GroupID:        o.Group,
		Topic:          o.Topic,
		Dialer:         o.Security.dialer(),
		CommitInterval: 0, // commits are explicit (committer below)
		StartOffset:    kafka.FirstOffset,
		MinBytes:       1,
		MaxBytes:       1 << 20,
		MaxWait:        250 * time.Millisecond,
		// A member that died without leaving (SIGKILL, a lost host) holds
		// its partitions until its session expires: keep that short.
		SessionTimeout:   10 * time.Second,
		RebalanceTimeout: 10 * time.Second,
		ErrorLogger:      kafkaLogger(o.Logger),
	})
	writer := &kafka.Writer{
		Addr:                   kafka.TCP(o.Brokers...),
		Topic:                  o.DLQTopic,
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           5 * time.Millisecond,
		AllowAutoTopicCreation: false, // ensureTopic creates it, with the brokers' defaults
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

	records := make(chan fetched, 1024)
	batches := make(chan *batch, o.Workers)
	var wg sync.WaitGroup
	wg.Go(func() { p.fetch(fetchCtx, drainCtx, reader, records) })
	wg.Go(func() { p.batch(drainCtx, records, batches) })
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
			cctx, cancel := context.WithTimeout(drainCtx, 10*time.Second)
			if err := p.commit(cctx, reader); err != nil && drainCtx.Err() == nil {
				o.Logger.Warn("committing offsets failed; will retry", zap.Error(err))
			}
			cancel()
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
	commitErr := p.commit(cctx, reader)
	if commitErr != nil {
		o.Logger.Error("final offset commit failed; the records after the last commit will be redelivered", zap.Error(commitErr))
	}
	closed := make(chan error, 1)
	go func() { closed <- errors.Join(reader.Close(), writer.Close()) }()
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
	if n := len(p.sem); n > 0 {
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

// fetch reads records into out until ctx ends, holding a slot of the
// in-flight limit for each. A fetched record is always handed on, unless
// drain ends: the batcher drains out until fetching stops.
func (p *Pipeline) fetch(ctx, drain context.Context, reader *kafka.Reader, out chan<- fetched) {
	defer close(out)
	lag := map[int]prometheus.Gauge{}
	var (
		failures int // consecutive failed fetches
		bo       *backoff.ExponentialBackOff
	)
	for {
		// Non-blocking first, the common case, as in next.
		select {
		case p.sem <- struct{}{}:
		default:
			select {
			case p.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
		m, err := reader.FetchMessage(ctx)
		if err != nil {
			<-p.sem
			if ctx.Err() != nil {
				return
			}
			if permanentKafkaError(err) {
				p.fail(fmt.Errorf("fetching from topic %s: %w", p.o.Topic, err))
				return
			}
			// A broker restart or a network cut: kafka-go gives up on the
			// group after three attempts, but the reader heals once the
			// brokers are back, so wait and fetch again.
			failures++
			p.o.Logger.Warn("fetching from Kafka failed; retrying", zap.String("topic", p.o.Topic),
				zap.Int("attempt", failures), zap.Error(err))
			if bo == nil {
				bo = backoff.NewExponentialBackOff()
				bo.MaxInterval = 10 * time.Second
			}
			t := time.NewTimer(bo.NextBackOff())
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		failures, bo = 0, nil
		t := p.cp.Track(m.Partition, m.Offset)
		p.o.Metrics.Consumed.Inc()
		p.o.Metrics.InFlight.Inc()
		g := lag[m.Partition]
		if g == nil {
			g = p.o.Metrics.Lag.WithLabelValues(strconv.Itoa(m.Partition))
			lag[m.Partition] = g
		}
		g.Set(float64(m.HighWaterMark - m.Offset - 1))
		f := fetched{msg: m, ticket: t}
		select {
		case out <- f:
		default:
			select {
			case out <- f:
			case <-drain.Done():
				return // tracked, never acknowledged: not committed, redelivered later
			}
		}
	}
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

// batch groups records into batches, classifying each into the bulk body
// or a dead letter, until in is closed.
func (p *Pipeline) batch(ctx context.Context, in <-chan fetched, out chan<- *batch) {
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
		case <-ctx.Done():
			return false
		}
		b = p.newBatch()
		return true
	}
	for {
		r, ok, flush := next(in, timer.C)
		if flush {
			if !send() {
				return
			}
			continue
		}
		if !ok {
			send()
			return
		}
		if len(b.tickets) == 0 {
			timer.Reset(o.FlushInterval)
		}
		var res classify.Result
		m := &r.msg
		err := b.body.add(o.Index, m.Topic, m.Partition, m.Offset, func(dst []byte) ([]byte, time.Time, error) {
			now := time.Now()
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
		b.tickets = append(b.tickets, r.ticket)
		if err != nil {
			reason := ReasonUnusable
			if errors.Is(err, classify.ErrNotObject) {
				reason = ReasonNotObject
			}
			b.dead = append(b.dead, deadLetter{msg: r.msg, reason: reason, err: err.Error()})
		} else {
			b.msgs = append(b.msgs, r.msg)
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
		if len(b.tickets) >= o.BatchSize || len(b.body.buf) >= o.BatchBytes {
			if !send() {
				return
			}
		}
	}
}

// next receives the next record for batch: flush reports that the flush
// timer fired, !ok that in is closed. A record or timeout already waiting
// is taken without a select over both (runtime.selectgo was 8% of the
// ingester's CPU), the timer first so that a steady stream cannot delay a
// flush.
func next(in <-chan fetched, timer <-chan time.Time) (r fetched, ok, flush bool) {
	select {
	case <-timer:
		return fetched{}, true, true
	default:
	}
	select {
	case r, ok = <-in:
		return r, ok, false
	default:
	}
	select {
	case r, ok = <-in:
		return r, ok, false
	case <-timer:
		return fetched{}, true, true
	}
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
			<-p.sem
		}
		p.o.Metrics.InFlight.Sub(float64(len(b.tickets)))
		p.recycle(b)
	}
}

// commit commits every partition's acknowledged position.
func (p *Pipeline) commit(ctx context.Context, reader *kafka.Reader) error {
	offsets := p.cp.Committable()
	if len(offsets) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, 0, len(offsets))
	for part, off := range offsets {
		msgs = append(msgs, kafka.Message{Topic: p.o.Topic, Partition: part, Offset: off})
	}
	if err := reader.CommitMessages(ctx, msgs...); err != nil {
		return err
	}
	for part, off := range offsets {
		p.cp.MarkCommitted(part, off)
	}
	p.o.Metrics.Commits.Inc()
	return nil
}
