package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/sdtriage/sdtriage/internal/esconn"
	"github.com/sdtriage/sdtriage/pipeline"
)

// Config is the configuration of `ingest run` and `ingest setup`. Every
// field is set by its flag or, when the flag is not given, by its
// environment variable; secrets are best passed in the environment, where
// ps does not show them.
type Config struct {
	// Brokers are the Kafka bootstrap brokers, host:port.
	// --brokers, KAFKA_BROKERS (comma-separated). Default: 127.0.0.1:9092.
	Brokers []string
	// Topic is the topic of API call log records.
	// --topic, KAFKA_TOPIC. Default: sdtriage.api-calls.
	Topic string
	// Group is the consumer group; its committed offsets are the ingester's
	// position. --group, KAFKA_GROUP. Default: sdtriage-ingest.
	Group string
	// DLQTopic receives the records that cannot be indexed.
	// --dlq-topic, KAFKA_DLQ_TOPIC. Default: <Topic>.dlq.
	DLQTopic string
	// KafkaTLS connects to the brokers with TLS. --kafka-tls, KAFKA_TLS. Default: false.
	KafkaTLS bool
	// KafkaCAFile is a PEM file of CAs trusted for the brokers' certificates;
	// implies KafkaTLS. --kafka-ca-file, KAFKA_CA_FILE. Default: the system pool.
	KafkaCAFile string
	// SASLMechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	// --kafka-sasl-mechanism, KAFKA_SASL_MECHANISM. Default: none.
	SASLMechanism string
	// KafkaUsername and KafkaPassword are the SASL credentials.
	// --kafka-username, KAFKA_USERNAME; --kafka-password, KAFKA_PASSWORD.
	KafkaUsername, KafkaPassword string

	// ESURLs are the Elasticsearch nodes.
	// --es-url, ELASTICSEARCH_URL (comma-separated). Default: http://127.0.0.1:9200.
	ESURLs []string
	// Index is the prefix of this deployment's indices: documents go to
	// <Index>-YYYY.MM.DD, found by the pattern <Index>-* and the alias
	// <Index>. --index, ELASTICSEARCH_INDEX. Default: sdtriage.
	Index string
	// ESAPIKey is a base64 API key; or ESUsername and ESPassword for basic
	// authentication. --es-api-key, ELASTICSEARCH_API_KEY; --es-username,
	// ELASTICSEARCH_USERNAME; --es-password, ELASTICSEARCH_PASSWORD.
	ESAPIKey, ESUsername, ESPassword string
	// ESCAFile is a PEM file of CAs trusted for Elasticsearch's certificate.
	// --es-ca-file, ELASTICSEARCH_CA_FILE. Default: the system pool.
	ESCAFile string

	// BatchSize is the most records in one bulk request.
	// --batch-size, BATCH_SIZE. Default: 1000.
	BatchSize int
	// BatchBytes is the most bytes in one bulk request body.
	// --batch-bytes, BATCH_BYTES. Default: 5 MiB.
	BatchBytes int
	// FlushInterval is the longest a record waits for its batch to fill.
	// --flush-interval, FLUSH_INTERVAL. Default: 1s.
	FlushInterval time.Duration
	// MaxInFlight is the most records fetched and not yet indexed or
	// dead-lettered; fetching pauses there, which bounds memory.
	// --max-in-flight, MAX_IN_FLIGHT. Default: 10000.
	MaxInFlight int
	// Workers is the number of concurrent bulk requests.
	// --workers, BULK_WORKERS. Default: 2.
	Workers int
	// CommitInterval is how often offsets are committed.
	// --commit-interval, COMMIT_INTERVAL. Default: 1s.
	CommitInterval time.Duration
	// RulesDir is a directory of rule files extending the default pack.
	// --rules, RULES_DIR. Default: the default pack only.
	RulesDir string
	// MetricsAddr serves /metrics, /healthz and /readyz; empty disables.
	// --metrics-addr, METRICS_ADDR. Default: :9464.
	MetricsAddr string
	// ShutdownTimeout bounds the graceful shutdown after SIGINT or SIGTERM.
	// --shutdown-timeout, SHUTDOWN_TIMEOUT. Default: 30s.
	ShutdownTimeout time.Duration
	// Retention is how long the lifecycle policy keeps an index (`ingest
	// setup`, clusters with lifecycle management only).
	// --retention, RETENTION. Default: 720h (30 days).
	Retention time.Duration
}

