package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealth runs `ingest health` against a stand-in for the ingester's
// metrics server that is alive but not ready.
func TestHealth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok\n"))
		case "/readyz":
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := strings.Cut(addr, ":")

	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"--metrics-addr", addr}, successExitCode, "/healthz: ok", ""},
		{[]string{"--metrics-addr", ":" + port}, successExitCode, "127.0.0.1:" + port + "/healthz: ok", ""},
		{[]string{"--metrics-addr", addr, "--ready"}, failureExitCode, "", "503 Service Unavailable: not ready"},
		{[]string{"--metrics-addr", "127.0.0.1:1"}, failureExitCode, "", "connection refused"},
		{[]string{"--metrics-addr", "9464"}, usageExitCode, "", "is not [host]:port"},
		{[]string{"--metrics-addr", addr, "extra"}, usageExitCode, "", `unexpected arguments ["extra"]`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code := ingest(t, "", append([]string{"health"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}
