package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sdtriage/sdtriage/classify"
	"github.com/sdtriage/sdtriage/rules"
)

// classifyCmd implements `ingest classify`: NDJSON records from files or
// stdin in, one document per line out, in input order. A line that is not
// a JSON object is reported on stderr with its line number and skipped;
// blank lines are skipped silently. It exits 1 if any line or file was
// unusable.
func classifyCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ingest classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ingest classify [flags] [FILE ...]\n\n"+
			"Classify NDJSON log records from the files (stdin when none or -) and write one\n"+
			"Elasticsearch document per line to stdout, in input order.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	rf := addRuleFlags(fs)
	explain := fs.Bool("explain", false, "add to each document an \"explain\" object: the rules tried and why the winner matched")
	ingested := fs.String("ingested", "", "record this ingest time (RFC 3339) instead of the current time, for reproducible output")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	now := time.Now
	if *ingested != "" {
		t, err := time.Parse(time.RFC3339Nano, *ingested)
		if err != nil {
			fmt.Fprintf(stderr, "ingest classify: --ingested: %v\n", err)
			return usageExitCode
		}
		now = func() time.Time { return t }
	}
	c, code := rf.classifier(stderr)
	if c == nil {
		return code
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	cl := &classifier{c: c, out: out, stderr: stderr, explain: *explain, now: now}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	code = successExitCode
	for _, name := range files {
		var err error
		if name == "-" {
			err = cl.stream(stdin, "<stdin>", "stdin")
		} else {
			err = cl.file(name)
		}
		if err != nil {
			fmt.Fprintf(stderr, "ingest classify: %v\n", err)
			code = failureExitCode
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "ingest classify: writing output: %v\n", err)
		return failureExitCode
	}
	if cl.bad > 0 {
		fmt.Fprintf(stderr, "ingest classify: %d unusable line(s) skipped\n", cl.bad)
		code = failureExitCode
	}
	return code
}

// classifier turns streams of records into documents.
type classifier struct {
	c       *classify.Classifier
	out     *bufio.Writer
	stderr  io.Writer
	explain bool
	now     func() time.Time
	bad     int    // lines that were not JSON objects
	doc     []byte // reused document buffer
	long    []byte // reused buffer for lines longer than the reader's
}

// file classifies the records of the named file.
func (cl *classifier) file(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return cl.stream(f, name, "file:"+name)
}

// stream classifies the records of r, one per line; name is used in
// diagnostics and topic in the documents' kafka.topic, with the line
// number as the offset.
func (cl *classifier) stream(r io.Reader, name, topic string) error {
	br := bufio.NewReaderSize(r, 256<<10)
	for lineNo := int64(1); ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			cl.long = append(cl.long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				cl.long = append(cl.long, line...)
			}
			line = cl.long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		if rec := bytes.TrimSpace(line); len(rec) > 0 {
			cl.record(rec, name, classify.Source{Topic: topic, Offset: lineNo})
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}

// record classifies one line and writes its document.
func (cl *classifier) record(rec []byte, name string, src classify.Source) {
	doc, _, err := cl.c.AppendDocument(cl.doc[:0], rec, src, cl.now())
	if err != nil {
		fmt.Fprintf(cl.stderr, "%s:%d: %v; line skipped\n", name, src.Offset, err)
		cl.bad++
		return
	}
	if cl.explain {
		if ex, err := cl.c.Explain(rec); err == nil {
			b, _ := json.Marshal(ex)
			doc = append(doc[:len(doc)-1], `,"explain":`...)
			doc = append(doc, b...)
			doc = append(doc, '}')
		}
	}
	cl.doc = append(doc, '\n')
	cl.out.Write(cl.doc)
}

// ruleFlags are the flags that choose the rule set.
type ruleFlags struct {
	dir        *string
	noDefaults *bool
}

// addRuleFlags defines --rules and --no-defaults on fs.
func addRuleFlags(fs *flag.FlagSet) ruleFlags {
	return ruleFlags{
		dir:        fs.String("rules", "", "directory of rule files (*.yaml) that extend the default rule pack"),
		noDefaults: fs.Bool("no-defaults", false, "use only the rules of --rules, without the default rule pack"),
	}
}

// load returns the chosen rule set, or prints every problem and returns the
// exit code.
func (rf ruleFlags) load(stderr io.Writer) (*rules.RuleSet, int) {
	if *rf.noDefaults && *rf.dir == "" {
		fmt.Fprintln(stderr, "ingest: --no-defaults needs --rules DIR")
		return nil, usageExitCode
	}
	rs, errs := rules.Load(*rf.dir, *rf.noDefaults)
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(stderr, err)
		}
		fmt.Fprintf(stderr, "ingest: %d problem(s) in the rules; run ingest rules check\n", len(errs))
		return nil, failureExitCode
	}
	return rs, successExitCode
}

// classifier compiles the chosen rule set.
func (rf ruleFlags) classifier(stderr io.Writer) (*classify.Classifier, int) {
	rs, code := rf.load(stderr)
	if rs == nil {
		return nil, code
	}
	c, err := classify.New(rs)
	if err != nil {
		fmt.Fprintf(stderr, "ingest: %v\n", err)
		return nil, failureExitCode
	}
	return c, successExitCode
}

// parseFlags parses args into fs. When the command should not go on it
// returns false and the exit code: success for -h, usage otherwise.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return successExitCode, false
	case err != nil:
		return usageExitCode, false
	}
	return successExitCode, true
}
