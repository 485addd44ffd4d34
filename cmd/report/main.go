// Command report writes the weekly error report of sdtriage: what broke in
// a period, whose side must act, what changed since the period before and
// what to fix first. It reads Elasticsearch (aggregations only) or, with
// --input, the NDJSON documents `ingest classify` writes.
//
// Results go to stdout (or --out), diagnostics to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // --tz works in the scratch image too, which has no zoneinfo

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/sdtriage/sdtriage/internal/esconn"
	"github.com/sdtriage/sdtriage/report"
)

// Exit codes.
const (
	successExitCode = 0 // the report was written
	failureExitCode = 1 // the report could not be computed or written
	usageExitCode   = 2 // the command line was wrong
)

// config is the command line. Elasticsearch settings fall back to the
// environment variables `ingest` reads.
type config struct {
	// Week is an ISO week (2026-W47). Default: the last complete week in TZ.
	Week string
	// From and To bound the period instead of Week (To exclusive):
	// RFC 3339 or YYYY-MM-DD (midnight in TZ).
	From, To string
	// TZ is the time zone of weeks, dates and trend buckets. Default: UTC.
	TZ string
	// Format is markdown, html, json or csv. Default: markdown.
	Format string
	// Out is the output file; "-" is stdout. Default: "-".
	Out string
	// Input is a file of NDJSON documents ("-" is stdin) to read instead of
	// Elasticsearch.
	Input string
	// Top is the rows per breakdown and template list. Default: 10.
	Top int
	// Timeout bounds the Elasticsearch queries. Default: 2m.
	Timeout time.Duration

	// ESURLs, Index, ESAPIKey, ESUsername, ESPassword and ESCAFile are as
	// for `ingest`: ELASTICSEARCH_URL (default http://127.0.0.1:9200),
	// ELASTICSEARCH_INDEX (default sdtriage), ELASTICSEARCH_API_KEY,
	// ELASTICSEARCH_USERNAME, ELASTICSEARCH_PASSWORD, ELASTICSEARCH_CA_FILE.
	ESURLs                           []string
	Index                            string
	ESAPIKey, ESUsername, ESPassword string
	ESCAFile                         string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv, time.Now))
}

func envOr(env func(string) (string, bool), name, def string) string {
	if v, ok := env(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func parseFlags(args []string, stderr io.Writer, env func(string) (string, bool)) (*config, bool, int) {
	c := &config{}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: report [--week 2026-W47 | --from DATE --to DATE] [--tz ZONE] [--format FORMAT] [--out FILE] [--input FILE]

Write the error report of a period (by default the last complete ISO week)
compared with the period of the same length before it. The source is
Elasticsearch (aggregations over <index>-*), or --input: NDJSON documents as
"ingest classify" writes them.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Week, "week", "", "ISO week, such as 2026-W47 (default: the last complete week in --tz)")
	fs.StringVar(&c.From, "from", "", "start of the period: RFC 3339 or YYYY-MM-DD (midnight in --tz); with --to")
	fs.StringVar(&c.To, "to", "", "end of the period, exclusive: RFC 3339 or YYYY-MM-DD; with --from")
	fs.StringVar(&c.TZ, "tz", "UTC", "time zone of weeks, dates and trend buckets (IANA name, such as Europe/Berlin)")
	fs.StringVar(&c.Format, "format", "markdown", "output format: "+strings.Join(report.Formats, ", "))
	fs.StringVar(&c.Out, "out", "-", "output file, - for stdout")
	fs.StringVar(&c.Input, "input", "", "read NDJSON documents from this file (- for stdin) instead of Elasticsearch")
	fs.IntVar(&c.Top, "top", 10, "rows per breakdown and template list")
	fs.DurationVar(&c.Timeout, "timeout", 2*time.Minute, "deadline of the Elasticsearch queries")
	urls := envOr(env, "ELASTICSEARCH_URL", "http://127.0.0.1:9200")
	fs.StringVar(&urls, "es-url", urls, "Elasticsearch URLs, comma-separated (env ELASTICSEARCH_URL)")
	fs.StringVar(&c.Index, "index", envOr(env, "ELASTICSEARCH_INDEX", "sdtriage"), "index prefix: the report reads <index>-* (env ELASTICSEARCH_INDEX)")
	fs.StringVar(&c.ESAPIKey, "es-api-key", "", "Elasticsearch API key, base64 (env ELASTICSEARCH_API_KEY; prefer the environment)")
	fs.StringVar(&c.ESUsername, "es-username", envOr(env, "ELASTICSEARCH_USERNAME", ""), "Elasticsearch user (env ELASTICSEARCH_USERNAME)")
	fs.StringVar(&c.ESPassword, "es-password", "", "Elasticsearch password (env ELASTICSEARCH_PASSWORD; prefer the environment)")
	fs.StringVar(&c.ESCAFile, "es-ca-file", envOr(env, "ELASTICSEARCH_CA_FILE", ""), "PEM file of CAs for Elasticsearch's certificate (env ELASTICSEARCH_CA_FILE)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, false, successExitCode
		}
		return nil, false, usageExitCode
	}
	if c.ESAPIKey == "" {
		c.ESAPIKey = envOr(env, "ELASTICSEARCH_API_KEY", "")
	}
	if c.ESPassword == "" {
		c.ESPassword = envOr(env, "ELASTICSEARCH_PASSWORD", "")
	}
	for _, u := range strings.Split(urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.ESURLs = append(c.ESURLs, u)
		}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "report: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return nil, false, usageExitCode
	}
	return c, true, 0
}

