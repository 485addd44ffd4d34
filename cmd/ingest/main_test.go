package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// mainMarker makes the test binary behave as the ingest command (promtool's
// pattern): tests exec themselves with it to test the real CLI, exit codes
// included.
const mainMarker = "-test.main"

func TestMain(m *testing.M) {
	for i, arg := range os.Args {
		if arg == mainMarker {
			os.Args = append(os.Args[:i:i], os.Args[i+1:]...)
			main()
		}
	}
	os.Exit(m.Run())
}

// ingest runs the CLI with args and stdin and returns stdout, stderr and
// the exit code.
func ingest(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{mainMarker}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"-h"}, successExitCode, "rules test", ""},
		{[]string{"help"}, successExitCode, "generate [flags]", ""},
		{[]string{"frobnicate"}, usageExitCode, "", `unknown command "frobnicate"`},
		{[]string{"rules"}, usageExitCode, "", "ingest rules check"},
		{[]string{"rules", "lint"}, usageExitCode, "", `unknown command "lint"`},
		{[]string{"classify", "--bogus"}, usageExitCode, "", "flag provided but not defined: -bogus"},
		{[]string{"classify", "-h"}, successExitCode, "", "-explain"},
		{[]string{"classify", "--no-defaults"}, usageExitCode, "", "--no-defaults needs --rules DIR"},
		{[]string{"classify", "--ingested", "yesterday"}, usageExitCode, "", "--ingested"},
		{[]string{"rules", "check", "--no-defaults"}, usageExitCode, "", "needs a DIR"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code := ingest(t, "", tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestClassifyGolden classifies testdata/input.ndjson (good lines, a blank
// line, lines that are not JSON objects) with testdata/rules only, so that
// changes to the default pack do not touch the golden file, and compares
// stdout with testdata/output.golden.
func TestClassifyGolden(t *testing.T) {
	stdout, stderr, code := ingest(t, "", "classify", "--no-defaults", "--rules", "testdata/rules",
		"--ingested", "2026-03-02T12:00:00Z", "testdata/input.ndjson")
	if code != failureExitCode {
		t.Errorf("exit %d, want %d", code, failureExitCode)
	}
	wantErr := "testdata/input.ndjson:4: record is not a JSON object; line skipped\n" +
		"testdata/input.ndjson:6: record is not a JSON object; line skipped\n" +
		"ingest classify: 2 unusable line(s) skipped\n"
	if stderr != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, wantErr)
	}
	golden(t, "testdata/output.golden", stdout)
	var offsets []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var d struct {
			Kafka struct {
				Topic  string
				Offset json.Number
			}
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("invalid document %s: %v", line, err)
		}
		offsets = append(offsets, d.Kafka.Topic+"@"+d.Kafka.Offset.String())
	}
	want := "file:testdata/input.ndjson@1 file:testdata/input.ndjson@2 file:testdata/input.ndjson@5 file:testdata/input.ndjson@7"
	if got := strings.Join(offsets, " "); got != want {
		t.Errorf("documents from %s, want %s", got, want)
	}
}

func TestClassifyStdin(t *testing.T) {
	long := `{"status":500,"response_body":"` + strings.Repeat("x", 1<<20) + `"}`
	in := `{"status":503,"response_body":"upstream connect error or disconnect/reset before headers. reset reason: overflow"}` + "\n" +
		long + "\n" + `{"status":200}` // no final newline
	stdout, stderr, code := ingest(t, in, "classify", "-")
	if code != successExitCode || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d documents, want 3", len(lines))
	}
	for i, wantOutcome := range []string{"failure", "failure", "success"} {
		var d struct {
			Event struct{ Outcome string }
			Kafka struct {
				Topic  string
				Offset int
			}
		}
		if err := json.Unmarshal([]byte(lines[i]), &d); err != nil {
			t.Fatal(err)
		}
		if d.Event.Outcome != wantOutcome || d.Kafka.Topic != "stdin" || d.Kafka.Offset != i+1 {
			t.Errorf("document %d: %+v", i+1, d)
		}
	}
}

