package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// parseConfig binds a Config to env and parses args, as runCmd does.
func parseConfig(t *testing.T, env map[string]string, args ...string) (*Config, []error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c Config
	problems := bindConfig(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &c)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	c.complete()
	return &c, problems
}

func TestConfigDefaults(t *testing.T) {
	c, problems := parseConfig(t, nil)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	want := Config{
		Brokers: []string{"127.0.0.1:9092"}, Topic: "sdtriage.api-calls", Group: "sdtriage-ingest",
		DLQTopic: "sdtriage.api-calls.dlq", ESURLs: []string{"http://127.0.0.1:9200"}, Index: "sdtriage",
		BatchSize: 1000, BatchBytes: 5 << 20, FlushInterval: time.Second, MaxInFlight: 10000, Workers: 2,
		CommitInterval: time.Second, MetricsAddr: ":9464", ShutdownTimeout: 30 * time.Second, Retention: 720 * time.Hour,
	}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("defaults:\n%+v\nwant\n%+v", *c, want)
	}
}

func TestConfigPrecedence(t *testing.T) {
	env := map[string]string{
		"KAFKA_BROKERS": "k1:9092, k2:9092", "KAFKA_TOPIC": "calls", "BATCH_SIZE": "250",
		"FLUSH_INTERVAL": "3s", "KAFKA_TLS": "true", "KAFKA_PASSWORD": "pw", "ELASTICSEARCH_INDEX": "logs",
	}
	c, problems := parseConfig(t, env, "--batch-size", "50", "--topic", "other")
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	if !slices.Equal(c.Brokers, []string{"k1:9092", "k2:9092"}) || c.Topic != "other" || c.DLQTopic != "other.dlq" ||
		c.BatchSize != 50 || c.FlushInterval != 3*time.Second || !c.KafkaTLS || c.KafkaPassword != "pw" || c.Index != "logs" {
		t.Errorf("flags must win over the environment, the environment over defaults: %+v", *c)
	}
}

