package pipeline_test

// Secure connections, client side (issue 7): Kafka SASL with a wrong
// password, and Elasticsearch over HTTPS with a CA file, an API key or a
// user and password. The local node has no security module, so the tests
// put a TLS-terminating proxy in front of it that checks the credentials
// the way Elasticsearch does (docs/guarantees.md says what that covers).

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdtriage/sdtriage/internal/testenv"
)

// TestIngestSASLWrongPassword runs `ingest run` against the SASL_SSL
// listener with a wrong password: one clear error naming SASL
// authentication, a non-zero exit within seconds (kafka-go gives up after
// its three connection attempts, not a retry storm), the password never in
// the log, and nothing committed.
func TestIngestSASLWrongPassword(t *testing.T) {
	t.Parallel()
	sasl := testenv.KafkaSASL(t)
	e := newEnv(t, 1)
	e.runSetup()
	e.produce(generate(t, 50, 0))
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			const wrong = "not-the-password-4f9c"
			e.group = e.topic + "-wrong-" + strings.ToLower(mech)
			p := e.startIngest("KAFKA_BROKERS="+strings.Join(sasl.Brokers, ","), "KAFKA_GROUP="+e.group,
				"KAFKA_SASL_MECHANISM="+mech, "KAFKA_USERNAME="+sasl.Username, "KAFKA_PASSWORD="+wrong,
				"KAFKA_CA_FILE="+sasl.CAFile)
			code, took := p.wait(t, 30*time.Second)
			out := p.out.String()
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.Contains(lastError(out), "SASL Authentication failed") {
				t.Errorf("the last error does not say that SASL authentication failed:\n%s", tail(out, 2000))
			}
			if n := strings.Count(out, "SASL Authentication failed"); n > 10 {
				t.Errorf("%d authentication failures logged: a retry storm", n)
			}
			if strings.Contains(out, wrong) {
				t.Error("the log shows the password")
			}
			if n := e.committedTotal(); n != 0 {
				t.Errorf("%d records committed without a connection", n)
			}
			t.Logf("%s: exit %d after %s", mech, code, took.Round(100*time.Millisecond))
		})
	}
}

// TestIngestKafkaUntrustedCA connects to the SASL_SSL listener trusting a
// CA that did not sign the broker's certificate: exit 1 with the
// certificate error, not an endless wait for the broker.
func TestIngestKafkaUntrustedCA(t *testing.T) {
	t.Parallel()
	sasl := testenv.KafkaSASL(t)
	e := newEnv(t, 1)
	e.runSetup()
	other := httptest.NewTLSServer(http.NotFoundHandler()) // any certificate but the broker's CA
	other.Close()
	ca := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	p := e.startIngest("KAFKA_BROKERS="+strings.Join(sasl.Brokers, ","), "KAFKA_SASL_MECHANISM=SCRAM-SHA-512",
		"KAFKA_USERNAME="+sasl.Username, "KAFKA_PASSWORD="+sasl.Password, "KAFKA_CA_FILE="+ca)
	code, took := p.wait(t, 60*time.Second)
	if last := lastError(p.out.String()); code != 1 || !strings.Contains(last, "certificate signed by unknown authority") {
		t.Errorf("exit code %d, want 1 and the certificate error; last error:\n%s", code, last)
	}
	t.Logf("exit %d after %s", code, took.Round(100*time.Millisecond))
}

// wait waits up to timeout for the process to exit by itself and returns
// its exit code and how long it ran.
func (p *proc) wait(t *testing.T, timeout time.Duration) (int, time.Duration) {
	t.Helper()
	t0 := time.Now()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("ingest still running after %s:\n%s", timeout, tail(p.out.String(), 3000))
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(t0)
}

// lastError returns the last log line at level error.
func lastError(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], `"level":"error"`) {
			return lines[i]
		}
	}
	return ""
}

// esProxy is a TLS-terminating reverse proxy in front of the real node
// that authenticates requests like an Elasticsearch node with security
// enabled: an API key (Authorization: ApiKey base64(id:key)) or basic
// authentication, else 401 with a security_exception and WWW-Authenticate.
type esProxy struct {
	srv    *httptest.Server
	url    string
	caFile string // PEM of the proxy's certificate, its own CA

	apiKey   string // base64(id:key), as given to ELASTICSEARCH_API_KEY
	user     string
	password string

	revoked  atomic.Bool  // when set, every credential is refused
	bulkLeft atomic.Int64 // bulk requests accepted before revoking itself; <0: never
	ok       atomic.Int64 // requests forwarded
	refused  atomic.Int64 // requests answered 401
	byAPIKey atomic.Int64
	byBasic  atomic.Int64
}