// binder defines flags whose defaults come from the environment, and
// collects the environment values that do not parse.
type binder struct {
	fs       *flag.FlagSet
	env      func(string) (string, bool)
	problems []error
}

func (b *binder) value(name, env string) (string, bool) {
	v, ok := b.env(env)
	return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
}

func (b *binder) usage(env, usage string) string { return usage + " (env " + env + ")" }

func (b *binder) str(p *string, name, env, def, usage string) {
	if v, ok := b.value(name, env); ok {
		def = v
	}
	b.fs.StringVar(p, name, def, b.usage(env, usage))
}

// secret is a string flag whose environment value is not shown by -h.
func (b *binder) secret(p *string, name, env, usage string) {
	b.fs.StringVar(p, name, "", b.usage(env, usage))
	if v, ok := b.value(name, env); ok {
		*p = v
	}
}

func (b *binder) list(p *[]string, name, env, def, usage string) {
	if v, ok := b.value(name, env); ok {
		def = v
	}
	*p = splitList(def)
	b.fs.Func(name, b.usage(env, usage)+" (default "+strconv.Quote(def)+")", func(s string) error {
		*p = splitList(s)
		return nil
	})
}

func (b *binder) int(p *int, name, env string, def int, usage string) {
	if v, ok := b.value(name, env); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.problems = append(b.problems, fmt.Errorf("%s=%q: not an integer", env, v))
		} else {
			def = n
		}
	}
	b.fs.IntVar(p, name, def, b.usage(env, usage))
}

func (b *binder) duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v, ok := b.value(name, env); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.problems = append(b.problems, fmt.Errorf("%s=%q: not a duration (such as 500ms, 10s, 1m)", env, v))
		} else {
			def = d
		}
	}
	b.fs.DurationVar(p, name, def, b.usage(env, usage))
}

