package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sdtriage/sdtriage/classify"
	"github.com/sdtriage/sdtriage/rules"
)

const rulesUsage = `Usage:
  ingest rules check [--no-defaults] [DIR|FILE ...]
  ingest rules test [--rules DIR] [--no-defaults] [FILE ...]
`

// rulesCmd dispatches `ingest rules <check|test>`.
func rulesCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, rulesUsage)
		return usageExitCode
	}
	switch args[0] {
	case "check":
		return rulesCheckCmd(args[1:], stdout, stderr)
	case "test":
		return rulesTestCmd(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, rulesUsage)
		return successExitCode
	}
	fmt.Fprintf(stderr, "ingest rules: unknown command %q\n\n%s", args[0], rulesUsage)
	return usageExitCode
}

// rulesCheckCmd validates rule files and prints every problem, each with
// file:line:column. A directory is checked together with the default pack
// (unless --no-defaults), because rule ids must be unique across both; a
// file is checked on its own.
func rulesCheckCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ingest rules check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ingest rules check [flags] [DIR|FILE ...]\n\n"+
			"Validate rule files; with no argument, the embedded default pack.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	noDefaults := fs.Bool("no-defaults", false, "check a directory without the default rule pack")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	paths := fs.Args()
	if len(paths) == 0 {
		if *noDefaults {
			fmt.Fprintln(stderr, "ingest rules check: --no-defaults needs a DIR")
			return usageExitCode
		}
		paths = []string{""}
	}
	code := successExitCode
	for _, p := range paths {
		var rs *rules.RuleSet
		var errs []error
		name := p
		switch st, err := os.Stat(p); {
		case p == "":
			name = "default rule pack"
			rs, errs = rules.Load("", false)
		case err != nil:
			errs = []error{err}
		case st.IsDir():
			rs, errs = rules.Load(p, *noDefaults)
		default:
			rs, errs = rules.ParseFile(p)
		}
		if len(errs) > 0 {
			for _, err := range errs {
				fmt.Fprintln(stderr, err)
			}
			fmt.Fprintf(stdout, "%s: FAILED: %d problem(s)\n", name, len(errs))
			code = failureExitCode
			continue
		}
		fmt.Fprintf(stdout, "%s: %d rules OK (%s)\n", name, len(rs.Rules), rs.Version)
	}
	return code
}

// rulesTestCmd runs rule test files against the chosen rule set, prints a
// diff for every failing test and a summary, and exits 1 on any failure.
func rulesTestCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ingest rules test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ingest rules test [flags] [FILE ...]\n\n"+
			"Run rule tests: each record must get its expected outcome, category and reason\n"+
			"(and rule_id when given). With no FILE, the default pack's own tests (built in).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	rf := addRuleFlags(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	c, code := rf.classifier(stderr)
	if c == nil {
		return code
	}
	var files []*rules.TestFile
	var errs []error
	if fs.NArg() == 0 {
		files, errs = rules.DefaultTests()
	}
	for _, name := range fs.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("ingest rules test: %w", err))
			continue
		}
		tf, e := rules.ParseTests(name, b)
		errs = append(errs, e...)
		if tf != nil {
			files = append(files, tf)
		}
	}
	for _, err := range errs {
		fmt.Fprintln(stderr, err)
	}
	passed, failed, broken := 0, 0, len(errs) > 0
	for _, tf := range files {
		for _, tc := range tf.Tests {
			if diff := runTest(c, tc); diff != "" {
				fmt.Fprint(stdout, diff)
				failed++
			} else {
				passed++
			}
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 || broken {
		return failureExitCode
	}
	return successExitCode
}

// runTest classifies the test's record and returns "" when it gets what the
// test wants, else a readable diff.
func runTest(c *classify.Classifier, tc rules.TestCase) string {
	ex, err := c.Explain(tc.Record)
	head := fmt.Sprintf("FAILED %s: test %q\n", tc.Pos, tc.Name)
	if err != nil {
		return head + fmt.Sprintf("    record: %v\n", err)
	}
	want := describe(tc.Want.Outcome, string(tc.Want.Category), tc.Want.Reason, tc.Want.RuleID)
	res := ex.Result
	outcome := "success"
	if res.Failure {
		outcome = "failure"
	}
	gotRule := ""
	if tc.Want.RuleID != "" {
		gotRule = res.RuleID
	}
	got := describe(outcome, string(res.Category), res.Reason, gotRule)
	if got == want {
		return ""
	}
	var b strings.Builder
	b.WriteString(head)
	fmt.Fprintf(&b, "    want: %s\n     got: %s", want, got)
	if tc.Want.RuleID == "" && res.RuleID != "" {
		fmt.Fprintf(&b, " (rule %s)", res.RuleID)
	}
	b.WriteString("\n")
	if len(ex.Matched) > 0 {
		fmt.Fprintf(&b, "     why: %s\n", strings.Join(ex.Matched, "; "))
	} else {
		fmt.Fprintf(&b, "     why: %s\n", ex.Verdict)
	}
	return b.String()
}

// describe renders an outcome as "failure auth/expired_credentials rule
// auth.x" or "success".
func describe(outcome, category, reason, ruleID string) string {
	if outcome == "" {
		outcome = "failure"
	}
	if outcome != "failure" {
		return outcome
	}
	s := outcome + " " + category + "/" + reason
	if ruleID != "" {
		s += " rule " + ruleID
	}
	return s
}