func TestClassifyMissingFile(t *testing.T) {
	stdout, stderr, code := ingest(t, "", "classify", "testdata/nonexistent.ndjson", "testdata/input.ndjson")
	if code != failureExitCode || !strings.Contains(stderr, "nonexistent.ndjson: no such file") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if strings.Count(stdout, "\n") != 4 {
		t.Errorf("the other file was not classified:\n%s", stdout)
	}
}

func TestClassifyExplain(t *testing.T) {
	stdout, _, code := ingest(t, `{"status":429,"response_body":"acme-gateway quota exhausted"}`,
		"classify", "--explain", "--rules", "testdata/rules")
	if code != successExitCode {
		t.Fatalf("exit %d", code)
	}
	var d struct {
		Classification struct {
			RuleID string `json:"rule_id"`
		}
		Explain struct {
			Verdict string
			Tried   []struct {
				RuleID  string `json:"rule_id"`
				Matched bool
			}
			Matched []string
		}
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	tried := d.Explain.Tried
	if d.Classification.RuleID != "acme.gateway.quota" || len(tried) == 0 ||
		tried[len(tried)-1].RuleID != "acme.gateway.quota" || !tried[len(tried)-1].Matched ||
		strings.Join(d.Explain.Matched, "; ") != `status 429 in [429]; body contains "acme-gateway quota exhausted"` {
		t.Errorf("explanation %+v", d)
	}
}

func TestRulesCheck(t *testing.T) {
	stdout, stderr, code := ingest(t, "", "rules", "check")
	if code != successExitCode || !strings.Contains(stdout, "default rule pack: ") || stderr != "" {
		t.Errorf("default pack: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = ingest(t, "", "rules", "check", "testdata/rules", "testdata/rules/extra.yaml")
	if code != successExitCode || strings.Count(stdout, "rules OK") != 2 || !strings.Contains(stdout, "extra.yaml: 1 rules OK") {
		t.Errorf("good rules: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = ingest(t, "", "rules", "check", "testdata/badrules")
	if code != failureExitCode || !strings.Contains(stdout, "testdata/badrules: FAILED") {
		t.Errorf("bad rules: exit %d, stdout %q", code, stdout)
	}
	// Every problem is reported, each with file:line:column.
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) < 4 {
		t.Errorf("want at least 4 problems, got:\n%s", stderr)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, filepath.Join("testdata", "badrules", "broken.yaml")+":") {
			t.Errorf("problem without position: %q", l)
		}
	}
}

func TestRulesTest(t *testing.T) {
	stdout, stderr, code := ingest(t, "", "rules", "test", "--rules", "testdata/rules", "testdata/tests/good.yaml")
	if code != successExitCode || stdout != "2 passed, 0 failed\n" {
		t.Errorf("good tests: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, _, code = ingest(t, "", "rules", "test", "--no-defaults", "--rules", "testdata/rules",
		"testdata/tests/wrong.yaml", "testdata/tests/good.yaml")
	if code != failureExitCode {
		t.Errorf("wrong tests: exit %d", code)
	}
	golden(t, "testdata/rules_test.golden", stdout)
	_, stderr, code = ingest(t, "", "rules", "test", "testdata/rules/extra.yaml")
	if code != failureExitCode || !strings.Contains(stderr, "extra.yaml:") {
		t.Errorf("rule file as test file: exit %d, stderr %q", code, stderr)
	}
}

// TestDefaultPackTests runs the default pack's own rule tests through the
// CLI, as a user would.
func TestDefaultPackTests(t *testing.T) {
	files, _ := filepath.Glob("../../rules/default/tests/*.yaml")
	if len(files) == 0 {
		t.Skip("the default pack has no rule tests yet")
	}
	stdout, stderr, code := ingest(t, "", append([]string{"rules", "test"}, files...)...)
	if code != successExitCode {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n got:\n%s\nwant:\n%s", file, got, want)
	}
}
