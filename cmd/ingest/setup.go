package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/sdtriage/sdtriage/internal/esconn"
	"github.com/sdtriage/sdtriage/kibana"
	"github.com/sdtriage/sdtriage/pipeline"
)

// setupCmd implements `ingest setup`: installs, idempotently, the index
// template (and, where the cluster has lifecycle management, the retention
// policy) that `ingest run` checks at start and, with --kibana, imports the
// Kibana data view, saved searches and dashboard (package kibana). Only
// the Elasticsearch settings are used, for Kibana too (same credentials
// and CA file); the others are accepted so that one environment serves
// both commands.
func setupCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ingest setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ingest setup [flags]\n\n"+
			"Install the index template for <index>-* (and a retention policy where the\n"+
			"cluster has index lifecycle management) and, with --kibana, the Kibana data\n"+
			"view, saved searches and dashboard. Safe to run again.\n"+
			"Each flag falls back to the environment variable named in its description.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var c Config
	problems := bindConfig(fs, os.LookupEnv, &c)
	var kibanaURL string
	(&binder{fs: fs, env: os.LookupEnv}).str(&kibanaURL, "kibana", "KIBANA_URL", "",
		"Kibana URL, with its base path and /s/<space> if any: import the saved objects there")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments: %q", fs.Args()))
	}
	c.complete()
	if u, err := url.Parse(kibanaURL); kibanaURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		problems = append(problems, fmt.Errorf("KIBANA_URL (--kibana): %q is not an http:// or https:// URL", kibanaURL))
	}
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
	if kibanaURL == "" {
		return successExitCode
	}
	n, err := importKibana(&c, kibanaURL)
	if err != nil {
		log.Error("ingest setup failed", zap.Error(err))
		return failureExitCode
	}
	fmt.Fprintf(stdout, "kibana: %d saved objects imported; dashboard: %s/app/dashboards#/view/%s\n",
		n, strings.TrimRight(kibanaURL, "/"), kibana.DashboardID)
	return successExitCode
}

// importKibana imports the saved objects, with the data view over c.Index,
// waiting up to two minutes for a Kibana that is still starting.
func importKibana(c *Config, kibanaURL string) (int, error) {
	objects, err := kibana.Objects(c.Index)
	if err != nil {
		return 0, err
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.ESCAFile != "" {
		if tlsConfig.RootCAs, err = esconn.LoadCAs(c.ESCAFile); err != nil {
			return 0, err
		}
	}
	client := &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: tlsConfig},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := kibana.Import(ctx, client, kibanaURL,
		kibana.Credentials{APIKey: c.ESAPIKey, Username: c.ESUsername, Password: c.ESPassword}, objects)
	return res.SuccessCount, err
}
