// Command ingest classifies Stable Diffusion API call logs. Its subcommands
// run the Kafka to Elasticsearch pipeline, classify log files offline, and
// check and test classification rules.
//
// Each subcommand is a function that returns one of the exit codes below.
// Results go to stdout, diagnostics to stderr.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes of every subcommand.
const (
	successExitCode = 0 // all went well
	failureExitCode = 1 // the command ran but found problems (bad lines, invalid rules, failing tests)
	usageExitCode   = 2 // the command line was wrong
)

const usageText = `Usage: ingest <command> [flags] [args]

Commands:
  run [flags]
        the daemon (also the bare command): consume Kafka, classify, index into
        Elasticsearch; every flag has an environment fallback, see ingest run -h
  setup [flags]
        install the index template (and retention policy) that run checks for
  generate [flags]
        generate realistic NDJSON log records to a file, stdout or Kafka
  health [--ready] [--metrics-addr ADDR]
        ask a running ingester whether it is alive (or ready): exit 0 or 1;
        for container healthchecks
  classify [--rules DIR] [--no-defaults] [--explain] [FILE ...]
        classify NDJSON log records (stdin when no FILE or -) and write one
        Elasticsearch document per line to stdout
  rules check [--no-defaults] [DIR|FILE ...]
        validate rule files (the default pack when none is given)
  rules test [--rules DIR] [--no-defaults] [FILE ...]
        run rule tests (the default pack's tests when no FILE is given)

Run "ingest <command> -h" for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a command line to its subcommand and returns the exit
// code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runCmd(nil, stdout, stderr, true) // the bare command is the daemon
	}
	switch args[0] {
	case "run":
		return runCmd(args[1:], stdout, stderr, false)
	case "setup":
		return setupCmd(args[1:], stdout, stderr)
	case "classify":
		return classifyCmd(args[1:], stdin, stdout, stderr)
	case "rules":
		return rulesCmd(args[1:], stdout, stderr)
	case "generate":
		return generateCmd(args[1:], stdout, stderr)
	case "health":
		return healthCmd(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return successExitCode
	}
	if strings.HasPrefix(args[0], "-") {
		return runCmd(args, stdout, stderr, true) // the bare command with flags
	}
	fmt.Fprintf(stderr, "ingest: unknown command %q\n\n%s", args[0], usageText)
	return usageExitCode
}
