package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// ingestedAt is the fixed ingest time of the golden documents.
var ingestedAt = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// TestDocumentGolden renders testdata/documents.ndjson and compares the
// documents, one per line, with testdata/documents.golden.
func TestDocumentGolden(t *testing.T) {
	c := testClassifier(t)
	in, err := os.ReadFile("testdata/documents.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	sc := bufio.NewScanner(bytes.NewReader(in))
	for line := int64(1); sc.Scan(); line++ {
		got, _, err = c.AppendDocument(got, sc.Bytes(), Source{Topic: "sd-logs", Partition: 2, Offset: 100 + line}, ingestedAt)
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		got = append(got, '\n')
	}
	const golden = "testdata/documents.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
				t.Errorf("line %d differs (run go test -update to accept):\n got %s\nwant %s", i+1, at(gl, i), at(wl, i))
			}
		}
	}
	for i, line := range bytes.Split(bytes.TrimSpace(got), []byte("\n")) {
		if !json.Valid(line) {
			t.Errorf("document %d is not valid JSON: %s", i+1, line)
		}
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "<none>"
}

// TestDocumentMasksSecrets places each kind of credential of CONTRACT
// section 4 in each place of a record that reaches the document.
func TestDocumentMasksSecrets(t *testing.T) {
	secrets := map[string]string{
		"openai key":      "sk-proj-Ab3dEfGhIjKlMnOpQrStUvWx",
		"replicate token": "r8_Ab3dEfGhIjKlMnOpQrStUvWxYz",
		"hf token":        "hf_Ab3dEfGhIjKlMnOpQrStUvWxYz",
		"bearer":          "Bearer Zx9yWv8uTs7rQp6oNm5lKj4iHg",
	}
	// Each template places the secret S in one field of a record.
	places := map[string]string{
		"error":        `{"status":401,"error":"request failed: Authorization: S"}`,
		"error key=":   `{"error":"GET https://x/y?api_key=S failed"}`,
		"string body":  `{"status":401,"response_body":"{\"message\":\"invalid key S\"}"}`,
		"object body":  `{"status":401,"response_body":{"echo":{"apiKey":"S"}}}`,
		"url token=":   `{"status":401,"url":"https://api.example.com/v1?token=S"}`,
		"url path":     `{"status":401,"url":"https://api.example.com/v1/S/x"}`,
		"extra string": `{"status":401,"debug":"sent S"}`,
		"extra key":    `{"status":401,"x-api-key":"S"}`,
		"extra object": `{"status":401,"headers":{"authorization":"S","x":"y"}}`,
		"error.type":   `{"status":401,"error.type":"S"}`,
		"api_key_id":   `{"status":401,"api_key_id":"S"}`,
		"ecs body":     `{"http":{"response":{"status_code":401,"body":{"content":"key S"}}}}`,
		"nested extra": `{"status":401,"labels":{"debug":"S"}}`,
		"exception":    `{"exception":"AuthError(S)"}`,
	}
	c := testClassifier(t)
	for sname, s := range secrets {
		for pname, tmpl := range places {
			if sname == "bearer" && strings.Contains(pname, "=") {
				continue // a query parameter never holds "Bearer <token>"
			}
			rec := strings.ReplaceAll(tmpl, "S", s)
			doc, _, err := c.AppendDocument(nil, []byte(rec), Source{}, ingestedAt)
			if err != nil {
				t.Fatalf("%s in %s: %v", sname, pname, err)
			}
			token := s[strings.LastIndexByte(s, ' ')+1:]
			if bytes.Contains(doc, []byte(token[:12])) {
				t.Errorf("%s in %s survives: %s", sname, pname, doc)
			}
			if !bytes.Contains(doc, []byte("[MASKED:")) {
				t.Errorf("%s in %s: no fingerprint: %s", sname, pname, doc)
			}
			if !json.Valid(doc) {
				t.Errorf("%s in %s: invalid JSON: %s", sname, pname, doc)
			}
		}
	}
}

func TestDocumentBodyTruncated(t *testing.T) {
	c := testClassifier(t)
	body := strings.Repeat("é", maxBody) // 2 bytes each
	doc, _, err := c.AppendDocument(nil, []byte(`{"status":500,"response_body":"`+body+`"}`), Source{}, ingestedAt)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		HTTP struct {
			Response struct {
				Body struct{ Content string }
			}
		}
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if got := d.HTTP.Response.Body.Content; len(got) != maxBody || got != body[:maxBody] {
		t.Errorf("body of %d bytes, want the first %d", len(got), maxBody)
	}
}

