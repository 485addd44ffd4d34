package pipeline_test

// The masking audit (issue 7, CONTRACT section 4): credentials of every
// kind the contract names, planted at random (seeded) in every field,
// Kafka header and URL position of records, must not reach Elasticsearch
// documents, dead-letter messages, logs or metric labels, whichever way
// the records go: indexed, dead-lettered as unusable, or dead-lettered
// after Elasticsearch rejected them.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/sdtriage/sdtriage/pipeline"
)

var auditSeed = flag.Uint64("audit.seed", 20261126, "seed of the masking audit's record generator")

// secretKind is one kind of credential of CONTRACT section 4 and the ways
// it is written down in text, in a JSON object and in a URL.
type secretKind struct {
	name   string
	secret func(r *rand.Rand) string
	text   func(s string) string              // as it appears in a log line or an error message
	field  func(s string) (key, value string) // as a JSON member
	url    func(s string) string              // as it appears in a URL after the path
}

func alnum(r *rand.Rand, n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	b[0] = "0123456789"[r.IntN(10)] // credentials mix digits in; the masker relies on that for bare tokens
	return string(b)
}

func jsonField(name string) func(string) (string, string) {
	return func(s string) (string, string) { return name, s }
}

func queryParam(name string) func(string) string {
	return func(s string) string { return "?" + name + "=" + s }
}

var secretKinds = []secretKind{
	{"authorization header", func(r *rand.Rand) string { return alnum(r, 40) },
		func(s string) string { return "Authorization: Bearer " + s },
		func(s string) (string, string) { return "Authorization", "Bearer " + s }, queryParam("access_token")},
	{"x-api-key header", func(r *rand.Rand) string { return alnum(r, 32) },
		func(s string) string { return "x-api-key: " + s }, jsonField("x-api-key"), queryParam("key")},
	{"bearer", func(r *rand.Rand) string { return "eyJ" + alnum(r, 20) + "." + alnum(r, 30) + "." + alnum(r, 24) },
		func(s string) string { return "sent Bearer " + s + " to the provider" },
		func(s string) (string, string) { return "auth", "Bearer " + s }, queryParam("token")},
	{"openai sk-", func(r *rand.Rand) string { return "sk-proj-" + alnum(r, 48) },
		func(s string) string { return "Incorrect API key provided: " + s + "." },
		jsonField("note"), func(s string) string { return "/keys/" + s + "/usage" }},
	{"stability sk-", func(r *rand.Rand) string { return "sk-" + alnum(r, 48) },
		func(s string) string { return "stability key " + s + " rejected" }, jsonField("stability_key"), queryParam("key")},
	{"replicate r8_", func(r *rand.Rand) string { return "r8_" + alnum(r, 37) },
		func(s string) string { return "REPLICATE_API_TOKEN=" + s }, jsonField("replicate"), queryParam("api_key")},
	{"huggingface hf_", func(r *rand.Rand) string { return "hf_" + alnum(r, 34) },
		func(s string) string { return "using token " + s }, jsonField("hub"), func(s string) string { return "?use_auth=" + s }},
	{"key= query", func(r *rand.Rand) string { return alnum(r, 39) },
		func(s string) string { return "GET /v1/models?key=" + s + " failed" }, jsonField("key"), queryParam("key")},
	{"api_key= query", func(r *rand.Rand) string { return alnum(r, 24) },
		func(s string) string { return "retrying /generate?api_key=" + s }, jsonField("api_key"), queryParam("api_key")},
	{"token= query", func(r *rand.Rand) string { return alnum(r, 30) },
		func(s string) string { return "callback ?token=" + s + "&x=1" }, jsonField("token"), queryParam("token")},
	{"apiKey field", func(r *rand.Rand) string { return alnum(r, 28) },
		func(s string) string { return `config {"apiKey":"` + s + `"}` }, jsonField("apiKey"), queryParam("apiKey")},
	{"secret field", func(r *rand.Rand) string { return alnum(r, 36) },
		func(s string) string { return `client_secret=` + s }, jsonField("client_secret"), queryParam("secret")},
	{"password field", func(r *rand.Rand) string { return alnum(r, 14) + "!" + alnum(r, 3) },
		func(s string) string { return `{"user":"svc","password":"` + s + `"}` }, jsonField("password"),
		func(s string) string { return "@" + s }}, // user info: https://svc:<s>@host
}

// record positions: where a planted credential can sit in a record.
var recordPositions = []string{
	"url", "error", "error.message", "response_body string", "response_body object",
	"extra field", "extra headers object", "service", "request_id", "api_key_id", "exception",
}

// plantedRecord is one record of the audit with the credentials in it.
type plantedRecord struct {
	value   []byte
	headers []kafka.Header
	secrets []string
}

