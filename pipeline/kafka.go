package pipeline

import (
	"crypto/tls"
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

// transport returns the dead-letter writer's transport.
func (s KafkaSecurity) transport() *kafka.Transport {
	return &kafka.Transport{DialTimeout: 10 * time.Second, TLS: s.TLS, SASL: s.SASL}
}

// kafkaLogger adapts zap to kafka-go's error logger; kafka-go's messages
// hold broker and partition names, never record contents.
func kafkaLogger(log *zap.Logger) kafka.Logger {
	s := log.Sugar()
	return kafka.LoggerFunc(func(msg string, args ...any) { s.Warnf(msg, args...) })
}
