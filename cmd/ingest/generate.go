package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sdtriage/sdtriage/internal/traffic"
	"github.com/sdtriage/sdtriage/pipeline"
)

// generateConfig is the command line of `ingest generate`.
type generateConfig struct {
	traffic.Config
	// Rate limits output to this many records per second; 0 is unlimited.
	// Default: 0.
	Rate float64
	// Out is the output file, "-" for stdout. Default: "-".
	Out string
	// Brokers and Topic of Kafka output (comma-separated host:port list).
	// Defaults, as for ingest run: $KAFKA_BROKERS or 127.0.0.1:9092,
	// $KAFKA_TOPIC or sdtriage.api-calls.
	Brokers, Topic string
	// Batch is the number of records per Kafka write. Default: 1000.
	Batch int
	// Security holds the Kafka TLS and SASL settings, with the flags and
	// environment variables of ingest run (--kafka-tls, KAFKA_TLS, ...);
	// its other fields are unused.
	Security Config

	kafka bool // a --kafka-* flag was given
}

// generateCmd implements `ingest generate`: realistic API call records
// (internal/traffic) as NDJSON to a file or stdout, or to a Kafka topic.
func generateCmd(args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := parseGenerateFlags(args, stderr, os.Getenv, time.Now)
	if !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var sink recordSink
	dest := cfg.Out
	switch {
	case cfg.kafka:
		sec, err := cfg.Security.kafkaSecurity()
		if err != nil {
			fmt.Fprintf(stderr, "ingest generate: %v\n", err)
			return failureExitCode
		}
		// Brokers usually have automatic topic creation off: the topic is
		// created here, with the brokers' defaults, when it is missing.
		tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		created, err := pipeline.EnsureTopic(tctx, splitList(cfg.Brokers), sec, cfg.Topic)
		cancel()
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "ingest generate: could not make sure topic %s exists (%v); writing all the same\n", cfg.Topic, err)
		case created:
			fmt.Fprintf(stderr, "ingest generate: created topic %s with the brokers' default partitions and replication\n", cfg.Topic)
		}
		sink = newKafkaSink(newKafkaWriter(cfg, sec), cfg.Batch)
		dest = "kafka topic " + cfg.Topic
	case cfg.Out == "-":
		sink = &fileSink{w: bufio.NewWriterSize(stdout, 64<<10)}
		dest = "stdout"
	default:
		f, err := os.Create(cfg.Out)
		if err != nil {
			fmt.Fprintf(stderr, "ingest generate: %v\n", err)
			return failureExitCode
		}
		defer f.Close()
		sink = &fileSink{w: bufio.NewWriterSize(f, 64<<10), c: f}
	}
	st, err := generate(ctx, cfg, sink, time.Sleep)
	if cerr := sink.close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "ingest generate: stopped after generating %d records: %v\n", st.records, err)
		return failureExitCode
	}
	elapsed := time.Since(st.start).Seconds()
	fmt.Fprintf(stderr, "ingest generate: %d records (%d failures, %d ECS, %d with a planted secret, %d unusable) to %s in %.1fs (%.0f records/s)\n",
		st.records, st.failures, st.ecs, st.leaks, st.unusable, dest, elapsed, float64(st.records)/max(elapsed, 1e-9))
	return successExitCode
}

