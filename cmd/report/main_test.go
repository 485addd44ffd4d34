package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdtriage/sdtriage/internal/testenv"
)

const dataset = "../../report/testdata/week.ndjson"

// now is a Thursday of 2026-W48, so the default period is 2026-W47.
func now() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) }

func noEnv(string) (string, bool) { return "", false }

func runCmd(t *testing.T, stdin string, env func(string) (string, bool), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, strings.NewReader(stdin), &o, &e, env, now)
	return code, o.String(), e.String()
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--week", "2026-W47", "--from", "2026-11-01", "--to", "2026-11-08"}, "exclude each other"},
		{[]string{"--from", "2026-11-01"}, "go together"},
		{[]string{"--week", "2026-W54"}, "2026 has no week 54"},
		{[]string{"--week", "47"}, "want an ISO week"},
		{[]string{"--from", "2026-11-08", "--to", "2026-11-01"}, "is not after"},
		{[]string{"--tz", "Mars/Olympus"}, "not a time zone"},
		{[]string{"--format", "pdf", "--top", "0"}, "--format \"pdf\""},
		{[]string{"--format", "pdf", "--top", "0"}, "--top 0"},
		{[]string{"--es-url", "localhost:9200"}, "is not an http:// or https:// URL"},
		{[]string{"--index", "Bad Index"}, "not a valid index prefix"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"--no-such-flag"}, "flag provided but not defined"},
	} {
		code, _, stderr := runCmd(t, "", noEnv, tc.args...)
		if code != usageExitCode || !strings.Contains(stderr, tc.want) {
			t.Errorf("report %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr, usageExitCode, tc.want)
		}
	}
}

func TestEnvironmentCredentialsConflict(t *testing.T) {
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"ELASTICSEARCH_API_KEY": "a2V5", "ELASTICSEARCH_USERNAME": "elastic"}[k]
		return v, ok
	}
	code, _, stderr := runCmd(t, "", env)
	if code != usageExitCode || !strings.Contains(stderr, "choose one") || !strings.Contains(stderr, "one is missing") {
		t.Errorf("exit %d, stderr %q; want both credential problems", code, stderr)
	}
}

// TestInputFile runs the default period (the last complete week) over the
// fixed dataset and writes JSON to --out.
func TestInputFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := runCmd(t, "", noEnv, "--input", dataset, "--format", "json", "--out", out)
	if code != successExitCode {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing with --out", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Period struct{ Label string }
		Totals struct{ Calls, Failures int64 }
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Period.Label != "2026-W47" || r.Totals.Calls != 1000 || r.Totals.Failures != 125 {
		t.Errorf("report %s: %d calls, %d failures; want 2026-W47, 1000, 125", r.Period.Label, r.Totals.Calls, r.Totals.Failures)
	}
}

func TestStdinAndFormats(t *testing.T) {
	in, err := os.ReadFile(dataset)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ format, want string }{
		{"markdown", "# API error report 2026-W47"},
		{"html", "<title>API error report 2026-W47</title>"},
		{"csv", "totals,failures,,,125,145,"},
		{"json", `"failure_rate": 0.125`},
	} {
		code, stdout, stderr := runCmd(t, string(in), noEnv, "--input", "-", "--week", "2026-W47", "--format", tc.format)
		if code != successExitCode || !strings.Contains(stdout, tc.want) {
			t.Errorf("--format %s: exit %d (%s), output lacks %q", tc.format, code, stderr, tc.want)
		}
	}
}

// TestElasticsearchWiring runs the command against the real node with an
// index prefix that has no index: an empty report, not an error.
func TestElasticsearchWiring(t *testing.T) {
	url := testenv.Elasticsearch(t)
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"ELASTICSEARCH_URL": url, "ELASTICSEARCH_INDEX": testenv.Name(t)}[k]
		return v, ok
	}
	code, stdout, stderr := runCmd(t, "", env, "--week", "2026-W47", "--format", "markdown")
	if code != successExitCode || !strings.Contains(stdout, "No API calls were recorded") {
		t.Errorf("exit %d, stderr %q, stdout %q; want an empty report", code, stderr, stdout)
	}
}

func TestMissingInputFile(t *testing.T) {
	code, _, stderr := runCmd(t, "", noEnv, "--input", "no-such-file.ndjson")
	if code != failureExitCode || !strings.Contains(stderr, "no-such-file.ndjson") {
		t.Errorf("exit %d, stderr %q; want %d naming the file", code, stderr, failureExitCode)
	}
}

func TestUnreachableElasticsearch(t *testing.T) {
	url := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	code, _, stderr := runCmd(t, "", noEnv, "--es-url", url, "--week", "2026-W47", "--timeout", "10s")
	if code != failureExitCode || !strings.Contains(stderr, url) || !strings.Contains(stderr, "ELASTICSEARCH_URL") {
		t.Errorf("exit %d, stderr %q; want %d naming %s and ELASTICSEARCH_URL", code, stderr, failureExitCode, url)
	}
}

func TestRangeInTimeZone(t *testing.T) {
	code, stdout, stderr := runCmd(t, "", noEnv, "--input", dataset, "--from", "2026-11-17", "--to", "2026-11-19", "--tz", "Europe/Berlin", "--format", "json")
	if code != successExitCode {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		Period struct {
			Label       string
			TimeZone    string `json:"time_zone"`
			Granularity string
			From        time.Time
		} `json:"period"`
		Trend struct{ Buckets []any }
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	p := r.Period
	if p.Label != "2026-11-17 – 2026-11-18" || p.TimeZone != "Europe/Berlin" || p.Granularity != "hour" ||
		p.From.Format(time.RFC3339) != "2026-11-17T00:00:00+01:00" || len(r.Trend.Buckets) != 48 {
		t.Errorf("period %+v with %d buckets; want 2026-11-17 – 2026-11-18 from midnight in Europe/Berlin, 48 hourly buckets", p, len(r.Trend.Buckets))
	}
}
