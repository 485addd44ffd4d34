package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestRunWaitsForElasticsearch starts ingest run with Elasticsearch not
// (yet) reachable: it stays alive, /healthz answers and /readyz says not
// ready, and SIGTERM ends it with exit 0.
func TestRunWaitsForElasticsearch(t *testing.T) {
	metrics := freeAddr(t)
	cmd := exec.Command(os.Args[0], mainMarker, "run", "--es-url", "http://"+freeAddr(t), "--metrics-addr", metrics)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()

	get := func(path string) int {
		res, err := http.Get("http://" + metrics + path)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	deadline := time.Now().Add(20 * time.Second)
	for get("/healthz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never answered; output:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while Elasticsearch is unreachable, want 503", code)
	}
	time.Sleep(500 * time.Millisecond) // at least one failed check
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v; output:\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ingest run did not exit within 10s of SIGTERM")
	}
	if !strings.Contains(out.String(), "cannot check the index template yet") {
		t.Errorf("the log does not say it is waiting for Elasticsearch:\n%s", out.String())
	}
}

// TestRunRefusesMissingTemplate runs ingest run against an Elasticsearch
// without the index template: exit 1, telling to run ingest setup.
func TestRunRefusesMissingTemplate(t *testing.T) {
	es := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"type":"resource_not_found_exception","reason":"index template matching [sdtriage] not found"},"status":404}`)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go es.Serve(l)
	defer es.Close()
	_, stderr, code := ingest(t, "", "run", "--es-url", "http://"+l.Addr().String(), "--metrics-addr", "")
	if code != failureExitCode || !strings.Contains(stderr, "index template sdtriage is missing: run `ingest setup` first") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 saying to run ingest setup", code, stderr)
	}
}