// parseGenerateFlags parses and validates the command line; problems are
// all reported on stderr, and ok is false with the exit code.
func parseGenerateFlags(args []string, stderr io.Writer, getenv func(string) string, now func() time.Time) (cfg generateConfig, code int, ok bool) {
	fs := flag.NewFlagSet("ingest generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ingest generate [flags]\n\n"+
			"Generate realistic, reproducible API call log records (CONTRACT section 1) as NDJSON\n"+
			"to a file or stdout, or to a Kafka topic when a --kafka-* flag is given (the\n"+
			"environment supplies broker and topic values, but never switches to Kafka).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.Int64Var(&cfg.Seed, "seed", 1, "random seed: the same seed, period and count give the same records")
	from := fs.String("from", "", "first timestamp, RFC 3339 or YYYY-MM-DD (default: --to minus 7 days)")
	to := fs.String("to", "", "end of the period, exclusive, RFC 3339 or YYYY-MM-DD (default: now)")
	fs.IntVar(&cfg.Records, "count", 100000, "number of records")
	rate := fs.String("rate", "0", "records per second, e.g. 500 or 500/s; 0 means as fast as possible")
	fs.StringVar(&cfg.Out, "out", "-", "output file, - for stdout")
	fs.StringVar(&cfg.Brokers, "kafka-brokers", "", "Kafka brokers, comma-separated host:port (env KAFKA_BROKERS, default 127.0.0.1:9092)")
	fs.StringVar(&cfg.Topic, "kafka-topic", "", "Kafka topic to write to (env KAFKA_TOPIC, default "+defaultTopic+")")
	fs.IntVar(&cfg.Batch, "kafka-batch", 1000, "records per Kafka write")
	sec := &cfg.Security
	fs.BoolVar(&sec.KafkaTLS, "kafka-tls", false, "connect to Kafka with TLS (env KAFKA_TLS)")
	fs.StringVar(&sec.KafkaCAFile, "kafka-ca-file", "", "PEM file of CAs for the brokers' certificates, implies --kafka-tls (env KAFKA_CA_FILE)")
	fs.StringVar(&sec.SASLMechanism, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (env KAFKA_SASL_MECHANISM)")
	fs.StringVar(&sec.KafkaUsername, "kafka-username", "", "SASL user name (env KAFKA_USERNAME)")
	fs.StringVar(&sec.KafkaPassword, "kafka-password", "", "SASL password; prefer the environment (env KAFKA_PASSWORD)")
	fs.Float64Var(&cfg.SuccessRate, "success-rate", traffic.DefaultSuccessRate, "share of calls that succeed outside incidents")
	fs.Float64Var(&cfg.ECSRate, "ecs-rate", traffic.DefaultECSRate, "share of records in Elastic Common Schema spellings")
	fs.Float64Var(&cfg.LeakRate, "leak-rate", traffic.DefaultLeakRate, "share of records with a planted credential")
	fs.Float64Var(&cfg.UnusableRate, "unusable-rate", 0, "share of lines that are not JSON objects")
	if code, ok := parseFlags(fs, args); !ok {
		return cfg, code, false
	}
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name := range set {
		cfg.kafka = cfg.kafka || strings.HasPrefix(name, "kafka-")
	}
	cfg.Brokers = cmp.Or(cfg.Brokers, getenv("KAFKA_BROKERS"), "127.0.0.1:9092")
	cfg.Topic = cmp.Or(cfg.Topic, getenv("KAFKA_TOPIC"), defaultTopic)
	sec.KafkaCAFile = cmp.Or(sec.KafkaCAFile, getenv("KAFKA_CA_FILE"))
	sec.SASLMechanism = cmp.Or(sec.SASLMechanism, getenv("KAFKA_SASL_MECHANISM"))
	sec.KafkaUsername = cmp.Or(sec.KafkaUsername, getenv("KAFKA_USERNAME"))
	sec.KafkaPassword = cmp.Or(sec.KafkaPassword, getenv("KAFKA_PASSWORD"))
	var tlsErr error
	if v := getenv("KAFKA_TLS"); v != "" && !set["kafka-tls"] {
		if sec.KafkaTLS, tlsErr = strconv.ParseBool(v); tlsErr != nil {
			tlsErr = fmt.Errorf("KAFKA_TLS: want true or false, got %q", v)
		}
	}
	sec.complete()
	if cfg.kafka {
		if tlsErr != nil {
			problems = append(problems, tlsErr.Error())
		}
		for _, err := range sec.validateKafkaSecurity() {
			problems = append(problems, err.Error())
		}
		if set["out"] {
			problems = append(problems, "--out and --kafka-* are exclusive: write to a file or to Kafka")
		}
		if len(splitList(cfg.Brokers)) == 0 {
			problems = append(problems, fmt.Sprintf("--kafka-brokers: no broker in %q", cfg.Brokers))
		}
		if cfg.Batch <= 0 {
			problems = append(problems, fmt.Sprintf("--kafka-batch must be positive, got %d", cfg.Batch))
		}
	}
	var err, timeErr error
	if cfg.End, err = parseTime(*to, now().UTC().Truncate(time.Minute)); err != nil {
		problems = append(problems, "--to: "+err.Error())
		timeErr = err
	}
	if cfg.Start, err = parseTime(*from, cfg.End.Add(-7*24*time.Hour)); err != nil {
		problems = append(problems, "--from: "+err.Error())
		timeErr = err
	}
	if cfg.Rate, err = strconv.ParseFloat(strings.TrimSuffix(*rate, "/s"), 64); err != nil || cfg.Rate < 0 || math.IsInf(cfg.Rate, 0) {
		problems = append(problems, fmt.Sprintf("--rate: want a number of records per second such as 500 or 500/s, got %q", *rate))
	}
	vc := cfg.Config
	if timeErr != nil { // already reported; check the rest
		vc.Start, vc.End = time.Unix(0, 0), time.Unix(1, 0)
	}
	if err := vc.Validate(); err != nil {
		problems = append(problems, strings.Split(err.Error(), "\n")...)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "ingest generate: %s\n", p)
		}
		return cfg, usageExitCode, false
	}
	return cfg, successExitCode, true
}