// auditRecord builds one record; path says where it must end up (indexed,
// unusable or rejected by Elasticsearch).
func auditRecord(r *rand.Rand, path string) plantedRecord {
	var pr plantedRecord
	rec := map[string]any{
		"@timestamp": time.Date(2026, 11, 20, r.IntN(24), r.IntN(60), 0, 0, time.UTC).Format(time.RFC3339),
		"service":    "avatar-studio", "provider": "openai", "method": "POST", "status": 401,
		"url": "https://api.openai.com/v1/images/generations", "error": "request failed",
	}
	if path == "rejected" {
		rec["@timestamp"] = "2001-01-01T12:00:00Z" // the index whose mapping conflicts
	}
	plant := func() (secretKind, string) {
		k := secretKinds[r.IntN(len(secretKinds))]
		s := k.secret(r)
		pr.secrets = append(pr.secrets, s)
		return k, s
	}
	var first secretKind
	for i := range 1 + r.IntN(3) {
		k, s := plant()
		if i == 0 {
			first = k
		}
		switch pos := recordPositions[r.IntN(len(recordPositions))]; pos {
		case "url":
			u := k.url(s)
			if strings.HasPrefix(u, "@") {
				rec["url"] = "https://svc:" + s + "@gateway.internal/v1/images/generations"
			} else {
				rec["url"] = "https://api.openai.com/v1/images/generations" + u
			}
		case "error", "exception":
			rec[pos] = "openai: 401 Unauthorized: " + k.text(s)
		case "error.message":
			rec["error"] = map[string]any{"message": k.text(s), "type": "AuthenticationError"}
		case "response_body string":
			// JSON text in k.text is escaped twice in the record's raw
			// bytes (\\\"apiKey\\\":\\\"...), which dead letters keep.
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": k.text(s), "code": "invalid_api_key"}})
			rec["response_body"] = string(b)
		case "response_body object":
			key, v := k.field(s)
			rec["response_body"] = map[string]any{"error": map[string]any{"message": "bad key", "request": map[string]any{key: v}}}
		case "extra field":
			key, v := k.field(s)
			rec[key] = v
		case "extra headers object":
			key, v := k.field(s)
			rec["request_headers"] = map[string]any{"Content-Type": "application/json", key: v}
		case "service", "request_id", "api_key_id":
			// Identifiers never hold credentials on purpose; a key pasted
			// into one by mistake must still be caught by its shape.
			rec[pos] = k.text(s)
		}
	}
	// Kafka headers: every record carries one credential-bearing header.
	k, s := plant()
	key, v := k.field(s)
	pr.headers = []kafka.Header{{Key: "trace-id", Value: []byte("t-1")}, {Key: key, Value: []byte(v)}}

	b, _ := json.Marshal(rec)
	if path == "unusable" {
		// Not a JSON object: a truncated record, or a plain log line.
		if r.IntN(2) == 0 {
			b = b[:len(b)-1-r.IntN(3)]
			if !bytes.Contains(b, []byte(pr.secrets[0])) {
				b = append(append([]byte(nil), b...), []byte(" "+first.text(pr.secrets[0]))...)
			}
		} else {
			b = []byte("2026/11/20 14:03:22 worker: upstream said 401; " + k.text(s) + "; " + first.text(pr.secrets[0]))
		}
	}
	pr.value = b
	// A later credential may have replaced an earlier one in the same place.
	present := pr.secrets[:0]
	for _, s := range pr.secrets {
		in := bytes.Contains(b, []byte(s))
		for _, h := range pr.headers {
			in = in || bytes.Contains(h.Value, []byte(s))
		}
		if in {
			present = append(present, s)
		}
	}
	pr.secrets = present
	return pr
}

// leakScanner finds any 10-character window of a planted credential in a
// text. A fingerprint keeps the last four characters, fewer than a window.
type leakScanner struct {
	windows map[string]string // window -> the credential it comes from
}

const leakWindow = 10

func newLeakScanner(secrets []string) *leakScanner {
	ls := &leakScanner{windows: map[string]string{}}
	for _, s := range secrets {
		for i := 0; i+leakWindow <= len(s); i++ {
			ls.windows[s[i:i+leakWindow]] = s
		}
	}
	return ls
}

