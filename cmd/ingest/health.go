package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// healthCmd implements `ingest health`: it asks a running ingester, at its
// METRICS_ADDR, whether it is alive (/healthz) or, with --ready, whether
// it is consuming and Elasticsearch takes its documents (/readyz), and exits
// 0 or 1. Container images built FROM scratch have no curl or wget, so this
// is what a Compose or Docker healthcheck runs.
func healthCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ingest health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ingest health [flags]\n\n"+
			"Ask the ingester serving METRICS_ADDR whether it is alive (/healthz) or, with\n"+
			"--ready, ready (/readyz). Exit 0 if so, 1 if not.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var addr string
	(&binder{fs: fs, env: os.LookupEnv}).str(&addr, "metrics-addr", "METRICS_ADDR", ":9464",
		"address of the ingester's /healthz and /readyz; an empty host means this machine")
	ready := fs.Bool("ready", false, "ask /readyz instead of /healthz")
	timeout := fs.Duration("timeout", 3*time.Second, "longest to wait for the answer")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ingest health: METRICS_ADDR (--metrics-addr) %q is not [host]:port, or unexpected arguments %q\n", addr, fs.Args())
		return usageExitCode
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // the ingester listens on every interface
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	url := "http://" + net.JoinHostPort(host, port) + path
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "ingest health: %v\n", err)
		return usageExitCode
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "ingest health: %v\n", err)
		return failureExitCode
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	msg := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "ingest health: %s: %s: %s\n", url, resp.Status, msg)
		return failureExitCode
	}
	fmt.Fprintf(stdout, "%s: %s\n", url, msg)
	return successExitCode
}