func TestAppendDocumentError(t *testing.T) {
	c := testClassifier(t)
	dst := []byte("keep")
	out, _, err := c.AppendDocument(dst, []byte(`not json`), Source{}, ingestedAt)
	if err != ErrNotObject || string(out) != "keep" {
		t.Errorf("got %q, %v", out, err)
	}
}

// FuzzAppendJSONString checks the string encoder against encoding/json:
// both decode to the same text.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\s`, "ctl\x00\x1f\n\r\t", "é\u2028\u2029", "bad\xff\xc3", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		var dec, want string
		if err := json.Unmarshal(got, &dec); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, got, err)
		}
		ref, _ := json.Marshal(s)
		json.Unmarshal(ref, &want)
		if dec != want {
			t.Errorf("%q decodes to %q, want %q", s, dec, want)
		}
	})
}

func TestAppendRFC3339(t *testing.T) {
	for _, tt := range []time.Time{
		time.Date(2026, 11, 26, 9, 3, 50, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 120_000_000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2026, 6, 1, 0, 0, 0, 1, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 500, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 100, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0).UTC(),
	} {
		want := tt.Format(time.RFC3339Nano)
		if got := string(appendRFC3339(nil, tt)); got != want {
			t.Errorf("appendRFC3339(%v) = %s, want %s", tt, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lo, hi := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
	for range 10000 {
		tt := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)).UTC()
		if rng.IntN(2) == 0 {
			tt = tt.Truncate(time.Millisecond)
		}
		got := string(appendRFC3339(nil, tt))
		if want := tt.Format(time.RFC3339Nano); got != want {
			t.Fatalf("appendRFC3339(%v) = %s, want %s", tt, got, want)
		}
		if !isCanonicalRFC3339(got) {
			t.Fatalf("isCanonicalRFC3339(%s) = false for what appendRFC3339 writes", got)
		}
	}
}

// TestCanonicalRFC3339 checks the times that are copied into documents as
// they are: exactly those that appendRFC3339 would write the same.
func TestCanonicalRFC3339(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"2026-03-02T12:00:00Z", true},
		{"2026-03-02T12:00:00.5Z", true},
		{"2026-03-02T12:00:00.123456789Z", true},
		{"0042-03-02T12:00:59.000000001Z", true},
		{"2026-03-02T12:00:00.50Z", false},         // trailing zero
		{"2026-03-02T12:00:00.0Z", false},          // zero fraction
		{"2026-03-02T12:00:00.1234567891Z", false}, // more than nanoseconds
		{"2026-03-02T12:00:60Z", false},            // leap second: the next minute
		{"2026-03-02t12:00:00Z", false},
		{"2026-03-02 12:00:00Z", false},
		{"2026-03-02T12:00:00z", false},
		{"2026-03-02T12:00:00,5Z", false},
		{"2026-03-02T12:00:00.Z", false},
		{"2026-03-02T12:00:00", false},
		{"2026-03-02T12:00:00+00:00", false},
		{"2026-03-02T12:00:00.5+01:00", false},
	} {
		if got := isCanonicalRFC3339(tt.in); got != tt.want {
			t.Errorf("isCanonicalRFC3339(%q) = %v, want %v", tt.in, got, tt.want)
		}
		ts, ok := parseRFC3339(tt.in)
		if tt.want && (!ok || string(appendRFC3339(nil, ts)) != tt.in) {
			t.Errorf("%q is canonical but appendRFC3339 writes %s", tt.in, appendRFC3339(nil, ts))
		}
	}
}

// TestDocumentIngested checks that the ingest time kept between records
// follows the time the caller passes.
func TestDocumentIngested(t *testing.T) {
	c := testClassifier(t)
	rec := []byte(`{"status":200}`)
	for _, at := range []time.Time{ingestedAt, ingestedAt, ingestedAt.Add(time.Millisecond), time.Unix(0, 1)} {
		doc, _, err := c.AppendDocument(nil, rec, Source{Topic: "t"}, at)
		if err != nil {
			t.Fatal(err)
		}
		want := at.UTC().Format(time.RFC3339Nano)
		var d struct {
			Timestamp string `json:"@timestamp"`
			Event     struct{ Ingested string }
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		if d.Timestamp != want || d.Event.Ingested != want {
			t.Errorf("ingested at %s: @timestamp %s, event.ingested %s", want, d.Timestamp, d.Event.Ingested)
		}
	}
}
