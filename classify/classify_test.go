package classify

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdtriage/sdtriage/rules"
)

// testClassifier compiles testdata/rules.yaml.
func testClassifier(t testing.TB) *Classifier {
	t.Helper()
	rs, errs := rules.ParseFile("testdata/rules.yaml")
	if len(errs) > 0 {
		t.Fatalf("testdata/rules.yaml: %v", errs)
	}
	c, err := New(rs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClassify(t *testing.T) {
	c := testClassifier(t)
	tests := []struct {
		name  string
		rec   string
		want  string // "success", "unusable", or category/reason/rule_id
		retry bool
	}{
		{"plain success", `{"status":200,"url":"https://api.stability.ai/v2beta/stable-image/generate/core"}`, "success", false},
		{"empty object", `{}`, "unusable", false},
		{"only unknown fields", `{"foo":1}`, "unusable", false},
		{"401", `{"status":401,"response_body":"{\"message\":\"bad key\"}"}`, "auth/invalid_credentials/auth.401", false},
		{"status as numeric string", `{"status":"401"}`, "auth/invalid_credentials/auth.401", false},
		{"ECS nested status", `{"http":{"response":{"status_code":401}}}`, "auth/invalid_credentials/auth.401", false},
		{"ECS dotted status", `{"http.response.status_code":401}`, "auth/invalid_credentials/auth.401", false},
		{"status_code alias", `{"status_code":503}`, "server/internal_error/server.5xx", true},
		{"http.response.body object without content",
			`{"http":{"response":{"status_code":429,"body":{"error":{"code":"insufficient_quota"}}}}}`,
			"auth/insufficient_credits/quota", false},
		{"canonical status wins", `{"status_code":503,"status":401}`, "auth/invalid_credentials/auth.401", false},

		{"429 quota via field in string body",
			`{"status":429,"response_body":"{\"error\":{\"code\":\"insufficient_quota\",\"message\":\"You exceeded...\"}}"}`,
			"auth/insufficient_credits/quota", false},
		{"429 quota via field in object body",
			`{"status":429,"response_body":{"error":{"code":"Insufficient_Quota"}}}`,
			"auth/insufficient_credits/quota", false},
		{"429 quota via field whose value is escaped in the body",
			`{"status":429,"response_body":{"error":{"code":"insufficient\u005fquota"}}}`,
			"auth/insufficient_credits/quota", false},
		{"429 quota via field escaped inside a string body",
			`{"status":429,"response_body":"{\"error\":{\"code\":\"insufficient\\u005fquota\"}}"}`,
			"auth/insufficient_credits/quota", false},
		{"429 quota via text in ECS body",
			`{"http":{"response":{"status_code":429,"body":{"content":"You EXCEEDED your current quota"}}}}`,
			"auth/insufficient_credits/quota", false},
		{"429 without quota is unmatched",
			`{"status":429,"response_body":"slow down"}`, "unknown/unmatched/", false},

		{"403 moderation regex", `{"status":403,"body":"Your request was rejected by our Content-Moderation system"}`,
			"payload/content_policy/moderation", false},
		{"403 zscaler block page", `{"status":403,"provider":"stability","body":"<html>Zscaler: access denied</html>"}`,
			"network/firewall_blocked/proxy.block", false},
		{"403 zscaler text from openai is not a block (not)",
			`{"status":403,"url":"https://api.openai.com/v1/images/generations","body":"zscaler"}`,
			"unknown/unmatched/", false},

		{"tls regex on error", `{"error":"Get \"https://api.stability.ai\": x509: certificate signed by unknown authority"}`,
			"network/tls_error/tls", false},
		{"tls regex needs status none", `{"status":200,"error":"x509: certificate has expired"}`,
			"unknown/unmatched/", false},
		{"timeout via err alias", `{"err":"context deadline exceeded (Client.Timeout exceeded while awaiting headers)"}`,
			"network/timeout/timeout", true},
		{"timeout via exception alias", `{"exception":"requests.exceptions.ReadTimeout: Read timed out. (read timeout=60)"}`,
			"network/timeout/timeout", true},
		{"timeout via ECS error.message", `{"error":{"message":"ETIMEDOUT: socket TIMEOUT"}}`,
			"network/timeout/timeout", true},
		{"timeout via dotted error.message", `{"error.message":"deadline exceeded"}`, "network/timeout/timeout", true},
		{"408 timeout", `{"status":408,"error":"request timeout"}`, "network/timeout/timeout", true},

		{"replicate failed prediction behind 200",
			`{"status":200,"url":"https://api.replicate.com/v1/predictions/abc","response_body":{"status":"failed","error":"CUDA error"}}`,
			"server/internal_error/replicate.failed", true},
		{"replicate canceled is success",
			`{"status":200,"url":"https://api.replicate.com/v1/predictions/abc","response_body":{"status":"canceled","error":null}}`,
			"success", false},
		{"a1111 oom", `{"status":500,"method":"post","url":"http://LOCALHOST:7860/sdapi/v1/txt2img","error":"CUDA out of memory"}`,
			"server/internal_error/a1111.oom", true},
		{"a1111 oom needs POST", `{"status":500,"method":"GET","url":"http://localhost:7860/sdapi/v1/txt2img","error":"out of memory"}`,
			"server/internal_error/server.5xx", true},
		{"field path written nested finds dotted key",
			`{"status":400,"error.type":"invalid_request_error"}`, "payload/invalid_parameter/error.type", false},
		{"field path nested", `{"status":400,"error":{"type":"invalid_request_error","message":"bad size"}}`,
			"payload/invalid_parameter/error.type", false},
		{"field value in the record escaped", `{"status":400,"error.type":"invalid_request\u005ferror"}`,
			"payload/invalid_parameter/error.type", false},
		{"field in the record after an escaped key", `{"st\u0061tus":400,"error":{"type":"invalid_request_error"}}`,
			"payload/invalid_parameter/error.type", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Classify([]byte(tt.rec))
			if err != nil {
				t.Fatal(err)
			}
			got := "success"
			switch {
			case res.Unusable:
				got = "unusable"
			case res.Failure:
				got = string(res.Category) + "/" + res.Reason + "/" + res.RuleID
			}
			if got != tt.want || res.Retryable != tt.retry {
				t.Errorf("got %s retryable=%t, want %s retryable=%t", got, res.Retryable, tt.want, tt.retry)
			}
		})
	}
}

func TestClassifyNotObject(t *testing.T) {
	c := testClassifier(t)
	for _, rec := range []string{``, `  `, `[1,2]`, `"str"`, `42`, `{"status":`, `{"a":1}x`, `{"a":1} {"b":2}`, `null`} {
		if _, err := c.Classify([]byte(rec)); !errors.Is(err, ErrNotObject) {
			t.Errorf("Classify(%q) error = %v, want ErrNotObject", rec, err)
		}
	}
}

func TestFailureDetection(t *testing.T) {
	tests := []struct {
		rec  string
		want verdict
	}{
		{`{"status":200}`, verdictSuccess},
		{`{"status":302}`, verdictSuccess},
		{`{"status":404}`, verdictStatus},
		{`{"status":0,"error":"connection refused"}`, verdictNoResponse},
		{`{"error":"connection refused"}`, verdictNoResponse},
		{`{"status":200,"error":"EOF while reading body"}`, verdictErrorText},
		{`{"status":200,"error":""}`, verdictSuccess},
		{`{"status":200,"error":null}`, verdictSuccess},
		{`{"status":200,"body":"{\"status\":\"failed\"}"}`, verdictBody},
		{`{"status":200,"body":{"status":"ERROR"}}`, verdictBody},
		{`{"status":200,"body":{"status":"succeeded","error":null}}`, verdictSuccess},
		{`{"status":200,"body":{"status":"canceled"}}`, verdictSuccess},
		{`{"status":200,"body":{"status":"cancelled"}}`, verdictSuccess},
		{`{"status":200,"body":{"error":{"message":"x"}}}`, verdictBody},
		{`{"status":200,"body":{"error":{}}}`, verdictSuccess},
		{`{"status":200,"body":{"error":"model is loading"}}`, verdictBody},
		{`{"status":200,"body":{"errors":[]}}`, verdictSuccess},
		{`{"status":200,"body":{"errors":["bad"]}}`, verdictBody},
		{`{"status":200,"body":{"status":{"status_str":"error"}}}`, verdictBody},
		{`{"status":200,"body":"{\"9a8b\":{\"status\":{\"status_str\":\"error\"}}}"}`, verdictBody},
		{`{"status":200,"body":"{\"9a8b\":{\"status\":{\"status_str\":\"success\"}}}"}`, verdictSuccess},
		{`{"error.message":"","error.type":"asyncio.exceptions.TimeoutError"}`, verdictNoResponse},
		{`{"status":200,"body":"[{\"status\":\"failed\"}]"}`, verdictSuccess},
		{`{"status":304,"body":{"status":"failed"}}`, verdictSuccess},
		{`{"body":{"status":"failed"}}`, verdictBody},
		{`{"service":"app"}`, verdictSuccess},
		{`{}`, verdictUnusable},
	}
	for _, tt := range tests {
		var r record
		if !r.parse(tt.rec) {
			t.Fatalf("parse(%s) failed", tt.rec)
		}
		if got := r.judge(); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.rec, got, tt.want)
		}
	}
}