const (
	proxyKeyID  = "VuaCfGcBCdbkQm-e5aOx"
	proxyKey    = "ui2lp2axTNmsyakw9tvNnw"
	proxyUser   = "sdtriage_writer"
	proxyPasswd = "writer-pa55-9c1e"
)

func newESProxy(t *testing.T, esURL string) *esProxy {
	t.Helper()
	target, err := url.Parse(esURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &esProxy{apiKey: base64.StdEncoding.EncodeToString([]byte(proxyKeyID + ":" + proxyKey)),
		user: proxyUser, password: proxyPasswd}
	p.bulkLeft.Store(-1)
	rp := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.authenticate(r) {
			p.refused.Add(1)
			h := w.Header()
			h.Set("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
			h.Add("WWW-Authenticate", "ApiKey")
			h.Set("Content-Type", "application/json")
			h.Set("X-Elastic-Product", "Elasticsearch")
			w.WriteHeader(http.StatusUnauthorized)
			reason := "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
			if r.Header.Get("Authorization") == "" {
				reason = "missing authentication credentials for REST request [" + r.URL.RequestURI() + "]"
			}
			fmt.Fprintf(w, `{"error":{"root_cause":[{"type":"security_exception","reason":%q}],"type":"security_exception","reason":%q},"status":401}`, reason, reason)
			return
		}
		p.ok.Add(1)
		r.Header.Del("Authorization") // the node behind has no security module
		rp.ServeHTTP(w, r)
	}))
	// The "no CA" case fails handshakes by design: keep them out of the output.
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	p.url = p.srv.URL
	p.caFile = filepath.Join(t.TempDir(), "es-ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
	if err := os.WriteFile(p.caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// authenticate checks r's credentials; a bulk request also counts down
// bulkLeft, revoking every credential when it reaches zero.
func (p *esProxy) authenticate(r *http.Request) bool {
	if p.revoked.Load() {
		return false
	}
	if strings.HasSuffix(r.URL.Path, "/_bulk") && p.bulkLeft.Load() >= 0 && p.bulkLeft.Add(-1) < 0 {
		p.revoked.Store(true)
		return false
	}
	// The scheme is case-insensitive (go-elasticsearch sends "APIKey").
	scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "ApiKey") && key == p.apiKey {
		p.byAPIKey.Add(1)
		return true
	}
	if u, pw, ok := r.BasicAuth(); ok && u == p.user && pw == p.password {
		p.byBasic.Add(1)
		return true
	}
	return false
}

// setupThrough runs `ingest setup` with extra settings and returns its exit
// code and output.
func (e *env) setupThrough(extra ...string) (int, string) {
	e.t.Helper()
	cmd := exec.Command(ingestBinary(e.t), "setup")
	cmd.Env = e.ingestEnv(extra...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			e.t.Fatal(err)
		}
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// TestElasticsearchSecurity runs `ingest setup` and `ingest run` over HTTPS
// (ELASTICSEARCH_CA_FILE) with an API key and with basic authentication
// through the checking proxy, and with wrong credentials or no CA.
func TestElasticsearchSecurity(t *testing.T) {
	t.Parallel()
	esURL := testenv.Elasticsearch(t)
	apiKey := base64.StdEncoding.EncodeToString([]byte(proxyKeyID + ":" + proxyKey))
	for _, tc := range []struct {
		name  string
		creds []string
		count func(*esProxy) int64
	}{
		{"api key", []string{"ELASTICSEARCH_API_KEY=" + apiKey}, func(p *esProxy) int64 { return p.byAPIKey.Load() }},
		{"basic", []string{"ELASTICSEARCH_USERNAME=" + proxyUser, "ELASTICSEARCH_PASSWORD=" + proxyPasswd},
			func(p *esProxy) int64 { return p.byBasic.Load() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 2)
			proxy := newESProxy(t, esURL)
			settings := append([]string{"ELASTICSEARCH_URL=" + proxy.url, "ELASTICSEARCH_CA_FILE=" + proxy.caFile}, tc.creds...)
			if code, out := e.setupThrough(settings...); code != 0 {
				t.Fatalf("ingest setup through the proxy: exit %d\n%s", code, out)
			}
			recs := generate(t, 2000, 0.02)
			e.produce(recs)
			p := e.startIngest(settings...)
			e.waitCommitted(time.Minute)
			p.stopCleanly(t)
			e.checkExactlyOnce(recs)
			if proxy.refused.Load() != 0 || tc.count(proxy) == 0 || tc.count(proxy) != proxy.ok.Load() {
				t.Errorf("proxy: %d refused, %d forwarded, %d with the expected credentials; want every request authenticated",
					proxy.refused.Load(), proxy.ok.Load(), tc.count(proxy))
			}
		})
	}

	t.Run("wrong credentials", func(t *testing.T) {
		e := newEnv(t, 1)
		proxy := newESProxy(t, esURL)
		wrongKey := base64.StdEncoding.EncodeToString([]byte(proxyKeyID + ":wrong-key-0b7d31aa"))
		e.produce(generate(t, 100, 0))
		for _, tc := range []struct {
			creds  []string
			secret string
		}{
			{[]string{"ELASTICSEARCH_API_KEY=" + wrongKey}, wrongKey},
			{[]string{"ELASTICSEARCH_USERNAME=" + proxyUser, "ELASTICSEARCH_PASSWORD=wrong-pa55-77ab"}, "wrong-pa55-77ab"},
		} {
			settings := append([]string{"ELASTICSEARCH_URL=" + proxy.url, "ELASTICSEARCH_CA_FILE=" + proxy.caFile}, tc.creds...)
			code, out := e.setupThrough(settings...)
			checkRefused(t, "ingest setup", code, out, tc.secret)

			p := e.startIngest(settings...)
			code, _ = p.wait(t, 30*time.Second)
			checkRefused(t, "ingest run", code, p.out.String(), tc.secret)
			if n := e.committedTotal(); n != 0 {
				t.Errorf("%d records committed with wrong credentials", n)
			}
		}
		if proxy.ok.Load() != 0 {
			t.Errorf("%d requests with wrong credentials were forwarded", proxy.ok.Load())
		}
	})

	t.Run("no CA", func(t *testing.T) {
		e := newEnv(t, 1)
		proxy := newESProxy(t, esURL)
		code, out := e.setupThrough("ELASTICSEARCH_URL="+proxy.url, "ELASTICSEARCH_API_KEY="+apiKey)
		if code != 1 || !strings.Contains(out, "certificate signed by unknown authority") {
			t.Errorf("ingest setup without ELASTICSEARCH_CA_FILE: exit %d, want 1 and an unknown authority error:\n%s", code, out)
		}
		if proxy.ok.Load()+proxy.refused.Load() != 0 {
			t.Error("a request went through an untrusted TLS connection")
		}
	})

	// The key is revoked while ingest runs: it stops with the 401 and
	// commits nothing that Elasticsearch did not confirm.
	t.Run("revoked mid-stream", func(t *testing.T) {
		e := newEnv(t, 2)
		proxy := newESProxy(t, esURL)
		settings := []string{"ELASTICSEARCH_URL=" + proxy.url, "ELASTICSEARCH_CA_FILE=" + proxy.caFile,
			"ELASTICSEARCH_API_KEY=" + apiKey}
		if code, out := e.setupThrough(settings...); code != 0 {
			t.Fatalf("ingest setup: exit %d\n%s", code, out)
		}
		recs := generate(t, 5000, 0)
		e.produce(recs)
		proxy.bulkLeft.Store(10)
		p := e.startIngest(append(settings, "BATCH_SIZE=100", "BULK_WORKERS=1", "MAX_IN_FLIGHT=500")...)
		code, _ := p.wait(t, 60*time.Second)
		checkRefused(t, "ingest run", code, p.out.String(), apiKey)
		ids := e.indexed()
		committed := e.committed()
		var n int
		for _, r := range recs {
			if r.offset < committed[r.partition] {
				n++
				if ids[r.id(e.topic)] != 1 {
					t.Errorf("record %s is committed but indexed %d times", r.id(e.topic), ids[r.id(e.topic)])
				}
			}
		}
		if n == 0 || n >= len(recs) {
			t.Errorf("%d of %d records committed: the key was not revoked mid-stream", n, len(recs))
		}
		t.Logf("revoked after %d committed, %d indexed of %d", n, len(ids), len(recs))
	})
}

// checkRefused checks that a command refused by Elasticsearch exited 1 with
// a clear error (HTTP 401 and the exception) and without showing the secret.
func checkRefused(t *testing.T, what string, code int, out, secret string) {
	t.Helper()
	last := lastError(out)
	if code != 1 || !strings.Contains(last, "401") || !strings.Contains(last, "security_exception") {
		t.Errorf("%s with wrong credentials: exit %d, want 1 and an HTTP 401 security_exception error:\n%s", what, code, tail(out, 2000))
	}
	if strings.Contains(out, secret) {
		t.Errorf("%s shows the credential %q in its output", what, secret)
	}
}
