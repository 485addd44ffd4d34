package pipeline

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"go.uber.org/zap"
)

// KafkaSecurity is how the consumer and the dead-letter writer reach the
// brokers. The zero value is plaintext without authentication.
type KafkaSecurity struct {
	TLS  *tls.Config    // nil: no TLS
	SASL sasl.Mechanism // nil: no SASL
}

// dialer returns the consumer's dialer.
func (s KafkaSecurity) dialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: s.TLS, SASLMechanism: s.SASL}
}

// fetchReadBuffer is how much a fetch connection reads at once. kafka-go
// reads its connections through 4 KB buffers, so a fetch response of 1 MiB
// took 256 read system calls.
const fetchReadBuffer = 256 << 10

// fetchDialer returns the dialer of the connections that fetch records:
// the consumer's, with reads through a fetchReadBuffer (below TLS when
// there is TLS).
func (s KafkaSecurity) fetchDialer() *kafka.Dialer {
	d := s.dialer()
	nd := &net.Dialer{}
	d.DialFunc = func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := nd.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, fetchReadBuffer)}, nil
	}
	return d
}

// bufferedConn is a net.Conn whose reads go through r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// transport returns the dead-letter writer's transport.
func (s KafkaSecurity) transport() *kafka.Transport {
	return &kafka.Transport{DialTimeout: 10 * time.Second, TLS: s.TLS, SASL: s.SASL}
}

// client returns a client for administrative requests to brokers.
func (s KafkaSecurity) client(brokers []string) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(brokers...), Transport: s.transport(), Timeout: 10 * time.Second}
}

// kafkaLogger adapts zap to kafka-go's error logger; kafka-go's messages
// hold broker and partition names, never record contents.
func kafkaLogger(log *zap.Logger) kafka.Logger {
	s := log.Sugar()
	return kafka.LoggerFunc(func(msg string, args ...any) { s.Warnf(msg, args...) })
}

// EnsureTopic creates topic, with the brokers' default partition count and
// replication factor, when it does not exist, and reports whether it did.
// The dead-letter topic needs it, and so does `ingest generate`'s topic:
// with automatic topic creation off (the usual production setting) every
// write would fail until someone created the topic. Kafka Connect creates
// its dead-letter topic the same way.
func EnsureTopic(ctx context.Context, brokers []string, sec KafkaSecurity, topic string) (bool, error) {
	res, err := sec.client(brokers).CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topic, NumPartitions: -1, ReplicationFactor: -1},
	}})
	if err != nil {
		return false, err
	}
	switch err := res.Errors[topic]; {
	case err == nil:
		return true, nil
	case errors.Is(err, kafka.TopicAlreadyExists):
		return false, nil
	default:
		return false, err
	}
}

// topicExists asks the brokers whether topic exists, without creating it.
func topicExists(ctx context.Context, brokers []string, sec KafkaSecurity, topic string) (bool, error) {
	res, err := sec.client(brokers).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return false, err
	}
	for _, t := range res.Topics {
		if t.Name == topic {
			if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
				return false, nil
			}
			return t.Error == nil, t.Error
		}
	}
	return false, nil
}