func TestConfigBadEnvironment(t *testing.T) {
	_, problems := parseConfig(t, map[string]string{"BATCH_SIZE": "lots", "FLUSH_INTERVAL": "5", "KAFKA_TLS": "maybe"})
	var got []string
	for _, p := range problems {
		got = append(got, p.Error())
	}
	want := []string{
		`KAFKA_TLS="maybe": not a boolean (true or false)`,
		`BATCH_SIZE="lots": not an integer`,
		`FLUSH_INTERVAL="5": not a duration (such as 500ms, 10s, 1m)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%q\nwant\n%q", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string // every problem, in order
	}{
		{"valid", []string{"--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-username", "u", "--kafka-password", "p"}, nil},
		{"brokers", []string{"--brokers", "kafka1,:x"}, []string{
			`KAFKA_BROKERS (--brokers): "kafka1" is not host:port`}},
		{"no brokers", []string{"--brokers", " , "}, []string{"KAFKA_BROKERS (--brokers): no broker given"}},
		{"topics", []string{"--topic", "a b", "--dlq-topic", "a b"}, []string{
			`KAFKA_TOPIC (--topic): "a b" is not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)`,
			`KAFKA_DLQ_TOPIC (--dlq-topic): "a b" is not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)`,
			`KAFKA_DLQ_TOPIC (--dlq-topic): the dead-letter topic must differ from KAFKA_TOPIC "a b"`}},
		{"sasl", []string{"--kafka-sasl-mechanism", "GSSAPI"}, []string{
			`KAFKA_SASL_MECHANISM (--kafka-sasl-mechanism): "GSSAPI" is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`}},
		{"sasl without credentials", []string{"--kafka-sasl-mechanism", "PLAIN"}, []string{
			"KAFKA_SASL_MECHANISM=PLAIN needs KAFKA_USERNAME and KAFKA_PASSWORD"}},
		{"credentials without sasl", []string{"--kafka-username", "u"}, []string{
			"KAFKA_USERNAME/KAFKA_PASSWORD are set but KAFKA_SASL_MECHANISM is not: choose PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"}},
		{"ca file", []string{"--kafka-ca-file", ca, "--es-ca-file", "/nonexistent.pem"}, []string{
			"KAFKA_CA_FILE (--kafka-ca-file): " + ca + " holds no PEM certificate",
			"ELASTICSEARCH_CA_FILE (--es-ca-file): open /nonexistent.pem: no such file or directory"}},
		{"batching", []string{"--batch-size", "0", "--batch-bytes", "10", "--flush-interval", "0s", "--max-in-flight", "-1",
			"--workers", "0", "--commit-interval", "0s", "--shutdown-timeout", "10ms"}, []string{
			"BATCH_SIZE (--batch-size): 0, want at least 1",
			"BATCH_BYTES (--batch-bytes): 10, want 1 KiB to 100 MiB (Elasticsearch's default http.max_content_length)",
			"FLUSH_INTERVAL (--flush-interval): 0s, want more than 0",
			"MAX_IN_FLIGHT (--max-in-flight): -1, want at least BATCH_SIZE (0)",
			"BULK_WORKERS (--workers): 0, want at least 1",
			"COMMIT_INTERVAL (--commit-interval): 0s, want more than 0",
			"SHUTDOWN_TIMEOUT (--shutdown-timeout): 10ms, want at least 1s"}},
		{"metrics and rules", []string{"--metrics-addr", "9464", "--rules", "/nonexistent"}, []string{
			`METRICS_ADDR (--metrics-addr): "9464" is not [host]:port`,
			`RULES_DIR (--rules): "/nonexistent" is not a directory`}},
		{"elasticsearch", []string{"--es-url", "localhost:9200", "--index", "Logs*", "--es-api-key", "k", "--es-username", "u",
			"--retention", "1m"}, []string{
			`ELASTICSEARCH_URL (--es-url): "localhost:9200" is not an http:// or https:// URL`,
			`ELASTICSEARCH_INDEX (--index): "Logs*" is not a valid index prefix (lower-case letters, digits, '.', '_', '-', starting with a letter or digit; at most 200)`,
			"ELASTICSEARCH_API_KEY and ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD are both set: choose one",
			"ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD go together: one is missing",
			"RETENTION (--retention): 1m0s, want at least 1h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := parseConfig(t, nil, tt.args...)
			var got []string
			if err := c.Validate(); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Validate():\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestRunInvalidConfig(t *testing.T) {
	t.Setenv("BATCH_SIZE", "lots")
	_, stderr, code := ingest(t, "", "run", "--workers", "0", "--index", "UPPER")
	if code != usageExitCode {
		t.Errorf("exit %d, want %d", code, usageExitCode)
	}
	for _, want := range []string{"invalid configuration", `BATCH_SIZE="lots"`, "BULK_WORKERS (--workers): 0",
		`ELASTICSEARCH_INDEX (--index): "UPPER"`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestRunHelpListsEnvironment(t *testing.T) {
	_, stderr, code := ingest(t, "", "run", "-h")
	if code != successExitCode {
		t.Errorf("exit %d, want 0", code)
	}
	for _, env := range []string{"KAFKA_BROKERS", "KAFKA_TOPIC", "KAFKA_GROUP", "KAFKA_DLQ_TOPIC", "KAFKA_TLS",
		"KAFKA_CA_FILE", "KAFKA_SASL_MECHANISM", "KAFKA_USERNAME", "KAFKA_PASSWORD", "ELASTICSEARCH_URL",
		"ELASTICSEARCH_INDEX", "ELASTICSEARCH_API_KEY", "ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD",
		"ELASTICSEARCH_CA_FILE", "BATCH_SIZE", "BATCH_BYTES", "FLUSH_INTERVAL", "MAX_IN_FLIGHT", "RULES_DIR",
		"METRICS_ADDR", "SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(stderr, "(env "+env+")") {
			t.Errorf("ingest run -h does not list %s", env)
		}
	}
}

func TestRunHidesSecrets(t *testing.T) {
	t.Setenv("KAFKA_PASSWORD", "hunter2-kafka")
	t.Setenv("ELASTICSEARCH_API_KEY", "c2VjcmV0LWtleQ==")
	_, stderr, _ := ingest(t, "", "run", "-h")
	if strings.Contains(stderr, "hunter2-kafka") || strings.Contains(stderr, "c2VjcmV0LWtleQ==") {
		t.Errorf("ingest run -h shows a secret from the environment:\n%s", stderr)
	}
}

var envInUsage = regexp.MustCompile(`\(env ([A-Z_]+)\)`)

// TestConfigDocumented keeps the README in step with the flags: every
// environment variable of ingest run -h is in its configuration table.
func TestConfigDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	bindConfig(fs, func(string) (string, bool) { return "", false }, new(Config))
	fs.VisitAll(func(f *flag.Flag) {
		m := envInUsage.FindStringSubmatch(f.Usage)
		if m == nil {
			t.Fatalf("--%s names no environment variable: %q", f.Name, f.Usage)
		}
		env := m[1]
		if !strings.Contains(string(doc), "`"+env+"`") || !strings.Contains(string(doc), "`--"+f.Name+"`") {
			t.Errorf("README.md does not document %s (--%s) in its configuration table", env, f.Name)
		}
	})
}