// parseTime reads an RFC 3339 time or a YYYY-MM-DD date (midnight UTC);
// "" yields def.
func parseTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01), got %q", s)
	}
	return t, nil
}

// generateStats counts what was written.
type generateStats struct {
	start                                   time.Time
	records, failures, ecs, leaks, unusable int
}

// generate writes cfg.Records records to sink, at most cfg.Rate per second.
// It stops early, with ctx's error, when ctx is cancelled.
func generate(ctx context.Context, cfg generateConfig, sink recordSink, sleep func(time.Duration)) (generateStats, error) {
	st := generateStats{start: time.Now()}
	g, err := traffic.New(cfg.Config)
	if err != nil {
		return st, err
	}
	var buf []byte
	for g.More() {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("interrupted: %w", err)
		}
		if cfg.Rate > 0 {
			// Pace in steps of at least 10ms: sleeping per record would cost
			// more than it smooths.
			due := st.start.Add(time.Duration(float64(st.records) / cfg.Rate * float64(time.Second)))
			if wait := time.Until(due); wait >= 10*time.Millisecond {
				if err := sink.flush(ctx); err != nil {
					return st, err
				}
				sleep(wait)
			}
		}
		buf = g.Next(buf[:0])
		l := g.Label()
		if err := sink.write(ctx, l.RequestID, buf); err != nil {
			return st, err
		}
		st.records++
		switch {
		case l.Unusable:
			st.unusable++
		case l.Failure:
			st.failures++
		}
		if l.ECS {
			st.ecs++
		}
		if l.Leak {
			st.leaks++
		}
	}
	return st, sink.flush(ctx)
}

// recordSink is where generate writes records.
type recordSink interface {
	// write takes one record; it may keep it until flush. rec is reused
	// by the caller after the call.
	write(ctx context.Context, key string, rec []byte) error
	// flush hands over what write kept.
	flush(ctx context.Context) error
	close() error
}

// fileSink writes NDJSON.
type fileSink struct {
	w *bufio.Writer
	c io.Closer // the file, if any
}

func (s *fileSink) write(_ context.Context, _ string, rec []byte) error {
	s.w.Write(rec)
	return s.w.WriteByte('\n') // a write error sticks and is returned here
}

func (s *fileSink) flush(context.Context) error { return s.w.Flush() }