func TestExtract(t *testing.T) {
	// Every row spells the same call differently; all must extract alike.
	const want = "ts=2026-03-01T10:00:00Z svc=app prov=stability id=r1 m=POST url=https://api.stability.ai/v1/x " +
		"status=500 dur=1500000 err=boom type=E body=oops attempt=2 key=k1"
	recs := []string{
		`{"@timestamp":"2026-03-01T10:00:00Z","service":"app","provider":"stability","request_id":"r1","method":"POST",
		  "url":"https://api.stability.ai/v1/x","status":500,"latency_ms":1.5,"error":"boom","error.type":"E",
		  "response_body":"oops","attempt":2,"api_key_id":"k1"}`,
		`{"timestamp":1772359200,"service.name":"app","labels.provider":"stability","http.request.id":"r1",
		  "http.request.method":"POST","url.full":"https://api.stability.ai/v1/x","status_code":500,"duration_ms":1.5,
		  "error.message":"boom","error.type":"E","http.response.body.content":"oops","retry":2,"labels.api_key_id":"k1"}`,
		`{"ts":1772359200000,"service":{"name":"app"},"labels":{"provider":"stability","api_key_id":"k1"},
		  "http":{"request":{"id":"r1","method":"POST"},"response":{"status_code":500,"body":{"content":"oops"}}},
		  "url":{"full":"https://api.stability.ai/v1/x"},"event":{"duration":1500000},"error":{"message":"boom","type":"E"},
		  "attempt":"2"}`,
		`{"time":"1772359200","service":"app","trace":{"id":"r1"},"method":"POST","endpoint":"https://api.stability.ai/v1/x",
		  "http.response":{"status_code":"500"},"event.duration":1500000,"err":"boom","error":{"type":"E"},"body":"oops",
		  "attempt":2,"api_key_id":"k1"}`,
		`{"@timestamp":"2026-03-01 11:00:00+01:00","service":"app","request_id":"r1","method":"POST",
		  "url":"https://API.stability.ai/v1/x","status":500,"latency_ms":1.5,"exception":"boom","error.type":"E",
		  "response_body":"oops","attempt":2,"api_key_id":"k1"}`,
	}
	for i, rec := range recs {
		var x scratch
		x.rec.reset()
		if !x.rec.parse(rec) {
			t.Fatalf("record %d does not parse", i)
		}
		r := &x.rec
		host, _, _ := splitURL(r.url)
		prov := r.provider
		if prov == "" {
			prov = providerFromURL(lowerASCII(host), "", "")
		}
		dur, _ := r.duration()
		got := "ts=" + r.timestamp().Format(time.RFC3339Nano) + " svc=" + r.service + " prov=" + prov +
			" id=" + r.requestID + " m=" + r.method + " url=" + strings.ToLower(r.url) + " status=" + strconv.Itoa(r.status) +
			" dur=" + strconv.Itoa(int(dur)) + " err=" + r.errorText() + " type=" + r.errType + " body=" + r.bodyText() +
			" attempt=" + strconv.Itoa(int(r.attempt)) + " key=" + r.apiKeyID
		if got != want {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
		}
		if len(r.extras) != 0 {
			t.Errorf("record %d: unexpected extras %v", i, r.extras)
		}
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"2026-03-01T10:00:00Z"`, "2026-03-01T10:00:00Z"},
		{`"2026-03-01T10:00:00.123456789Z"`, "2026-03-01T10:00:00.123456789Z"},
		{`"2026-03-01T10:00:00.5+02:00"`, "2026-03-01T08:00:00.5Z"},
		{`"2026-03-01T10:00:00-05:30"`, "2026-03-01T15:30:00Z"},
		{`"2026-03-01 10:00:00"`, "2026-03-01T10:00:00Z"},
		{`1772359200`, "2026-03-01T10:00:00Z"},
		{`1772359200.25`, "2026-03-01T10:00:00.25Z"},
		{`1772359200123`, "2026-03-01T10:00:00.123Z"},
		{`1772359200123456`, "2026-03-01T10:00:00.123456Z"},
		{`1772359200123456789`, "2026-03-01T10:00:00.123456768Z"}, // float64 precision
		{`"1772359200123"`, "2026-03-01T10:00:00.123Z"},
		{`"2026-02-30T10:00:00Z"`, "0001-01-01T00:00:00Z"},
		{`"yesterday"`, "0001-01-01T00:00:00Z"},
		{`-5`, "0001-01-01T00:00:00Z"},
		{`true`, "0001-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		var r record
		r.parse(`{"@timestamp":` + tt.in + `}`)
		if got := r.timestamp().Format(time.RFC3339Nano); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestProviderFromURL(t *testing.T) {
	tests := []struct{ url, rec, want string }{
		{"https://api.stability.ai/v2beta/stable-image/generate/ultra", "", "stability"},
		{"https://api.replicate.com/v1/predictions", "", "replicate"},
		{"https://replicate.delivery/pbxt/abc/out.png", "", "replicate"},
		{"https://router.huggingface.co/hf-inference/models/x", "", "huggingface"},
		{"https://api-inference.huggingface.co/models/x", "", "huggingface"},
		{"https://xyz.us-east-1.aws.endpoints.huggingface.cloud/", "", "huggingface"},
		{"https://api.openai.com/v1/images/generations", "", "openai"},
		{"https://myco.openai.azure.com/openai/deployments/dalle3/images/generations?api-version=2024-02-01", "", "openai"},
		{"https://myco.openai.azure.com/openai/", "azure-openai", "azure-openai"},
		{"http://127.0.0.1:7860/sdapi/v1/txt2img", "", "automatic1111"},
		{"http://gpu-box:8188/prompt", "", "comfyui"},
		{"http://gpu-box:8188/history/123", "", "comfyui"},
		{"http://gpu-box:8080/prompt", "", ""},
		{"https://comfy.example.com/api/prompt", "", "comfyui"},
		{"https://example.com/v1", "", ""},
		{"https://example.com/v1", "Stability", "stability"},
	}
	c := testClassifier(t)
	for _, tt := range tests {
		rec := `{"status":200,"url":"` + tt.url + `"`
		if tt.rec != "" {
			rec += `,"provider":"` + tt.rec + `"`
		}
		rec += "}"
		doc, _, err := c.AppendDocument(nil, []byte(rec), Source{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if i := strings.Index(string(doc), `"provider":"`); i >= 0 {
			rest := string(doc[i+len(`"provider":"`):])
			got = rest[:strings.IndexByte(rest, '"')]
		}
		if got != tt.want {
			t.Errorf("%s (provider %q): got %q, want %q", tt.url, tt.rec, got, tt.want)
		}
	}
}

