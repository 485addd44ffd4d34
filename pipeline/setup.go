package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/tidwall/gjson"
	"go.uber.org/zap"
)

// TemplateVersion is the version of the index template this ingester writes
// for. Bump it whenever Template changes; `ingest run` refuses to start
// against an older template.
const TemplateVersion = 1

// Index layout.
//
// Documents go to daily indices <prefix>-YYYY.MM.DD, chosen by the
// document's @timestamp (UTC), behind the index pattern <prefix>-* and the
// alias <prefix>. Not a data stream: a data stream writes to whatever its
// current backing index is, so a record redelivered after a rollover (after
// a crash, a restart or a rebalance) would be created again in the new
// backing index, a duplicate. With the index fixed by the document itself,
// the (index, id) pair is deterministic and the create action idempotent.
// (Data streams also need x-pack, which the local test node lacks.)

// Template returns the composable index template for prefix. With a
// non-empty policy the indices are managed by that lifecycle policy.
//
// Every field of the output document is mapped explicitly and the root is
// "dynamic": false: unknown fields stay in _source but are not indexed, so
// one odd record cannot add a field with the wrong type and poison the
// mapping for every later index. A known field with a value of the wrong
// type is still rejected by Elasticsearch, and such a document goes to the
// dead-letter topic. raw (the record's extra fields) is an object with
// "enabled": false: kept in _source for people, never indexed, so it cannot
// conflict or explode the mapping; "flattened" would make it searchable but
// needs x-pack, which the local test node lacks.
func Template(prefix, policy string) map[string]any {
	keyword := map[string]any{"type": "keyword", "ignore_above": 1024}
	long := map[string]any{"type": "long"}
	date := map[string]any{"type": "date"}
	object := func(props map[string]any) map[string]any { return map[string]any{"properties": props} }

	settings := map[string]any{
		"index.number_of_shards":     1,
		"index.auto_expand_replicas": "0-1",
	}
	if policy != "" {
		settings["index.lifecycle.name"] = policy
	}
	return map[string]any{
		"index_patterns": []string{prefix + "-*"},
		"priority":       200,
		"version":        TemplateVersion,
		"_meta":          map[string]any{"managed_by": "sdtriage", "description": "sdtriage API call failure logs (ingest setup)"},
		"template": map[string]any{
			"settings": settings,
			"aliases":  map[string]any{prefix: map[string]any{}},
			"mappings": map[string]any{
				"dynamic": false,
				"properties": map[string]any{
					"@timestamp": date,
					"event": object(map[string]any{
						"outcome":  keyword,
						"duration": long,
						"ingested": date,
						"kind":     keyword,
						"dataset":  keyword,
					}),
					"service": object(map[string]any{"name": keyword}),
					"http": object(map[string]any{
						"request": object(map[string]any{"method": keyword, "id": keyword}),
						"response": object(map[string]any{
							"status_code": long,
							"body":        object(map[string]any{"content": map[string]any{"type": "text"}}),
						}),
					}),
					"url": object(map[string]any{
						"full":   map[string]any{"type": "keyword", "ignore_above": 2048},
						"domain": keyword,
						"path":   keyword,
					}),
					"error": object(map[string]any{
						"message": map[string]any{"type": "text", "fields": map[string]any{"keyword": keyword}},
						"type":    keyword,
					}),
					"labels": object(map[string]any{
						"provider":   keyword,
						"api_key_id": keyword,
						"attempt":    long,
					}),
					"classification": object(map[string]any{
						"category":    keyword,
						"reason":      keyword,
						"rule_id":     keyword,
						"remediation": keyword,
						"retryable":   map[string]any{"type": "boolean"},
						"ruleset":     keyword,
					}),
					"kafka": object(map[string]any{
						"topic":     keyword,
						"partition": map[string]any{"type": "integer"},
						"offset":    long,
					}),
					"raw": map[string]any{"type": "object", "enabled": false},
				},
			},
		},
	}
}

// policyName is the lifecycle policy of prefix's indices.
func policyName(prefix string) string { return prefix + "-retention" }

