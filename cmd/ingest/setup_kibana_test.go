package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSetupKibana runs `ingest setup --kibana` against a stand-in
// Elasticsearch that accepts everything and a stand-in Kibana, and checks
// that the objects reach Kibana with the Elasticsearch credentials and a
// data view over --index. (package kibana tests the import request itself
// in detail; this tests the wiring.)
func TestSetupKibana(t *testing.T) {
	es := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"acknowledged":true}`)
	}))
	defer es.Close()
	var imported atomic.Value
	kb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if r.URL.Path != "/api/saved_objects/_import" || r.Header.Get("kbn-xsrf") == "" || user != "elastic" || pass != "pw" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"statusCode":400,"error":"Bad Request","message":"unexpected request"}`)
			return
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(f)
		imported.Store(string(b))
		io.WriteString(w, `{"success":true,"successCount":8}`)
	}))
	defer kb.Close()

	stdout, stderr, code := ingest(t, "", "setup", "--es-url", es.URL, "--index", "acme",
		"--es-username", "elastic", "--es-password", "pw", "--kibana", kb.URL)
	if code != successExitCode {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if want := "kibana: 8 saved objects imported; dashboard: " + kb.URL + "/app/dashboards#/view/sdtriage-overview"; !strings.Contains(stdout, want) {
		t.Errorf("stdout %q, want it to contain %q", stdout, want)
	}
	if got, _ := imported.Load().(string); !strings.Contains(got, `"title":"acme-*"`) {
		t.Errorf("Kibana did not receive a data view over acme-*: %.300q", got)
	}
}

func TestSetupKibanaURL(t *testing.T) {
	_, stderr, code := ingest(t, "", "setup", "--kibana", "kibana:5601")
	if code != usageExitCode || !strings.Contains(stderr, `KIBANA_URL (--kibana): "kibana:5601" is not an http:// or https:// URL`) {
		t.Errorf("exit %d, stderr %q; want a usage error naming KIBANA_URL", code, stderr)
	}
}
