package pipeline

import (
	"context"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/sdtriage/sdtriage/classify"
)

// Dead-letter reasons (the sdtriage.reason header and the reason label of
// sdtriage_records_dead_lettered_total).
const (
	ReasonNotObject  = "not_json_object"        // the record is not a usable JSON object
	ReasonUnusable   = "unusable"               // classify could not render a document for another reason
	ReasonESRejected = "elasticsearch_rejected" // Elasticsearch rejected the document for good (mapping or parse error)
)

// Dead-letter headers.
const (
	HeaderReason    = "sdtriage.reason"
	HeaderTopic     = "sdtriage.topic"
	HeaderPartition = "sdtriage.partition"
	HeaderOffset    = "sdtriage.offset"
	HeaderTime      = "sdtriage.time"
	HeaderRuleset   = "sdtriage.ruleset"
	HeaderError     = "sdtriage.error"
)

// deadLetter is a record on its way to the dead-letter topic.
type deadLetter struct {
	msg    kafka.Message
	reason string
	err    string // unmasked; masked when written
}

// dlqWriter writes records that cannot be indexed to the dead-letter topic: the
// original key, bytes and headers, and sdtriage.* headers saying why and
// where from. Credentials in them are masked (CONTRACT section 4: nothing is
// written to the dead-letter queue unmasked): each is replaced by its
// fingerprint and everything else is kept byte for byte, so a dead letter
// can still be read, fixed and replayed, and still says which key failed.
// The error text is masked too: it may quote the record.
type dlqWriter struct {
	writer  *kafka.Writer
	ruleset string
	metrics *Metrics
	log     *zap.Logger
}

// newDLQWriter returns a dlqWriter writing with w (whose Topic is the dead-letter topic).
func newDLQWriter(w *kafka.Writer, ruleset string, m *Metrics, log *zap.Logger) *dlqWriter {
	return &dlqWriter{writer: w, ruleset: ruleset, metrics: m, log: log}
}

// Write writes letters, retrying with capped exponential backoff until Kafka
// accepts them or ctx ends: a record is never acknowledged before it is in
// the dead-letter topic.
func (d *dlqWriter) Write(ctx context.Context, letters []deadLetter) error {
	if len(letters) == 0 {
		return nil
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	msgs := make([]kafka.Message, len(letters))
	for i, l := range letters {
		h := make([]kafka.Header, 0, len(l.msg.Headers)+7)
		for _, oh := range l.msg.Headers {
			v := maskBytes(oh.Value)
			if classify.IsSecretKey(oh.Key) {
				v = []byte(classify.MaskValue(string(oh.Value)))
			}
			h = append(h, kafka.Header{Key: oh.Key, Value: v})
		}
		h = append(h,
			kafka.Header{Key: HeaderReason, Value: []byte(l.reason)},
			kafka.Header{Key: HeaderTopic, Value: []byte(l.msg.Topic)},
			kafka.Header{Key: HeaderPartition, Value: strconv.AppendInt(nil, int64(l.msg.Partition), 10)},
			kafka.Header{Key: HeaderOffset, Value: strconv.AppendInt(nil, l.msg.Offset, 10)},
			kafka.Header{Key: HeaderTime, Value: []byte(now)},
			kafka.Header{Key: HeaderRuleset, Value: []byte(d.ruleset)},
			kafka.Header{Key: HeaderError, Value: []byte(classify.MaskString(l.err))},
		)
		msgs[i] = kafka.Message{Key: maskBytes(l.msg.Key), Value: maskBytes(l.msg.Value), Headers: h}
	}
	b := backoff.NewExponentialBackOff()
	b.MaxInterval = 10 * time.Second
	for attempt := 1; ; attempt++ {
		err := d.writer.WriteMessages(ctx, msgs...)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.Warn("writing to the dead-letter topic failed; retrying", zap.String("topic", d.writer.Topic),
			zap.Int("records", len(msgs)), zap.Int("attempt", attempt), zap.Error(err))
		t := time.NewTimer(b.NextBackOff())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	for _, l := range letters {
		d.metrics.DeadLettered.WithLabelValues(l.reason).Inc()
	}
	return nil
}

// maskBytes returns b with credentials masked; b itself when there are none.
func maskBytes(b []byte) []byte {
	s := string(b)
	if m := classify.MaskString(s); m != s {
		return []byte(m)
	}
	return b
}