// period resolves the period of a validated command line.
func (c *config) period(now time.Time) (report.Period, *time.Location, error) {
	loc, err := time.LoadLocation(c.TZ)
	if err != nil {
		return report.Period{}, nil, fmt.Errorf("--tz %q: not a time zone (use an IANA name such as UTC or Europe/Berlin)", c.TZ)
	}
	switch {
	case c.Week != "" && (c.From != "" || c.To != ""):
		return report.Period{}, nil, errors.New("--week and --from/--to exclude each other: choose one")
	case (c.From == "") != (c.To == ""):
		return report.Period{}, nil, errors.New("--from and --to go together: one is missing")
	case c.Week != "":
		p, err := report.Week(c.Week, loc)
		return p, loc, err
	case c.From != "":
		p, err := report.Range(c.From, c.To, loc)
		return p, loc, err
	}
	return report.LastCompleteWeek(now, loc), loc, nil
}

// Validate returns every problem of the command line but the period's.
func (c *config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !slices.Contains(report.Formats, c.Format) {
		add("--format %q: want one of %s", c.Format, strings.Join(report.Formats, ", "))
	}
	if c.Top < 1 {
		add("--top %d: want at least 1", c.Top)
	}
	if c.Input != "" {
		return errors.Join(errs...)
	}
	errs = append(errs, c.esSettings().Problems()...)
	if c.Timeout <= 0 {
		add("--timeout %s: want more than 0", c.Timeout)
	}
	return errors.Join(errs...)
}

// esSettings returns the Elasticsearch connection settings of c.
func (c *config) esSettings() esconn.Settings {
	return esconn.Settings{URLs: c.ESURLs, Index: c.Index, APIKey: c.ESAPIKey,
		Username: c.ESUsername, Password: c.ESPassword, CAFile: c.ESCAFile}
}

func (c *config) client() (*elasticsearch.Client, error) {
	cfg, err := c.esSettings().Config(2)
	if err != nil {
		return nil, err
	}
	return elasticsearch.NewClient(cfg)
}

// run parses the command line, computes the report and writes it; it
// returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) (string, bool), now func() time.Time) int {
	c, ok, code := parseFlags(args, stderr, env)
	if !ok {
		return code
	}
	p, _, perr := c.period(now())
	if err := errors.Join(perr, c.Validate()); err != nil {
		fmt.Fprintf(stderr, "report: %v\n", strings.ReplaceAll(err.Error(), "\n", "\nreport: "))
		return usageExitCode
	}
	o := report.Options{Period: p, Top: c.Top, Now: now()}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	var (
		r   *report.Report
		err error
	)
	switch c.Input {
	case "":
		var client *elasticsearch.Client
		if client, err = c.client(); err == nil {
			qctx, cancel := context.WithTimeout(ctx, c.Timeout)
			r, err = (&report.Elasticsearch{Client: client, Prefix: c.Index}).Report(qctx, o)
			cancel()
			if err != nil {
				err = fmt.Errorf("%w (Elasticsearch %s: check ELASTICSEARCH_URL/--es-url and the credentials, or read a file with --input)", err, strings.Join(c.ESURLs, ","))
			}
		}
	case "-":
		r, err = report.FromNDJSON(stdin, "stdin", o)
	default:
		var f *os.File
		if f, err = os.Open(c.Input); err == nil {
			r, err = report.FromNDJSON(f, c.Input, o)
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "report: %v\n", err)
		return failureExitCode
	}
	if err := write(c.Out, stdout, r, c.Format); err != nil {
		fmt.Fprintf(stderr, "report: %v\n", err)
		return failureExitCode
	}
	fmt.Fprintf(stderr, "report: %s (%s to %s), %d calls, %d failures, computed in %s\n",
		p.Label, p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), r.Totals.Calls, r.Totals.Failures, time.Since(start).Round(time.Millisecond))
	return successExitCode
}

// write renders r to out ("-" is stdout), replacing a file only when the
// rendering succeeded.
func write(out string, stdout io.Writer, r *report.Report, format string) error {
	if out == "-" {
		return report.Render(stdout, r, format)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".report-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := report.Render(tmp, r, format); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