func (b *binder) bool(p *bool, name, env string, usage string) {
	def := false
	if v, ok := b.value(name, env); ok {
		t, err := strconv.ParseBool(v)
		if err != nil {
			b.problems = append(b.problems, fmt.Errorf("%s=%q: not a boolean (true or false)", env, v))
		} else {
			def = t
		}
	}
	b.fs.BoolVar(p, name, def, b.usage(env, usage))
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Defaults that depend on other fields or need a name.
const (
	defaultTopic = "sdtriage.api-calls"
	defaultIndex = "sdtriage"
)

// bindConfig defines the flags of c on fs, with defaults from env, and
// returns the environment values that did not parse.
func bindConfig(fs *flag.FlagSet, env func(string) (string, bool), c *Config) []error {
	b := &binder{fs: fs, env: env}
	b.list(&c.Brokers, "brokers", "KAFKA_BROKERS", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated host:port")
	b.str(&c.Topic, "topic", "KAFKA_TOPIC", defaultTopic, "topic of API call log records")
	b.str(&c.Group, "group", "KAFKA_GROUP", "sdtriage-ingest", "consumer group")
	b.str(&c.DLQTopic, "dlq-topic", "KAFKA_DLQ_TOPIC", "", "dead-letter topic (default <topic>.dlq)")
	b.bool(&c.KafkaTLS, "kafka-tls", "KAFKA_TLS", "connect to Kafka with TLS")
	b.str(&c.KafkaCAFile, "kafka-ca-file", "KAFKA_CA_FILE", "", "PEM file of CAs for the brokers' certificates (implies --kafka-tls)")
	b.str(&c.SASLMechanism, "kafka-sasl-mechanism", "KAFKA_SASL_MECHANISM", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	b.str(&c.KafkaUsername, "kafka-username", "KAFKA_USERNAME", "", "SASL user name")
	b.secret(&c.KafkaPassword, "kafka-password", "KAFKA_PASSWORD", "SASL password (prefer the environment)")
	b.list(&c.ESURLs, "es-url", "ELASTICSEARCH_URL", "http://127.0.0.1:9200", "Elasticsearch URLs, comma-separated")
	b.str(&c.Index, "index", "ELASTICSEARCH_INDEX", defaultIndex, "index prefix: documents go to <index>-YYYY.MM.DD, found as <index>-*")
	b.secret(&c.ESAPIKey, "es-api-key", "ELASTICSEARCH_API_KEY", "Elasticsearch API key, base64 (prefer the environment)")
	b.str(&c.ESUsername, "es-username", "ELASTICSEARCH_USERNAME", "", "Elasticsearch user for basic authentication")
	b.secret(&c.ESPassword, "es-password", "ELASTICSEARCH_PASSWORD", "Elasticsearch password (prefer the environment)")
	b.str(&c.ESCAFile, "es-ca-file", "ELASTICSEARCH_CA_FILE", "", "PEM file of CAs for Elasticsearch's certificate")
	b.int(&c.BatchSize, "batch-size", "BATCH_SIZE", 1000, "most records per bulk request")
	b.int(&c.BatchBytes, "batch-bytes", "BATCH_BYTES", 5<<20, "most bytes per bulk request body")
	b.duration(&c.FlushInterval, "flush-interval", "FLUSH_INTERVAL", time.Second, "longest a record waits for its batch to fill")
	b.int(&c.MaxInFlight, "max-in-flight", "MAX_IN_FLIGHT", 10000, "most records fetched and not yet indexed; fetching pauses there")
	b.int(&c.Workers, "workers", "BULK_WORKERS", 2, "concurrent bulk requests")
	b.duration(&c.CommitInterval, "commit-interval", "COMMIT_INTERVAL", time.Second, "how often offsets are committed")
	b.str(&c.RulesDir, "rules", "RULES_DIR", "", "directory of rule files (*.yaml) extending the default rule pack")
	b.str(&c.MetricsAddr, "metrics-addr", "METRICS_ADDR", ":9464", "address of /metrics, /healthz and /readyz; empty disables")
	b.duration(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 30*time.Second, "deadline of the graceful shutdown after SIGINT or SIGTERM")
	b.duration(&c.Retention, "retention", "RETENTION", 30*24*time.Hour, "how long indices are kept, where the cluster has lifecycle management (setup)")
	return b.problems
}

// complete fills the defaults that depend on other fields.
func (c *Config) complete() {
	if c.DLQTopic == "" {
		c.DLQTopic = c.Topic + ".dlq"
	}
	if c.KafkaCAFile != "" {
		c.KafkaTLS = true
	}
}

var topicName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// Validate returns every problem of c, joined; nil when c is usable.
func (c *Config) Validate() error {
	return errors.Join(append(c.validateKafka(), c.validateElasticsearch()...)...)
}

func (c *Config) validateKafka() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Brokers) == 0 {
		add("KAFKA_BROKERS (--brokers): no broker given")
	}
	for _, b := range c.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			add("KAFKA_BROKERS (--brokers): %q is not host:port", b)
		}
	}
	for _, t := range []struct{ name, v string }{{"KAFKA_TOPIC (--topic)", c.Topic}, {"KAFKA_DLQ_TOPIC (--dlq-topic)", c.DLQTopic}} {
		if !topicName.MatchString(t.v) || t.v == "." || t.v == ".." {
			add("%s: %q is not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)", t.name, t.v)
		}
	}
	if c.DLQTopic == c.Topic && c.Topic != "" {
		add("KAFKA_DLQ_TOPIC (--dlq-topic): the dead-letter topic must differ from KAFKA_TOPIC %q", c.Topic)
	}
	if strings.TrimSpace(c.Group) == "" {
		add("KAFKA_GROUP (--group): empty consumer group")
	}
	errs = append(errs, c.validateKafkaSecurity()...)
	if c.BatchSize < 1 {
		add("BATCH_SIZE (--batch-size): %d, want at least 1", c.BatchSize)
	}
	if c.BatchBytes < 1<<10 || c.BatchBytes > 100<<20 {
		add("BATCH_BYTES (--batch-bytes): %d, want 1 KiB to 100 MiB (Elasticsearch's default http.max_content_length)", c.BatchBytes)
	}
	if c.FlushInterval <= 0 {
		add("FLUSH_INTERVAL (--flush-interval): %s, want more than 0", c.FlushInterval)
	}
	if c.MaxInFlight < c.BatchSize {
		add("MAX_IN_FLIGHT (--max-in-flight): %d, want at least BATCH_SIZE (%d)", c.MaxInFlight, c.BatchSize)
	}
	if c.Workers < 1 {
		add("BULK_WORKERS (--workers): %d, want at least 1", c.Workers)
	}
	if c.CommitInterval <= 0 {
		add("COMMIT_INTERVAL (--commit-interval): %s, want more than 0", c.CommitInterval)
	}
	if c.ShutdownTimeout < time.Second {
		add("SHUTDOWN_TIMEOUT (--shutdown-timeout): %s, want at least 1s", c.ShutdownTimeout)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			add("METRICS_ADDR (--metrics-addr): %q is not [host]:port", c.MetricsAddr)
		}
	}
	if c.RulesDir != "" {
		if fi, err := os.Stat(c.RulesDir); err != nil || !fi.IsDir() {
			add("RULES_DIR (--rules): %q is not a directory", c.RulesDir)
		}
	}
	return errs
}

