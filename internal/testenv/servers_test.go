package testenv_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/sdtriage/sdtriage/internal/testenv"
)

// TestKafkaConsumerGroupResumes proves the broker is a real Kafka: a topic is
// created, 10,000 messages produced and consumed in a consumer group with
// explicit commits, and a second reader of the same group resumes after the
// last commit instead of starting over.
func TestKafkaConsumerGroupResumes(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic, group := testenv.Name(t), testenv.Name(t)+"-group"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if err := testenv.CreateTopic(brokers[0], topic, 3); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}

	const total, firstRead = 10000, 6000
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		BatchSize:    1000,
		BatchTimeout: 10 * time.Millisecond,
		RequiredAcks: kafka.RequireAll,
	}
	msgs := make([]kafka.Message, total)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	seen := make(map[string]int, total)
	read := func(n int) {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: brokers, Topic: topic, GroupID: group,
			StartOffset: kafka.FirstOffset, CommitInterval: 0, // explicit commits only
			MaxWait: 100 * time.Millisecond,
		})
		defer r.Close()
		for i := 0; i < n; i++ {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				t.Fatalf("fetch after %d messages: %v", i, err)
			}
			seen[string(m.Key)]++
			if err := r.CommitMessages(ctx, m); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
	}
	read(firstRead)
	read(total - firstRead)

	if len(seen) != total {
		t.Fatalf("consumed %d distinct messages, want %d", len(seen), total)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("message %s consumed %d times: the second reader did not resume after the commit", k, n)
		}
	}
}

// TestElasticsearchBulkAndCount proves the node is a real Elasticsearch that
// the official v8 client accepts: an index is created, documents are
// bulk-indexed, the index refreshed and the documents counted.
func TestElasticsearchBulkAndCount(t *testing.T) {
	url := testenv.Elasticsearch(t)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	index := testenv.Name(t)
	ctx := context.Background()

	res, err := es.Indices.Create(index,
		es.Indices.Create.WithBody(strings.NewReader(`{"settings":{"number_of_replicas":0},
			"mappings":{"properties":{"n":{"type":"integer"},"category":{"type":"keyword"}}}}`)),
		es.Indices.Create.WithContext(ctx))
	mustOK(t, "create index", res, err)
	res.Body.Close()
	t.Cleanup(func() {
		if res, err := es.Indices.Delete([]string{index}); err == nil {
			res.Body.Close()
		}
	})

	const n = 1000
	var body bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&body, `{"create":{"_index":%q,"_id":"%d"}}`+"\n", index, i)
		fmt.Fprintf(&body, `{"n":%d,"category":%q}`+"\n", i, []string{"auth", "network", "payload", "server"}[i%4])
	}
	res, err = es.Bulk(&body, es.Bulk.WithContext(ctx), es.Bulk.WithRefresh("true"))
	mustOK(t, "bulk", res, err)
	var bulk struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Status int `json:"status"`
		} `json:"items"`
	}
	decode(t, res, &bulk)
	if bulk.Errors || len(bulk.Items) != n {
		t.Fatalf("bulk: errors=%v items=%d, want no errors and %d items", bulk.Errors, len(bulk.Items), n)
	}

	res, err = es.Count(es.Count.WithIndex(index), es.Count.WithContext(ctx),
		es.Count.WithBody(strings.NewReader(`{"query":{"term":{"category":"auth"}}}`)))
	mustOK(t, "count", res, err)
	var count struct {
		Count int `json:"count"`
	}
	decode(t, res, &count)
	if count.Count != n/4 {
		t.Fatalf("count of category auth = %d, want %d", count.Count, n/4)
	}
}

func mustOK(t *testing.T, what string, res *esapi.Response, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if res.IsError() {
		t.Fatalf("%s: %s", what, res.String())
	}
}

func decode(t *testing.T, res *esapi.Response, v any) {
	t.Helper()
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("decode response: %v", err)
	}
}

// TestKafkaSASLSSL proves the broker's secure listener is real: TLS on a
// certificate from the generated CA, and each SASL mechanism authenticates
// the test user and refuses a wrong password.
func TestKafkaSASLSSL(t *testing.T) {
	s := testenv.KafkaSASL(t)
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", s.CAFile)
	}
	tlsConfig := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}

	mechanism := func(name, password string) sasl.Mechanism {
		switch name {
		case "PLAIN":
			return plain.Mechanism{Username: s.Username, Password: password}
		case "SCRAM-SHA-256", "SCRAM-SHA-512":
			algo := scram.SHA256
			if name == "SCRAM-SHA-512" {
				algo = scram.SHA512
			}
			m, err := scram.Mechanism(algo, s.Username, password)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		t.Fatalf("unknown mechanism %s", name)
		return nil
	}
	for _, name := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(name, func(t *testing.T) {
			dial := func(password string) error {
				d := &kafka.Dialer{Timeout: 10 * time.Second, TLS: tlsConfig, SASLMechanism: mechanism(name, password)}
				conn, err := d.Dial("tcp", s.Brokers[0])
				if err != nil {
					return err
				}
				defer conn.Close()
				_, err = conn.ApiVersions()
				return err
			}
			if err := dial(s.Password); err != nil {
				t.Fatalf("right password refused: %v", err)
			}
			err := dial(s.Password + "-wrong")
			if err == nil || !errors.Is(err, kafka.SASLAuthenticationFailed) {
				t.Fatalf("wrong password: err = %v, want SASLAuthenticationFailed", err)
			}
		})
	}
}
