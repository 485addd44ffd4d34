package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/sdtriage/sdtriage/classify"
	"github.com/sdtriage/sdtriage/pipeline"
	"github.com/sdtriage/sdtriage/rules"
)

// runCmd implements `ingest run` (and the bare `ingest`): the daemon that
// consumes the topic, classifies, indexes into Elasticsearch and commits,
// until SIGINT or SIGTERM. It exits 0 after a complete graceful shutdown,
// 1 on a fatal error, 2 on invalid configuration. bare is set when no
// subcommand was named; its configuration errors are followed by the
// general usage.
func runCmd(args []string, stdout, stderr io.Writer, bare bool) int {
	fs := flag.NewFlagSet("ingest run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ingest [run] [flags]\n\n"+
			"Consume API call log records from Kafka, classify them and index them into\n"+
			"Elasticsearch, committing offsets only for records indexed or dead-lettered.\n"+
			"Each flag falls back to the environment variable named in its description.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var c Config
	problems := bindConfig(fs, os.LookupEnv, &c)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments: %q", fs.Args()))
	}
	c.complete()
	if err := errors.Join(append(problems, c.Validate())...); err != nil {
		fmt.Fprintf(stderr, "ingest run: invalid configuration:\n%s\n", indent(err))
		if bare {
			fmt.Fprint(stderr, "\n"+usageText)
		}
		return usageExitCode
	}

	log := newLogger(stderr)
	defer log.Sync() //nolint:errcheck // stderr
	if err := runDaemon(&c, log); err != nil {
		log.Error("ingest run failed", zap.Error(err))
		return failureExitCode
	}
	return successExitCode
}

// runDaemon wires the pipeline and serves metrics until a signal.
func runDaemon(c *Config, log *zap.Logger) error {
	rs, errs := rules.Load(c.RulesDir, false)
	if len(errs) > 0 {
		return fmt.Errorf("rules: %w (run ingest rules check %s)", errors.Join(errs...), c.RulesDir)
	}
	cl, err := classify.New(rs)
	if err != nil {
		return err
	}
	sec, err := c.kafkaSecurity()
	if err != nil {
		return err
	}
	es, err := c.elasticsearch(c.Workers)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p := pipeline.New(pipeline.Options{
		Brokers: c.Brokers, Topic: c.Topic, Group: c.Group, DLQTopic: c.DLQTopic, Security: sec,
		Elasticsearch: es, Index: c.Index, Classifier: cl,
		BatchSize: c.BatchSize, BatchBytes: c.BatchBytes, FlushInterval: c.FlushInterval,
		MaxInFlight: c.MaxInFlight, Workers: c.Workers, CommitInterval: c.CommitInterval,
		ShutdownTimeout: c.ShutdownTimeout,
		Metrics:         pipeline.NewMetrics(reg), Logger: log,
	})

	if c.MetricsAddr != "" {
		srv, err := serveMetrics(c.MetricsAddr, reg, p.Ready, log)
		if err != nil {
			return err
		}
		defer srv.Close()
	}
	if err := waitForSetup(ctx, es, c.Index, log); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // stopped before consuming
	}
	return p.Run(ctx)
}

// waitForSetup checks the index template, waiting (with /readyz saying not
// ready) while Elasticsearch cannot be reached: it may still be starting.
// A missing or outdated template, or refused credentials, is an error at once.
func waitForSetup(ctx context.Context, es *elasticsearch.Client, index string, log *zap.Logger) error {
	bo := backoff.NewExponentialBackOff()
	bo.MaxInterval = 10 * time.Second
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := pipeline.CheckSetup(cctx, es, index)
		cancel()
		if err == nil || errors.Is(err, pipeline.ErrNotSetUp) || errors.As(err, new(*pipeline.FatalError)) || ctx.Err() != nil {
			return err
		}
		d := bo.NextBackOff()
		log.Warn("cannot check the index template yet; retrying", zap.Error(err), zap.Duration("in", d))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil
		}
	}
}

// serveMetrics serves /metrics, /healthz (the process is alive) and
// /readyz (consuming, and Elasticsearch is taking documents).
func serveMetrics(addr string, reg *prometheus.Registry, ready func() bool, log *zap.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", zap.Error(err))
		}
	}()
	log.Info("serving /metrics, /healthz and /readyz", zap.String("addr", l.Addr().String()))
	return srv, nil
}

// newLogger returns a JSON logger on w.
func newLogger(w io.Writer) *zap.Logger {
	cfg := zap.NewProductionConfig()
	cfg.Sampling = nil
	cfg.EncoderConfig.TimeKey = "time"
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	enc := zapcore.NewJSONEncoder(cfg.EncoderConfig)
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), cfg.Level))
}

// indent renders joined errors one per line, indented.
func indent(err error) string { return "  " + strings.ReplaceAll(err.Error(), "\n", "\n  ") }