// validateKafkaSecurity returns the problems of c's Kafka TLS and SASL
// settings (ingest generate checks them too).
func (c *Config) validateKafkaSecurity() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.KafkaCAFile != "" {
		if _, err := esconn.LoadCAs(c.KafkaCAFile); err != nil {
			add("KAFKA_CA_FILE (--kafka-ca-file): %v", err)
		}
	}
	switch strings.ToUpper(c.SASLMechanism) {
	case "":
		if c.KafkaUsername != "" || c.KafkaPassword != "" {
			add("KAFKA_USERNAME/KAFKA_PASSWORD are set but KAFKA_SASL_MECHANISM is not: choose PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
		}
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.KafkaUsername == "" || c.KafkaPassword == "" {
			add("KAFKA_SASL_MECHANISM=%s needs KAFKA_USERNAME and KAFKA_PASSWORD", c.SASLMechanism)
			break
		}
		// SCRAM normalises both with SASLprep, which refuses some
		// characters; say so now rather than when connecting. The
		// password's error is not quoted: it would quote the password.
		if strings.HasPrefix(strings.ToUpper(c.SASLMechanism), "SCRAM") {
			if _, err := scram.Mechanism(scram.SHA256, c.KafkaUsername, "x"); err != nil {
				add("KAFKA_USERNAME (--kafka-username): not usable with SCRAM: %v", err)
			}
			if _, err := scram.Mechanism(scram.SHA256, "x", c.KafkaPassword); err != nil {
				add("KAFKA_PASSWORD (--kafka-password): holds characters that SCRAM's SASLprep refuses")
			}
		}
	default:
		add("KAFKA_SASL_MECHANISM (--kafka-sasl-mechanism): %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASLMechanism)
	}
	return errs
}

func (c *Config) validateElasticsearch() []error {
	errs := c.esSettings().Problems()
	if c.Retention < time.Hour {
		errs = append(errs, fmt.Errorf("RETENTION (--retention): %s, want at least 1h", c.Retention))
	}
	return errs
}

// esSettings returns the Elasticsearch connection settings of c.
func (c *Config) esSettings() esconn.Settings {
	return esconn.Settings{URLs: c.ESURLs, Index: c.Index, APIKey: c.ESAPIKey,
		Username: c.ESUsername, Password: c.ESPassword, CAFile: c.ESCAFile}
}

// kafkaSecurity returns the TLS and SASL settings of a validated c.
func (c *Config) kafkaSecurity() (pipeline.KafkaSecurity, error) {
	var s pipeline.KafkaSecurity
	if c.KafkaTLS {
		s.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		if c.KafkaCAFile != "" {
			pool, err := esconn.LoadCAs(c.KafkaCAFile)
			if err != nil {
				return s, err
			}
			s.TLS.RootCAs = pool
		}
	}
	var err error
	switch strings.ToUpper(c.SASLMechanism) {
	case "PLAIN":
		s.SASL = plain.Mechanism{Username: c.KafkaUsername, Password: c.KafkaPassword}
	case "SCRAM-SHA-256":
		s.SASL, err = scram.Mechanism(scram.SHA256, c.KafkaUsername, c.KafkaPassword)
	case "SCRAM-SHA-512":
		s.SASL, err = scram.Mechanism(scram.SHA512, c.KafkaUsername, c.KafkaPassword)
	}
	return s, err
}

// elasticsearch returns a client for a validated c. The client does not
// retry: the pipeline retries per bulk item.
func (c *Config) elasticsearch(workers int) (*elasticsearch.Client, error) {
	cfg, err := c.esSettings().Config(workers + 2)
	if err != nil {
		return nil, err
	}
	cfg.DisableRetry = true
	return elasticsearch.NewClient(cfg)
}