// Setup installs, idempotently, the lifecycle policy (where the cluster has
// index lifecycle management) deleting indices older than retention, and the
// index template for prefix.
func Setup(ctx context.Context, client *elasticsearch.Client, prefix string, retention time.Duration, log *zap.Logger) error {
	policy := ""
	hasILM, err := hasILM(ctx, client)
	if err != nil {
		return err
	}
	if hasILM {
		policy = policyName(prefix)
		body := map[string]any{"policy": map[string]any{
			"_meta": map[string]any{"managed_by": "sdtriage"},
			"phases": map[string]any{"delete": map[string]any{
				"min_age": fmt.Sprintf("%ds", int64(retention/time.Second)),
				"actions": map[string]any{"delete": map[string]any{}},
			}},
		}}
		if err := do(ctx, client, esapi.ILMPutLifecycleRequest{Policy: policy, Body: jsonReader(body)}); err != nil {
			return fmt.Errorf("installing lifecycle policy %s: %w", policy, err)
		}
		log.Info("lifecycle policy installed", zap.String("policy", policy), zap.Duration("retention", retention))
	} else {
		log.Info("cluster has no index lifecycle management (x-pack absent): retention policy skipped; delete old daily indices yourself",
			zap.String("pattern", prefix+"-*"))
	}
	if err := do(ctx, client, esapi.IndicesPutIndexTemplateRequest{Name: prefix, Body: jsonReader(Template(prefix, policy))}); err != nil {
		return fmt.Errorf("installing index template %s: %w", prefix, err)
	}
	log.Info("index template installed", zap.String("template", prefix),
		zap.String("pattern", prefix+"-*"), zap.Int("version", TemplateVersion))
	return nil
}

// ErrNotSetUp is wrapped by CheckSetup's verdict that the index template is
// missing or outdated, as opposed to a failure to ask.
var ErrNotSetUp = errors.New("run `ingest setup`")

// CheckSetup verifies that the index template for prefix is installed and
// not older than this ingester. A missing or outdated template wraps
// ErrNotSetUp; refused credentials are a FatalError; other errors (the
// node unreachable or starting) may pass.
func CheckSetup(ctx context.Context, client *elasticsearch.Client, prefix string) error {
	res, err := esapi.IndicesGetIndexTemplateRequest{Name: prefix}.Do(ctx, client)
	if err != nil {
		return fmt.Errorf("checking index template %s: %w", prefix, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("checking index template %s: %w", prefix, err)
	}
	switch {
	case res.StatusCode == http.StatusNotFound:
		return fmt.Errorf("index template %s is missing: %w first", prefix, ErrNotSetUp)
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		typ, reason := errorTypeReason(b)
		return fmt.Errorf("checking index template %s: %w", prefix, &FatalError{Status: res.StatusCode, Type: typ, Reason: reason})
	case res.IsError():
		return fmt.Errorf("checking index template %s: HTTP %d: %s", prefix, res.StatusCode, errorSummary(b))
	}
	t := gjson.GetBytes(b, "index_templates.0.index_template")
	if v := t.Get("version").Int(); v < TemplateVersion {
		return fmt.Errorf("index template %s is outdated (version %d, this ingester needs %d): %w", prefix, v, TemplateVersion, ErrNotSetUp)
	}
	if !strings.Contains(t.Get("index_patterns").Raw, `"`+prefix+`-*"`) {
		return fmt.Errorf("index template %s does not cover %s-*: %w", prefix, prefix, ErrNotSetUp)
	}
	return nil
}

// hasILM reports whether the cluster offers index lifecycle management.
func hasILM(ctx context.Context, client *elasticsearch.Client) (bool, error) {
	res, err := esapi.ILMGetStatusRequest{}.Do(ctx, client)
	if err != nil {
		return false, fmt.Errorf("asking for lifecycle management: %w", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	switch {
	case res.StatusCode == http.StatusOK:
		return true, nil
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		return false, fmt.Errorf("asking for lifecycle management: HTTP %d: %s", res.StatusCode, errorSummary(b))
	default: // 400 "no handler found for uri", 404, 405
		return false, nil
	}
}

// request is an esapi request.
type request interface {
	Do(context.Context, esapi.Transport) (*esapi.Response, error)
}

// do runs req and turns an error response into an error.
func do(ctx context.Context, client *elasticsearch.Client, req request) error {
	res, err := req.Do(ctx, client)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.IsError() {
		return fmt.Errorf("HTTP %d: %s", res.StatusCode, errorSummary(b))
	}
	return nil
}

// jsonReader encodes v; v is built here and always encodes.
func jsonReader(v any) io.Reader {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return bytes.NewReader(b)
}