func TestSplitURL(t *testing.T) {
	tests := []struct{ in, host, port, path string }{
		{"https://user:pw@api.openai.com:443/v1/images?x=1#f", "api.openai.com", "443", "/v1/images"},
		{"http://[::1]:7860/sdapi/v1/txt2img", "::1", "7860", "/sdapi/v1/txt2img"},
		{"localhost:8188/prompt", "localhost", "8188", "/prompt"},
		{"/prompt?x", "", "", "/prompt"},
		{"api.stability.ai", "api.stability.ai", "", ""},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		h, p, path := splitURL(tt.in)
		if h != tt.host || p != tt.port || path != tt.path {
			t.Errorf("splitURL(%q) = %q %q %q, want %q %q %q", tt.in, h, p, path, tt.host, tt.port, tt.path)
		}
	}
}

func TestPrecedenceFirstMatchWins(t *testing.T) {
	// Both rules match; the earlier one (higher priority) decides.
	rs := &rules.RuleSet{Version: "v", Rules: []rules.Rule{
		{ID: "first", Category: rules.CategoryServer, Reason: "unavailable", Match: rules.Condition{Status: []rules.StatusRange{{Lo: 500, Hi: 599}}}},
		{ID: "second", Category: rules.CategoryServer, Reason: "internal_error", Match: rules.Condition{Status: []rules.StatusRange{{Lo: 500, Hi: 500}}}},
	}}
	c, err := New(rs)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := c.Classify([]byte(`{"status":500}`))
	if res.RuleID != "first" {
		t.Errorf("rule %q decided, want first", res.RuleID)
	}
	if c.Ruleset() != "v" {
		t.Errorf("Ruleset() = %q", c.Ruleset())
	}
}