// find returns the credentials whose windows occur in text.
func (ls *leakScanner) find(text []byte) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i+leakWindow <= len(text); i++ {
		if s, ok := ls.windows[string(text[i:i+leakWindow])]; ok && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer for a zap core written from several goroutines.
type syncBuffer struct{ lockedBuffer }

func (b *syncBuffer) Sync() error { return nil }

func TestMaskingAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	e.setup()
	conflict := e.index + "-2001.01.01"
	res, err := esapi.IndicesCreateRequest{Index: conflict, Body: strings.NewReader(
		`{"mappings":{"properties":{"service":{"properties":{"name":{"type":"long"}}}}}}`)}.Do(context.Background(), e.es)
	if err != nil || res.IsError() {
		t.Fatalf("creating %s: %v %v", conflict, err, res)
	}
	res.Body.Close()

	seed := *auditSeed
	t.Logf("seed %d (go test -run TestMaskingAudit -audit.seed=N to vary)", seed)
	r := rand.New(rand.NewPCG(seed, seed>>1))
	const n = 600
	var (
		msgs    []kafka.Message
		secrets []string
		paths   = map[string]int{}
	)
	for i := range n {
		path := []string{"indexed", "indexed", "indexed", "unusable", "rejected"}[r.IntN(5)]
		paths[path]++
		pr := auditRecord(r, path)
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprint(i)), Value: pr.value, Headers: pr.headers})
		secrets = append(secrets, pr.secrets...)
	}
	scan := newLeakScanner(secrets)
	// The scanner must see every credential in the input, or finding none
	// in the output would prove nothing.
	var input bytes.Buffer
	for _, m := range msgs {
		input.Write(m.Value)
		for _, h := range m.Headers {
			input.Write(h.Value)
		}
		input.WriteByte('\n')
	}
	if found := scan.find(input.Bytes()); len(found) != len(uniq(secrets)) {
		t.Fatalf("the scanner finds %d of the %d planted credentials in the input", len(found), len(uniq(secrets)))
	}

	w := &kafka.Writer{Addr: kafka.TCP(e.brokers...), Topic: e.topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, Transport: &kafka.Transport{}}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
	w.Close()

	logs := &syncBuffer{}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), logs, zapcore.DebugLevel)
	reg := prometheus.NewRegistry()
	o := e.options(t)
	o.Logger, o.Metrics = zap.New(core), pipeline.NewMetrics(reg)
	stop := start(pipeline.New(o))
	e.waitCommitted(2 * time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	// Elasticsearch: every document's _source.
	if _, err := (esapi.IndicesRefreshRequest{Index: []string{e.index + "-*"}}).Do(context.Background(), e.es); err != nil {
		t.Fatal(err)
	}
	res, err = esapi.SearchRequest{Index: []string{e.index + "-*"}, Size: ptr(10000)}.Do(context.Background(), e.es)
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var hits struct {
		Hits struct {
			Total struct{ Value int }
		}
	}
	json.Unmarshal(docs, &hits)

	// Dead letters: key, value and every header.
	dead := e.readAll(e.dlq)
	reasons := map[string]int{}
	var dlq bytes.Buffer
	for _, m := range dead {
		reasons[header(m, pipeline.HeaderReason)]++
		dlq.Write(m.Key)
		dlq.WriteByte('\n')
		dlq.Write(m.Value)
		dlq.WriteByte('\n')
		for _, h := range m.Headers {
			fmt.Fprintf(&dlq, "%s: %s\n", h.Key, h.Value)
		}
	}

	// Metric labels.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var labels bytes.Buffer
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				fmt.Fprintf(&labels, "%s=%s\n", l.GetName(), l.GetValue())
			}
		}
	}

	for _, out := range []struct {
		name string
		text []byte
	}{
		{"Elasticsearch documents", docs},
		{"dead-letter messages", dlq.Bytes()},
		{"logs", []byte(logs.String())},
		{"metric labels", labels.Bytes()},
	} {
		for _, s := range scan.find(out.text) {
			i := bytes.Index(out.text, []byte(s[len(s)-leakWindow:]))
			t.Errorf("%s hold the credential %q: …%s…", out.name, s, excerpt(out.text, i))
		}
	}

	// The audit covered every path.
	if hits.Hits.Total.Value < paths["indexed"] || reasons[pipeline.ReasonNotObject] < paths["unusable"] ||
		reasons[pipeline.ReasonESRejected] < paths["rejected"] || !strings.Contains(logs.String(), "rejected") {
		t.Errorf("paths not all taken: %d documents for %d records to index, dead letters %v for %v",
			hits.Hits.Total.Value, paths["indexed"], reasons, paths)
	}
	// Masked, the dead letters still say which key failed.
	if !bytes.Contains(dlq.Bytes(), []byte("[MASKED:")) {
		t.Error("the dead letters carry no fingerprint of the masked credentials")
	}
	t.Logf("%d records (%v), %d credentials planted; %d documents, %d dead letters %v, %d bytes of logs",
		n, paths, len(uniq(secrets)), hits.Hits.Total.Value, len(dead), reasons, len(logs.String()))
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

func excerpt(b []byte, i int) string {
	if i < 0 {
		return ""
	}
	return string(b[max(0, i-80):min(len(b), i+40)])
}

func ptr[T any](v T) *T { return &v }
