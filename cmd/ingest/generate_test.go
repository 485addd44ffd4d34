package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sdtriage/sdtriage/internal/testenv"
	"github.com/sdtriage/sdtriage/pipeline"
)

func TestGenerateFlags(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 26, 6, 30, 15, 0, time.UTC) }
	env := map[string]string{"KAFKA_BROKERS": "k1:9092,k2:9092", "KAFKA_TOPIC": "api-calls"}
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr []string // each must appear; nil when the flags are valid
		check  func(t *testing.T, cfg generateConfig)
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, cfg generateConfig) {
			if cfg.Out != "-" || cfg.kafka || cfg.Records != 100000 || cfg.Seed != 1 || cfg.Rate != 0 {
				t.Errorf("defaults: %+v", cfg)
			}
			if want := time.Date(2026, 11, 26, 6, 30, 0, 0, time.UTC); !cfg.End.Equal(want) || !cfg.Start.Equal(want.Add(-7*24*time.Hour)) {
				t.Errorf("period %s - %s", cfg.Start, cfg.End)
			}
		}},
		{name: "env does not switch to kafka", env: env, check: func(t *testing.T, cfg generateConfig) {
			if cfg.kafka {
				t.Error("KAFKA_* in the environment switched the output to Kafka")
			}
		}},
		{name: "kafka defaults as ingest run", args: []string{"--kafka-batch", "10"}, check: func(t *testing.T, cfg generateConfig) {
			if !cfg.kafka || cfg.Brokers != "127.0.0.1:9092" || cfg.Topic != defaultTopic {
				t.Errorf("kafka config: %+v", cfg)
			}
		}},
		{name: "kafka from env values", args: []string{"--kafka-topic", "t2", "--rate", "250/s"}, env: env, check: func(t *testing.T, cfg generateConfig) {
			if !cfg.kafka || cfg.Brokers != "k1:9092,k2:9092" || cfg.Topic != "t2" || cfg.Rate != 250 {
				t.Errorf("kafka config: %+v", cfg)
			}
		}},
		{name: "sasl from the environment", args: []string{"--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-username", "u"},
			env: map[string]string{"KAFKA_PASSWORD": "p", "KAFKA_TLS": "true"}, check: func(t *testing.T, cfg generateConfig) {
				sec := cfg.Security
				if !cfg.kafka || !sec.KafkaTLS || sec.SASLMechanism != "SCRAM-SHA-512" || sec.KafkaUsername != "u" || sec.KafkaPassword != "p" {
					t.Errorf("kafka security: %+v", sec)
				}
				ks, err := sec.kafkaSecurity()
				if err != nil {
					t.Fatal(err)
				}
				w := newKafkaWriter(cfg, ks)
				if tr, ok := w.Transport.(*kafka.Transport); !ok || tr.TLS == nil || tr.SASL == nil || tr.SASL.Name() != "SCRAM-SHA-512" {
					t.Errorf("writer transport %+v: want TLS and SCRAM-SHA-512", w.Transport)
				}
			}},
		{name: "security env alone does not switch to kafka", env: map[string]string{"KAFKA_SASL_MECHANISM": "PLAIN"}, check: func(t *testing.T, cfg generateConfig) {
			if cfg.kafka {
				t.Error("KAFKA_SASL_MECHANISM in the environment switched the output to Kafka")
			}
		}},
		{name: "bad security", args: []string{"--kafka-sasl-mechanism", "GSSAPI", "--kafka-ca-file", "/nonexistent/ca.pem"},
			env: map[string]string{"KAFKA_TLS": "maybe"}, code: usageExitCode,
			stderr: []string{`KAFKA_TLS: want true or false, got "maybe"`, "KAFKA_CA_FILE (--kafka-ca-file)", `"GSSAPI" is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`}},
		{name: "sasl without password", args: []string{"--kafka-sasl-mechanism", "PLAIN", "--kafka-username", "u"}, code: usageExitCode,
			stderr: []string{"KAFKA_SASL_MECHANISM=PLAIN needs KAFKA_USERNAME and KAFKA_PASSWORD"}},
		{name: "dates", args: []string{"--from", "2026-11-01", "--to", "2026-11-15T12:00:00+01:00", "--count", "10"}, check: func(t *testing.T, cfg generateConfig) {
			if !cfg.Start.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || !cfg.End.Equal(time.Date(2026, 11, 15, 11, 0, 0, 0, time.UTC)) {
				t.Errorf("period %s - %s", cfg.Start, cfg.End)
			}
		}},
		{name: "every problem at once", args: []string{"--count", "0", "--from", "yesterday", "--rate", "fast", "--kafka-brokers", "k:9092", "--out", "x", "--leak-rate", "2", "extra"},
			code: usageExitCode, stderr: []string{"unexpected arguments: extra", "--out and --kafka-* are exclusive",
				`--from: want RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01), got "yesterday"`, `--rate: want a number`, "records must be positive, got 0",
				"leak rate must be between 0 and 1, got 2"}},
		{name: "empty period", args: []string{"--from", "2026-11-02", "--to", "2026-11-01"}, code: usageExitCode, stderr: []string{"is not after start"}},
		{name: "bad batch", args: []string{"--kafka-topic", "t", "--kafka-brokers", "k:1", "--kafka-batch", "0"}, code: usageExitCode, stderr: []string{"--kafka-batch must be positive"}},
		{name: "no broker", args: []string{"--kafka-brokers", " , "}, code: usageExitCode, stderr: []string{`--kafka-brokers: no broker in " , "`}},
		{name: "unknown flag", args: []string{"--bogus"}, code: usageExitCode, stderr: []string{"flag provided but not defined: -bogus"}},
		{name: "help", args: []string{"-h"}, code: successExitCode, stderr: []string{"Usage: ingest generate", "-kafka-brokers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			cfg, code, ok := parseGenerateFlags(tt.args, &stderr, getenv, now)
			if tt.stderr == nil {
				if !ok {
					t.Fatalf("exit %d: %s", code, stderr.String())
				}
				tt.check(t, cfg)
				return
			}
			if ok || code != tt.code {
				t.Errorf("ok %v, exit %d; want exit %d", ok, code, tt.code)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

// TestGenerateCommand runs the real command twice to a file and once to
// stdout: the same seed gives the same records, one JSON object per line.
func TestGenerateCommand(t *testing.T) {
	dir := t.TempDir()
	args := []string{"generate", "--seed", "42", "--from", "2026-11-01", "--to", "2026-11-15", "--count", "2000"}
	var outs [][]byte
	for _, name := range []string{"a.ndjson", "b.ndjson"} {
		path := filepath.Join(dir, name)
		_, stderr, code := ingest(t, "", append(args, "--out", path)...)
		if code != successExitCode || !strings.Contains(stderr, "2000 records") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	stdout, _, code := ingest(t, "", args...)
	if code != successExitCode {
		t.Fatalf("stdout run: exit %d", code)
	}
	if !bytes.Equal(outs[0], outs[1]) || stdout != string(outs[0]) {
		t.Error("the same seed gave different output")
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 2000 {
		t.Fatalf("%d lines, want 2000", len(lines))
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
}

// fakeWriter records the batches a kafkaSink writes. Each call returns the
// next of errs (nil once they are used up) and, like kafka-go, keeps only
// the messages that did not fail.
type fakeWriter struct {
	batches [][]kafka.Message // the messages written successfully, per call
	calls   []int             // the number of messages of each call
	errs    []error
	err     error // returned by every call after errs
	closed  bool
}

func (w *fakeWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.calls = append(w.calls, len(msgs))
	err := w.err
	if len(w.errs) > 0 {
		err, w.errs = w.errs[0], w.errs[1:]
	}
	var werrs kafka.WriteErrors
	if err != nil && !errors.As(err, &werrs) {
		return err
	}
	var ok []kafka.Message
	for i, m := range msgs {
		if werrs == nil || werrs[i] == nil {
			ok = append(ok, kafka.Message{Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)})
		}
	}
	w.batches = append(w.batches, ok)
	return err
}

func (w *fakeWriter) Close() error { w.closed = true; return nil }

// testGenerateConfig returns the configuration of a week of count records.
func testGenerateConfig(count int) generateConfig {
	cfg, _, ok := parseGenerateFlags([]string{"--from", "2026-11-01", "--to", "2026-11-08", "--count", strconv.Itoa(count)},
		io.Discard, func(string) string { return "" }, time.Now)
	if !ok {
		panic("bad test flags")
	}
	return cfg
}

func TestKafkaSink(t *testing.T) {
	w := &fakeWriter{}
	sink := newKafkaSink(w, 100)
	st, err := generate(context.Background(), testGenerateConfig(350), sink, time.Sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.close(); err != nil || !w.closed {
		t.Fatalf("close: %v, closed %v", err, w.closed)
	}
	var sizes []int
	n := 0
	for _, b := range w.batches {
		sizes = append(sizes, len(b))
		for _, m := range b {
			n++
			if !json.Valid(m.Value) {
				t.Fatalf("message %d is not JSON: %s", n, m.Value)
			}
			if len(m.Key) == 0 || !bytes.Contains(m.Value, m.Key) {
				t.Errorf("message %d: key %q is not the record's request id: %s", n, m.Key, m.Value)
			}
		}
	}
	if n != 350 || st.records != 350 || len(sizes) != 4 || sizes[0] != 100 || sizes[3] != 50 {
		t.Errorf("wrote %d messages (stats %d) in batches %v, want 350 in 100, 100, 100, 50", n, st.records, sizes)
	}

	w = &fakeWriter{err: errors.New("broker down")}
	_, err = generate(context.Background(), testGenerateConfig(150), newKafkaSink(w, 100), time.Sleep)
	if err == nil || !strings.Contains(err.Error(), "writing 100 records to Kafka: broker down") {
		t.Errorf("error = %v, want the broker's error", err)
	}
}

func TestKafkaSinkRetries(t *testing.T) {
	partial := kafka.WriteErrors{nil, kafka.LeaderNotAvailable, nil, kafka.NotLeaderForPartition}
	tests := []struct {
		name    string
		errs    []error
		err     error
		calls   []int
		sleeps  []time.Duration
		wantErr string
	}{
		{name: "topic being auto-created", errs: []error{kafka.UnknownTopicOrPartition, kafka.UnknownTopicOrPartition},
			calls: []int{4, 4, 4}, sleeps: []time.Duration{ms(100), ms(200)}},
		{name: "only failed messages are resent", errs: []error{partial},
			calls: []int{4, 2}, sleeps: []time.Duration{ms(100)}},
		{name: "permanent error", errs: []error{kafka.MessageSizeTooLarge},
			calls: []int{4}, wantErr: "writing 4 records to Kafka: [10] Message Size Too Large"},
		{name: "permanent error in a batch", errs: []error{kafka.WriteErrors{nil, nil, kafka.InvalidTopic, nil}},
			calls: []int{4}, wantErr: "Invalid Topic"},
		{name: "gives up", err: kafka.LeaderNotAvailable,
			calls: []int{4, 4, 4, 4, 4, 4, 4}, sleeps: []time.Duration{ms(100), ms(200), ms(400), ms(800), ms(1600), ms(2000)},
			wantErr: "still failing after 6s: [5] Leader Not Available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &fakeWriter{errs: tt.errs, err: tt.err}
			sink := newKafkaSink(w, 100)
			sink.retryFor = 6 * time.Second
			var slept []time.Duration
			sink.sleep = func(d time.Duration) { slept = append(slept, d) }
			for i := range 4 {
				if err := sink.write(context.Background(), strconv.Itoa(i), []byte(`{"n":`+strconv.Itoa(i)+`}`)); err != nil {
					t.Fatal(err)
				}
			}
			err := sink.flush(context.Background())
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("flush = %v, want error %q", err, tt.wantErr)
			}
			if !slices.Equal(w.calls, tt.calls) {
				t.Errorf("calls of %v messages, want %v", w.calls, tt.calls)
			}
			if !slices.Equal(slept, tt.sleeps) {
				t.Errorf("slept %v, want %v", slept, tt.sleeps)
			}
			if tt.wantErr == "" {
				seen := map[string]int{}
				for _, b := range w.batches {
					for _, m := range b {
						seen[string(m.Key)]++
					}
				}
				if len(seen) != 4 || seen["0"] != 1 || seen["1"] != 1 || seen["2"] != 1 || seen["3"] != 1 {
					t.Errorf("delivered %v, want each of 4 keys once", seen)
				}
			}
		})
	}
}

// ms is n milliseconds.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// countingSink counts records and flushes.
type countingSink struct{ records, flushes int }

func (s *countingSink) write(context.Context, string, []byte) error { s.records++; return nil }
func (s *countingSink) flush(context.Context) error                 { s.flushes++; return nil }
func (s *countingSink) close() error                                { return nil }

func TestGenerateRate(t *testing.T) {
	cfg := testGenerateConfig(300)
	cfg.Rate = 2000
	sink := &countingSink{}
	start := time.Now()
	if _, err := generate(context.Background(), cfg, sink, time.Sleep); err != nil {
		t.Fatal(err)
	}
	// 300 records at 2000/s cannot take less than 299/2000 s, minus the
	// 10ms pacing step.
	if elapsed := time.Since(start); elapsed < 139*time.Millisecond {
		t.Errorf("300 records at 2000/s took %s", elapsed)
	}
	// At least one flush before a pause and the final one; how many pauses
	// there are depends on the scheduler, so no more is asserted.
	if sink.records != 300 || sink.flushes < 2 {
		t.Errorf("%d records, %d flushes: records were not handed over while pacing", sink.records, sink.flushes)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := generate(ctx, cfg, &countingSink{}, time.Sleep); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestNewKafkaWriter(t *testing.T) {
	cfg := testGenerateConfig(1)
	cfg.Brokers, cfg.Topic, cfg.Batch = " k1:9092, k2:9092,", "api-calls", 500
	w := newKafkaWriter(cfg, pipeline.KafkaSecurity{})
	if got := w.Addr.String(); got != "k1:9092,k2:9092" {
		t.Errorf("brokers %q", got)
	}
	if w.Topic != "api-calls" || w.RequiredAcks != kafka.RequireAll || w.BatchSize != 500 || w.Async {
		t.Errorf("writer %+v: want topic api-calls, acks from all replicas, batches of 500, synchronous", w)
	}
	if _, ok := w.Balancer.(*kafka.Hash); !ok {
		t.Errorf("balancer %T, want *kafka.Hash (keys by request id)", w.Balancer)
	}
}

// TestGenerateToKafkaSASL writes generated records through the broker's
// SASL_SSL listener (SCRAM-SHA-512, the password from the environment) and
// finds them all in the topic through the plain listener.
func TestGenerateToKafkaSASL(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	brokers := testenv.Kafka(t)
	topic := testenv.Name(t)
	if err := testenv.CreateTopic(brokers[0], topic, 1); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KAFKA_PASSWORD", sasl.Password)
	_, stderr, code := ingest(t, "", "generate", "--count", "200", "--kafka-topic", topic,
		"--kafka-brokers", strings.Join(sasl.Brokers, ","), "--kafka-ca-file", sasl.CAFile,
		"--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-username", sasl.Username)
	if code != successExitCode {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if end := topicEnd(t, brokers[0], topic); end != 200 {
		t.Errorf("the topic ends at offset %d, want 200", end)
	}
}

// topicEnd returns the end offset of partition 0 of topic.
func topicEnd(t *testing.T, broker, topic string) int64 {
	t.Helper()
	conn, err := kafka.DialLeader(context.Background(), "tcp", broker, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	end, err := conn.ReadLastOffset()
	if err != nil {
		t.Fatal(err)
	}
	return end
}

// TestGenerateCreatesTopic writes to a topic that does not exist on a broker
// that creates no topic by itself: generate creates it first.
func TestGenerateCreatesTopic(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := testenv.Name(t)
	_, stderr, code := ingest(t, "", "generate", "--count", "100", "--kafka-topic", topic, "--kafka-brokers", brokers[0])
	if code != successExitCode {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "created topic "+topic) {
		t.Errorf("stderr does not say the topic was created:\n%s", stderr)
	}
	if end := topicEnd(t, brokers[0], topic); end != 100 {
		t.Errorf("the topic ends at offset %d, want 100 (the test broker's topics have one partition)", end)
	}
}
