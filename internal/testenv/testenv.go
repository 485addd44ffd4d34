// Package testenv gives integration tests the real Kafka broker and
// Elasticsearch node they run against, or skips them with a message that says
// how to start those servers.
//
// The servers are named by the environment, as for the binaries:
// KAFKA_BROKERS (comma-separated host:port) and ELASTICSEARCH_URL. When a
// variable is unset the test is skipped, except under CI=true, where a
// missing server fails the test: CI must never pass by skipping. A variable
// that is set but names a server that does not answer always fails.
package testenv

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

const howToStart = "start the local servers with `make up` and export the lines it prints " +
	"(KAFKA_BROKERS=127.0.0.1:9092 ELASTICSEARCH_URL=http://127.0.0.1:9200), or run `make test`"

// Kafka returns the brokers of KAFKA_BROKERS after checking that the first
// one answers a Kafka ApiVersions request.
func Kafka(t testing.TB) []string {
	t.Helper()
	v := lookup(t, "KAFKA_BROKERS")
	brokers := strings.Split(v, ",")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := (&kafka.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		t.Fatalf("testenv: KAFKA_BROKERS=%s: %v; %s", v, err, howToStart)
	}
	defer conn.Close()
	if _, err := conn.ApiVersions(); err != nil {
		t.Fatalf("testenv: KAFKA_BROKERS=%s does not answer as a Kafka broker: %v", v, err)
	}
	return brokers
}

// SASL is the broker's SASL_SSL listener: a certificate signed by the CA in
// CAFile, and one user for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512.
type SASL struct {
	Brokers            []string
	Username, Password string
	CAFile             string
}

// KafkaSASL returns the SASL_SSL listener that testenv.sh starts beside the
// plain one: KAFKA_SASL_BROKERS, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD
// and KAFKA_SASL_CA_FILE.
func KafkaSASL(t testing.TB) SASL {
	t.Helper()
	s := SASL{
		Brokers:  strings.Split(lookup(t, "KAFKA_SASL_BROKERS"), ","),
		Username: lookup(t, "KAFKA_SASL_USERNAME"),
		Password: lookup(t, "KAFKA_SASL_PASSWORD"),
		CAFile:   lookup(t, "KAFKA_SASL_CA_FILE"),
	}
	if _, err := os.Stat(s.CAFile); err != nil {
		t.Fatalf("testenv: KAFKA_SASL_CA_FILE: %v", err)
	}
	return s
}

// Elasticsearch returns ELASTICSEARCH_URL after checking that the node
// answers a cluster health request as Elasticsearch.
func Elasticsearch(t testing.TB) string {
	t.Helper()
	u := strings.TrimRight(lookup(t, "ELASTICSEARCH_URL"), "/")
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(u + "/_cluster/health?wait_for_status=yellow&timeout=5s")
	if err != nil {
		t.Fatalf("testenv: ELASTICSEARCH_URL=%s: %v; %s", u, err, howToStart)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("testenv: ELASTICSEARCH_URL=%s answered %s without the Elasticsearch product header", u, resp.Status)
	}
	return u
}

func lookup(t testing.TB, name string) string {
	t.Helper()
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("testenv: %s is not set and CI=true: integration tests must run in CI, not skip; %s", name, howToStart)
	}
	t.Skipf("testenv: %s is not set; skipping this integration test; %s", name, howToStart)
	return ""
}

var (
	unsafe = regexp.MustCompile(`[^a-z0-9]+`)
	seq    atomic.Int64
)

// Name returns a name for a topic, group or index that is unique to this
// test run and valid for both Kafka and Elasticsearch (lower case, no
// leading punctuation). When the test ends, the Kafka topics, Elasticsearch
// indices and index templates whose names start with it are removed, so a
// long test run does not fill the servers with shards and partitions.
func Name(t testing.TB) string {
	base := strings.Trim(unsafe.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 60 {
		base = base[:60]
	}
	name := fmt.Sprintf("t-%s-%d-%d", base, time.Now().UnixNano()%1e9, seq.Add(1))
	t.Cleanup(func() { remove(name) })
	return name
}

// remove deletes, best effort, what a test created under the prefix name.
// Deleting by exact names works on any cluster, also where deleting by
// wildcard is forbidden (action.destructive_requires_name).
func remove(prefix string) {
	if u := strings.TrimRight(os.Getenv("ELASTICSEARCH_URL"), "/"); u != "" {
		client := &http.Client{Timeout: 10 * time.Second}
		for _, index := range lines(client, u+"/_cat/indices/"+prefix+"*?h=index&expand_wildcards=all") {
			request(client, http.MethodDelete, u+"/"+index)
		}
		for _, tmpl := range lines(client, u+"/_cat/templates/"+prefix+"*?h=name") {
			request(client, http.MethodDelete, u+"/_index_template/"+tmpl)
		}
	}
	if b := os.Getenv("KAFKA_BROKERS"); b != "" {
		removeTopics(strings.Split(b, ",")[0], prefix)
	}
}

func lines(client *http.Client, url string) []string {
	resp, err := client.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

func request(client *http.Client, method, url string) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return
	}
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
}

func removeTopics(broker, prefix string) {
	conn, err := kafka.DialContext(context.Background(), "tcp", broker)
	if err != nil {
		return
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions()
	if err != nil {
		return
	}
	seen := map[string]bool{}
	var topics []string
	for _, p := range parts {
		if strings.HasPrefix(p.Topic, prefix) && !seen[p.Topic] {
			seen[p.Topic] = true
			topics = append(topics, p.Topic)
		}
	}
	if len(topics) == 0 {
		return
	}
	cc, err := dialController(broker)
	if err != nil {
		return
	}
	defer cc.Close()
	cc.DeleteTopics(topics...)
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now, for
// tests that start a server of their own.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