func TestNewBadRegex(t *testing.T) {
	rs := &rules.RuleSet{Rules: []rules.Rule{{ID: "bad", Pos: rules.Position{File: "f.yaml", Line: 3, Column: 5},
		Match: rules.Condition{Error: &rules.TextMatch{Regex: "("}}}}}
	_, err := New(rs)
	if err == nil || !strings.Contains(err.Error(), `f.yaml:3:5: rule "bad": error regex`) {
		t.Errorf("New: %v", err)
	}
}

func TestExplain(t *testing.T) {
	c := testClassifier(t)
	ex, err := c.Explain([]byte(`{"status":429,"response_body":{"error":{"code":"insufficient_quota"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Result.RuleID != "quota" || len(ex.Tried) != 1 || !ex.Tried[0].Matched {
		t.Fatalf("explanation %+v", ex)
	}
	want := []string{"status 429 in [429]", `field error.code in body equals "insufficient_quota"`}
	if strings.Join(ex.Matched, "|") != strings.Join(want, "|") {
		t.Errorf("matched %q, want %q", ex.Matched, want)
	}

	ex, err = c.Explain([]byte(`{"status":403,"url":"https://api.openai.com/v1/x","body":"zscaler"}`))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Result.Reason != rules.ReasonUnmatched || ex.Skipped+len(ex.Tried) != 10 {
		t.Fatalf("explanation %+v", ex)
	}
	var whys []string
	for _, a := range ex.Tried {
		if a.Matched {
			t.Errorf("rule %s matched", a.RuleID)
		}
		whys = append(whys, a.RuleID+": "+a.Why)
	}
	wantWhys := []string{
		`moderation: body does not match regex "content[ _-]?(moderation|policy|filter)"`,
		`proxy.block: not: provider "openai" held`,
		`replicate.failed: provider "openai" not in ["replicate"]`,
		`a1111.oom: method "" not in ["post"]`,
		`error.type: field error.type in record: exists is false`,
	}
	if strings.Join(whys, "\n") != strings.Join(wantWhys, "\n") {
		t.Errorf("tried:\n%s\nwant:\n%s", strings.Join(whys, "\n"), strings.Join(wantWhys, "\n"))
	}
	if ex.Verdict != verdictStatus.String() {
		t.Errorf("verdict %q", ex.Verdict)
	}
}

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		re   string
		want string // groups separated by " & ", literals by "|"
	}{
		{`exceeded (your )?(current )?quota`, "exceeded  & quota"},
		{`timed out|timeout`, "time & d out|out"},
		{`(connection refused|econnrefused)`, "connection refused|econnrefused"},
		{`\b(token|key)s?\b[^.;]{0,40}\bexpir(ed|y)\b`, "token|key & expir"},
		{`x509: .*`, "x509: "},
		{`\d+`, ""},
		{`a|bc`, ""},
		{`(?i)abc`, ""},
	}
	for _, tt := range tests {
		var groups []string
		for _, g := range requiredLiterals(tt.re) {
			groups = append(groups, strings.Join(g, "|"))
		}
		if got := strings.Join(groups, " & "); got != tt.want {
			t.Errorf("requiredLiterals(%q) = %q, want %q", tt.re, got, tt.want)
		}
	}
}

func TestAutomaton(t *testing.T) {
	lits := []string{"he", "she", "his", "hers", "x"}
	a := newAutomaton(lits, []bool{true, false, false, false, true}, [][]int32{{0}, {1}, nil, {0, 1}, nil})
	h := literalHits{found: make([]uint8, len(lits)), matched: make([]uint8, 2)}
	if a.scan("uSHers", 1, 10, &h) {
		t.Error("ASCII text reported as non-ASCII")
	}
	if !a.scan("xé x", 2, 0, &h) {
		t.Error("non-ASCII text reported as ASCII")
	}
	want := []uint8{1, 1, 0, 1, 2}
	for i := range want {
		if h.found[i] != want[i] {
			t.Errorf("%q: found %d, want %d", lits[i], h.found[i], want[i])
		}
	}
	if fmt.Sprint(h.hits) != "[1 0 3 4]" {
		t.Errorf("hits %v, want [1 0 3 4]: each literal once, in order of discovery", h.hits)
	}
	// Anchors: "he" at 2 of "uSHers" (offset 10), "x" at 0 and 4 of "xé x".
	if got := fmt.Sprint(h.occ); got != "[{0 1 12} {4 2 0} {4 2 4}]" {
		t.Errorf("occurrences %s", got)
	}
	// Matcher 0 has "he" and "hers", matcher 1 "she" and "hers".
	if fmt.Sprint(h.matched) != "[1 1]" {
		t.Errorf("matched %v, want [1 1]", h.matched)
	}
	h.reset()
	if len(h.hits) != 0 || len(h.occ) != 0 || h.found[0] != 0 || h.matched[0] != 0 {
		t.Errorf("reset left %+v", h)
	}
}

func TestAlternatives(t *testing.T) {
	tests := []struct{ re, want string }{
		{`ab|cd`, "ab & cd"},
		{`(missing|no)\W+key|key (is )?missing`, `(missing|no)[^0-9A-Z_a-z]+key & key (is )?missing`},
		{`(timed out|timeout)`, "(timed out|timeout)"}, // parsed as time(?:d out|out): no top-level alternation
		{`x(a|b)`, "x(a|b)"},
	}
	for _, tt := range tests {
		if got := strings.Join(alternatives(tt.re), " & "); got != tt.want {
			t.Errorf("alternatives(%q) = %q, want %q", tt.re, got, tt.want)
		}
	}
}

// TestAlternativesAgree checks on the corpus that splitting every regexp of
// the default pack at its alternation changes no match.
func TestAlternativesAgree(t *testing.T) {
	var exprs []string
	var walk func(c *rules.Condition)
	walk = func(c *rules.Condition) {
		for _, m := range []*rules.TextMatch{c.Error, c.Body, c.Text, c.URL} {
			if m != nil && m.Regex != "" {
				exprs = append(exprs, m.Regex)
			}
		}
		for i := range c.All {
			walk(&c.All[i])
		}
		for i := range c.Any {
			walk(&c.Any[i])
		}
		if c.Not != nil {
			walk(c.Not)
		}
	}
	for i := range rules.Default().Rules {
		walk(&rules.Default().Rules[i].Match)
	}
	recs := benchRecords(&testing.B{})
	for _, expr := range exprs {
		whole := regexp.MustCompile(expr)
		var alts []*regexp.Regexp
		for _, a := range alternatives(expr) {
			alts = append(alts, regexp.MustCompile(a))
		}
		for _, rec := range recs {
			text := bytes.ToLower(rec)
			any := false
			for _, a := range alts {
				any = any || a.Match(text)
			}
			if any != whole.Match(text) {
				t.Errorf("%q: alternatives disagree on %s", expr, rec)
			}
		}
	}
}

func TestPlanAnchor(t *testing.T) {
	tests := []struct{ re, starts, anchored string }{
		{`(client|server) error \W?4\d\d\b`, "client|server", `\A(client|server) error [^0-9A-Z_a-z]?4[0-9][0-9]\b`},
		{`\bjson\b[^.]{0,30}\binvalid\b`, "json", `\Ajson\b[^\.]{0,30}\binvalid\b`},
		{`exceeded (your )?quota`, "exceeded ", `\Aexceeded (your )?quota`},
		{`(a(?:uth|pi))-key`, "auth|api", `\A(a(?:uth|pi))-key`}, // no extension past a group
		{`(\A|[^a-z])auth`, "auth", `\Aauth`},
		{`(^|[^a-z\x{e9}])auth`, "", ""}, // é is outside ASCII: one byte cannot tell
		{`(\A|[a-z])auth`, "", ""},
		{`x+y`, "", ""},
	}
	for _, tt := range tests {
		p, ok := planAnchor(tt.re)
		if got := strings.Join(p.starts, "|"); got != tt.starts || p.anchored != tt.anchored || ok != (tt.starts != "") {
			t.Errorf("planAnchor(%q) = %q %q %t, want %q %q", tt.re, got, p.anchored, ok, tt.starts, tt.anchored)
		}
	}
}

// TestAnchoredAgrees checks on the corpus that running each regexp of the
// default pack anchored at its start literals finds what the plain regexp
// finds.
func TestAnchoredAgrees(t *testing.T) {
	c, err := New(rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	recs := benchRecords(&testing.B{})
	recs = append(recs, []byte(`{"error":"Ünïcode: Client Error 404 — JSON body is invalid","response_body":"server error: 413 (x)"}`))
	recs = append(recs, []byte(`{"error":"no x_api_key given, 9authorization missing, Éauthentication absent","response_body":"missing api key"}`),
		[]byte(`{"error":"missing bearer token: unauthorized (auth header absent)"}`))
	x := c.pool.Get().(*scratch)
	anchored := 0
	for _, rec := range recs {
		if _, err := c.run(x, rec, nil); err != nil {
			t.Fatal(err)
		}
		x.prepare()
		x.scanRegions(inError | inBody | inURL)
		var walk func(cd *cond)
		walk = func(cd *cond) {
			for i := range cd.texts {
				m := &cd.texts[i]
				for j := range m.alts {
					a := &m.alts[j]
					if a.anchored == nil {
						continue
					}
					anchored++
					if got, want := m.runAlt(x, a), a.re.Match(x.region(m.region)); got != want {
						t.Errorf("%s on %s: anchored %t, plain %t", a.re, rec, got, want)
					}
				}
			}
			for i := range cd.all {
				walk(&cd.all[i])
			}
			for i := range cd.any {
				walk(&cd.any[i])
			}
			if cd.not != nil {
				walk(cd.not)
			}
		}
		for i := range c.conds {
			walk(&c.conds[i])
		}
	}
	if anchored == 0 {
		t.Error("no regexp of the default pack has an anchor plan")
	}
}

func TestLookupPath(t *testing.T) {
	for p, want := range paths {
		if got, ok := lookupPath(p); !ok || got != want {
			t.Errorf("lookupPath(%q) = %v %t, want %v", p, got, ok, want)
		}
	}
	for _, p := range []string{"", "x", "statu", "status_codes", "http.response.status", "error.messages"} {
		if _, ok := lookupPath(p); ok {
			t.Errorf("lookupPath(%q) found", p)
		}
	}
}

// TestConcurrent classifies the corpus from several goroutines at once
// (run with -race): a Classifier is shared by the pipeline's workers.
func TestConcurrent(t *testing.T) {
	c := testClassifier(t)
	recs := benchRecords(&testing.B{})
	want := make([]Result, len(recs))
	for i, rec := range recs {
		want[i], _ = c.Classify(rec)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var doc []byte
			for i, rec := range recs {
				got, _ := c.Classify(rec)
				var res Result
				doc, res, _ = c.AppendDocument(doc[:0], rec, Source{}, ingestedAt)
				if got != want[i] || res != want[i] {
					t.Errorf("record %d: %+v / %+v, want %+v", i, got, res, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestScanHalves checks that scanning a long text as two halves finds the
// same literals and anchor positions as one walk, also for literals across
// the middle.
func TestScanHalves(t *testing.T) {
	c, err := New(rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	a := c.ac
	texts := []string{}
	for _, rec := range benchRecords(&testing.B{}) {
		texts = append(texts, string(rec))
	}
	p := 2*a.maxLen + 64
	for _, l := range c.lits {
		for _, cut := range []int{0, 1, len(l) / 2, len(l) - 1, len(l)} {
			// A text of 2p bytes, split at p, with l starting cut bytes
			// before the split.
			texts = append(texts, strings.Repeat("~", p-cut)+l+strings.Repeat("~", p+cut-len(l)))
		}
	}
	for _, text := range texts {
		one := literalHits{found: make([]uint8, len(c.lits)), matched: make([]uint8, 1000)}
		two := literalHits{found: make([]uint8, len(c.lits)), matched: make([]uint8, 1000)}
		w1 := a.scanRange(text, 0, len(text), inBody, 0, &one)
		w2 := a.scan(text, inBody, 0, &two)
		if w1 != w2 || !bytes.Equal(one.found, two.found) || !bytes.Equal(one.matched, two.matched) ||
			occSet(one.occ) != occSet(two.occ) {
			t.Fatalf("scan differs from one walk on %q", text)
		}
	}
}

// occSet renders occurrences as a sorted, duplicate-free list.
func occSet(occ []occurrence) string {
	seen := map[string]bool{}
	var out []string
	for _, o := range occ {
		s := fmt.Sprint(o)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
