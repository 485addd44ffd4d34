package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// FuzzConfig feeds arbitrary environments and command lines to the
// configuration of `ingest run` and `ingest setup`: binding, parsing,
// completing and validating never panic, a configuration that validates
// can be turned into clients, and no problem report ever quotes a secret
// (KAFKA_PASSWORD, ELASTICSEARCH_API_KEY, ELASTICSEARCH_PASSWORD), since
// those reports go to stderr and to CI logs.
//
// env holds NAME=VALUE lines. CA file settings are left out: reading an
// arbitrary path (a FIFO, /dev/zero) is not a parsing question.
func FuzzConfig(f *testing.F) {
	f.Add("KAFKA_BROKERS=k1:9092,k2:9092\nBATCH_SIZE=250\nFLUSH_INTERVAL=3s", "--topic other --batch-size 50")
	f.Add("KAFKA_SASL_MECHANISM=SCRAM-SHA-512\nKAFKA_USERNAME=u\nKAFKA_PASSWORD=hunter2-hunter2", "")
	f.Add("KAFKA_SASL_MECHANISM=plain\nKAFKA_PASSWORD=s3cr3t-pw", "--kafka-tls=maybe")
	f.Add("ELASTICSEARCH_API_KEY=VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==\nELASTICSEARCH_USERNAME=elastic",
		"--es-url https://es:9200 --index Bad/Name")
	f.Add("ELASTICSEARCH_PASSWORD=changeme-please\nBATCH_BYTES=12\nMAX_IN_FLIGHT=x\nRETENTION=1m", "extra args --workers=-1")
	f.Add("KAFKA_TOPIC=..\nKAFKA_DLQ_TOPIC=..\nMETRICS_ADDR=nope\nSHUTDOWN_TIMEOUT=1ms", "--brokers= --es-url=ftp://x")
	f.Fuzz(func(t *testing.T, envText, argText string) {
		env := map[string]string{}
		for _, line := range strings.Split(envText, "\n") {
			k, v, _ := strings.Cut(line, "=")
			if !strings.Contains(k, "CA_FILE") {
				env[k] = v
			}
		}
		var args []string
		for _, a := range strings.Fields(argText) {
			if !strings.Contains(a, "ca-file") {
				args = append(args, a)
			}
		}
		fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var c Config
		problems := bindConfig(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &c)
		if err := fs.Parse(args); err != nil {
			return // flag's own errors, printed by flag before exit 2
		}
		c.complete()
		err := c.Validate()
		var report strings.Builder
		for _, p := range problems {
			report.WriteString(p.Error() + "\n")
		}
		if err != nil {
			report.WriteString(err.Error())
		}
		for _, secret := range []string{c.KafkaPassword, c.ESAPIKey, c.ESPassword} {
			// Short values occur in any text by chance; real secrets are long.
			if len(secret) >= 6 && strings.Contains(report.String(), secret) {
				t.Fatalf("the configuration report quotes the secret %q:\n%s", secret, report.String())
			}
		}
		if len(problems) > 0 || err != nil {
			return
		}
		if _, err := c.kafkaSecurity(); err != nil {
			t.Fatalf("a valid configuration has no Kafka security settings: %v", err)
		}
		if _, err := c.elasticsearch(c.Workers); err != nil {
			t.Fatalf("a valid configuration has no Elasticsearch client: %v", err)
		}
	})
}