func (s *fileSink) close() error {
	err := s.w.Flush()
	if s.c != nil {
		if cerr := s.c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// messageWriter is the part of *kafka.Writer the Kafka sink uses.
type messageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
	Close() error
}

// newKafkaWriter returns a synchronous writer that waits for all in-sync
// replicas, so that a record counted as written is in the topic. Messages
// are keyed by request id: the attempts of one request stay in order.
func newKafkaWriter(cfg generateConfig, sec pipeline.KafkaSecurity) *kafka.Writer {
	return &kafka.Writer{
		Addr:                   kafka.TCP(splitList(cfg.Brokers)...),
		Topic:                  cfg.Topic,
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              cfg.Batch,
		BatchBytes:             16 << 20,
		BatchTimeout:           50 * time.Millisecond,
		AllowAutoTopicCreation: true,
		Transport:              &kafka.Transport{DialTimeout: 10 * time.Second, TLS: sec.TLS, SASL: sec.SASL},
	}
}

// kafkaSink collects records into batches of Kafka messages. Keys and
// values are copied into one arena per batch, and the messages are sliced
// from it at flush, so a batch costs a few allocations, not two per record.
type kafkaSink struct {
	w     messageWriter
	size  int
	arena []byte
	ends  [][2]int // per record: end of its key and of its value in arena
	msgs  []kafka.Message

	retryFor time.Duration       // how long temporary errors are retried
	sleep    func(time.Duration) // time.Sleep; replaced in tests
}

func newKafkaSink(w messageWriter, batch int) *kafkaSink {
	return &kafkaSink{w: w, size: batch, retryFor: time.Minute, sleep: time.Sleep}
}

func (s *kafkaSink) write(ctx context.Context, key string, rec []byte) error {
	s.arena = append(s.arena, key...)
	k := len(s.arena)
	s.arena = append(s.arena, rec...)
	s.ends = append(s.ends, [2]int{k, len(s.arena)})
	if len(s.ends) >= s.size {
		return s.flush(ctx)
	}
	return nil
}

// flush writes the batch and waits for the brokers' acknowledgement.
// Temporary errors are retried with back-off, for the failed messages only:
// a topic that the broker is still auto-creating answers "Unknown Topic Or
// Partition" at first (kafka-go issue #683), a leader election "Leader Not
// Available".
func (s *kafkaSink) flush(ctx context.Context) error {
	if len(s.ends) == 0 {
		return nil
	}
	s.msgs = s.msgs[:0]
	start := 0
	for _, e := range s.ends {
		m := kafka.Message{Value: s.arena[e[0]:e[1]:e[1]]}
		if e[0] > start {
			m.Key = s.arena[start:e[0]:e[0]]
		}
		s.msgs = append(s.msgs, m)
		start = e[1]
	}
	pending := s.msgs
	var waited time.Duration
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		err := s.w.WriteMessages(ctx, pending...)
		if err == nil {
			break
		}
		failed := pending[:0] // compacted in place: index j never passes i
		var werrs kafka.WriteErrors
		switch {
		case errors.As(err, &werrs) && len(werrs) == len(pending):
			for i, e := range werrs {
				if e == nil {
					continue
				}
				if !temporary(e) {
					return fmt.Errorf("writing %d records to Kafka: %w", len(s.msgs), e)
				}
				failed = append(failed, pending[i])
			}
		case temporary(err) && ctx.Err() == nil:
			failed = pending
		default:
			return fmt.Errorf("writing %d records to Kafka: %w", len(s.msgs), err)
		}
		if waited += delay; waited > s.retryFor {
			return fmt.Errorf("writing %d records to Kafka: still failing after %s: %w", len(s.msgs), s.retryFor, err)
		}
		s.sleep(delay)
		pending = failed
	}
	s.arena, s.ends = s.arena[:0], s.ends[:0]
	return nil
}

// temporary reports whether err says that retrying can succeed.
func temporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (s *kafkaSink) close() error { return s.w.Close() }
