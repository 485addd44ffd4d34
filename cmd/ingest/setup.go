package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/sdtriage/sdtriage/pipeline"
)

// setupCmd implements `ingest setup`: installs, idempotently, the index
// template (and, where the cluster has lifecycle management, the retention
// policy) that `ingest run` checks at start. Only the Elasticsearch
// settings are used; the others are accepted so that one environment
// serves both commands.
func setupCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ingest setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ingest setup [flags]\n\n"+
			"Install the index template for <index>-* (and a retention policy where the\n"+
			"cluster has index lifecycle management). Safe to run again.\n"+
			"Each flag falls back to the environment variable named in its description.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var c Config
	problems := bindConfig(fs, os.LookupEnv, &c)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments: %q", fs.Args()))
	}
	c.complete()
	if err := errors.Join(append(problems, c.validateElasticsearch()...)...); err != nil {
		fmt.Fprintf(stderr, "ingest setup: invalid configuration:\n%s\n", indent(err))
		return usageExitCode
	}
	log := newLogger(stderr)
	defer log.Sync() //nolint:errcheck // stderr
	es, err := c.elasticsearch(1)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = pipeline.Setup(ctx, es, c.Index, c.Retention, log)
	}
	if err != nil {
		log.Error("ingest setup failed", zap.Error(err))
		return failureExitCode
	}
	fmt.Fprintf(stdout, "index template %s installed for %s-*\n", c.Index, c.Index)
	return successExitCode
}
