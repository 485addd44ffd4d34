package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/tidwall/gjson"
)

// Elasticsearch computes reports from the daily indices <Prefix>-* that
// `ingest` writes, with aggregations only: the only documents it fetches
// are one sample (top_hits) per group of failures without an indexed error
// message, per period. See doc.go for what is exact and what is sampled.
type Elasticsearch struct {
	Client *elasticsearch.Client
	// Prefix is the index prefix (ELASTICSEARCH_INDEX); the report reads <Prefix>-*.
	Prefix string
	// MaxKeys bounds the distinct keys (messages, endpoints, ...) read by
	// one composite aggregation; the rest is reported as not covered.
	// Default: 200,000.
	MaxKeys int

	page int // keys per composite request when not 0 (tests use small pages)
}

// Keys per composite aggregation request: below the default
// search.max_buckets of 65,536 with the sub-buckets, and for the groups,
// whose buckets each carry two sampled documents (bodies of up to 8 KiB),
// few enough to keep a response near 30 MiB at worst.
const (
	compositePage = 10000
	groupsPage    = 1000
)

func (e *Elasticsearch) pageOr(def int) int {
	if e.page > 0 {
		return e.page
	}
	return def
}

func (e *Elasticsearch) maxKeys() int {
	if e.MaxKeys <= 0 {
		return 200_000
	}
	return e.MaxKeys
}

// Report computes the report for o from Elasticsearch.
func (e *Elasticsearch) Report(ctx context.Context, o Options) (*Report, error) {
	p, pp := o.Period, o.Period.Previous()
	buckets := p.Buckets()
	cur, prev := newTally(len(buckets)), newTally(0)
	base := []any{
		rangeQuery(pp.From.UnixMilli(), p.To.UnixMilli()),
		map[string]any{"terms": map[string]any{"event.outcome": []string{"success", "failure"}}},
	}
	if err := e.totals(ctx, o, base, cur, prev); err != nil {
		return nil, err
	}
	if err := e.breakdowns(ctx, base, p, cur); err != nil {
		return nil, err
	}
	if err := e.breakdowns(ctx, base, pp, prev); err != nil {
		return nil, err
	}
	if err := e.messages(ctx, o, base, cur, prev); err != nil {
		return nil, err
	}
	if err := e.groups(ctx, o, base, cur, prev); err != nil {
		return nil, err
	}
	return build("elasticsearch "+e.Prefix+"-*", o, cur, prev), nil
}

func rangeQuery(from, to int64) map[string]any {
	return map[string]any{"range": map[string]any{"@timestamp": map[string]any{"gte": from, "lt": to, "format": "epoch_millis"}}}
}

var failureQuery = map[string]any{"term": map[string]any{"event.outcome": "failure"}}

// periods is the filters aggregation splitting the query's documents into
// the current and the previous period.
func periods(o Options, aggs map[string]any) map[string]any {
	p, pp := o.Period, o.Period.Previous()
	a := map[string]any{
		"filters": map[string]any{"filters": map[string]any{
			"cur":  rangeQuery(p.From.UnixMilli(), p.To.UnixMilli()),
			"prev": rangeQuery(pp.From.UnixMilli(), pp.To.UnixMilli()),
		}},
	}
	if aggs != nil {
		a["aggs"] = aggs
	}
	return a
}

func terms(field string, size int, aggs map[string]any) map[string]any {
	a := map[string]any{"terms": map[string]any{"field": field, "size": size}}
	if aggs != nil {
		a["aggs"] = aggs
	}
	return a
}

// totals reads calls, failures, reasons, hints and the trend in one request.
func (e *Elasticsearch) totals(ctx context.Context, o Options, base []any, cur, prev *tally) error {
	var ranges []map[string]any
	starts := o.Period.Buckets()
	for i, s := range starts {
		end := o.Period.To
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		ranges = append(ranges, map[string]any{"from": s.UnixMilli(), "to": end.UnixMilli()})
	}
	body := map[string]any{
		"size": 0, "track_total_hits": false,
		"query": map[string]any{"bool": map[string]any{"filter": base}},
		"aggs": map[string]any{"periods": periods(o, map[string]any{
			"fail": map[string]any{"filter": failureQuery, "aggs": map[string]any{
				"cat": terms("classification.category", 100, map[string]any{
					"reason": terms("classification.reason", 1000, map[string]any{
						"retry": map[string]any{"filter": map[string]any{"term": map[string]any{"classification.retryable": true}}},
					}),
				}),
				"hints": terms("classification.remediation", 10000, map[string]any{
					"cat": terms("classification.category", 100, map[string]any{"reason": terms("classification.reason", 1000, nil)}),
				}),
				"trend": map[string]any{
					"date_range": map[string]any{"field": "@timestamp", "format": "epoch_millis", "ranges": ranges},
					"aggs":       map[string]any{"cat": terms("classification.category", 100, nil)},
				},
			}},
		})},
	}
	res, err := e.search(ctx, body)
	if err != nil {
		return err
	}
	truncated := false
	each := func(r gjson.Result, f func(b gjson.Result)) {
		if r.Get("sum_other_doc_count").Int() > 0 {
			truncated = true
		}
		r.Get("buckets").ForEach(func(_, b gjson.Result) bool { f(b); return true })
	}
	for name, t := range map[string]*tally{"cur": cur, "prev": prev} {
		pb := res.Get("aggregations.periods.buckets." + name)
		t.calls = pb.Get("doc_count").Int()
		fail := pb.Get("fail")
		t.failures = fail.Get("doc_count").Int()
		each(fail.Get("cat"), func(c gjson.Result) {
			each(c.Get("reason"), func(r gjson.Result) {
				rt := t.reason(catReason{c.Get("key").Str, r.Get("key").Str})
				rt.count += r.Get("doc_count").Int()
				rt.retryable += r.Get("retry.doc_count").Int()
			})
		})
		each(fail.Get("hints"), func(h gjson.Result) {
			each(h.Get("cat"), func(c gjson.Result) {
				each(c.Get("reason"), func(r gjson.Result) {
					t.hint(h.Get("key").Str, catReason{c.Get("key").Str, r.Get("key").Str}, r.Get("doc_count").Int())
				})
			})
		})
		if t != cur {
			continue
		}
		i := 0
		fail.Get("trend.buckets").ForEach(func(_, b gjson.Result) bool {
			each(b.Get("cat"), func(c gjson.Result) {
				t.trend[i][categoryIndex(c.Get("key").Str)] += c.Get("doc_count").Int()
			})
			i++
			return i < len(t.trend)
		})
	}
	if truncated {
		cur.notes = append(cur.notes, "Some categories, reasons or remediation hints were beyond the aggregation sizes and are missing from the tables.")
	}
	return nil
}

// breakdowns reads calls and failures per provider, service, API key and
// endpoint with one composite aggregation per period, keyed by all four
// and by outcome and category: a composite without sub-aggregations is
// the cheapest way through high-cardinality url.path values (prediction
// ids), and the keys are correlated, so the product stays small.
func (e *Elasticsearch) breakdowns(ctx context.Context, base []any, p Period, t *tally) error {
	src := func(name, field string) map[string]any {
		return map[string]any{name: map[string]any{"terms": map[string]any{"field": field, "missing_bucket": true}}}
	}
	sources := []any{
		src("p", "labels.provider"), src("s", "service.name"), src("k", "labels.api_key_id"),
		src("d", "url.domain"), src("u", "url.path"), src("o", "event.outcome"), src("c", "classification.category"),
	}
	filters := append(append([]any{}, base...), rangeQuery(p.From.UnixMilli(), p.To.UnixMilli()))
	endpoints := map[[2]string]string{}
	truncated, err := e.composite(ctx, filters, sources, nil, func(key, b gjson.Result) {
		n := b.Get("doc_count").Int()
		failed := key.Get("o").Str == "failure"
		c := key.Get("c")
		for _, dk := range [...]struct{ dim, key string }{
			{"provider", keyword(str(key.Get("p")))},
			{"service", keyword(str(key.Get("s")))},
			{"api_key_id", keyword(str(key.Get("k")))},
			{"endpoint", endpoint(endpoints, key.Get("d"), key.Get("u"))},
		} {
			dt := t.dim(dk.dim, dk.key)
			dt.calls += n
			if failed {
				dt.failures += n
				if c.Type == gjson.String {
					dt.categories[c.Str] += n
				}
			}
		}
	})
	if truncated {
		t.notes = append(t.notes, fmt.Sprintf("The breakdowns of %s read the first %d combinations of provider, service, API key and endpoint only.", p.Label, e.maxKeys()))
	}
	return err
}

var messageExists = map[string]any{"exists": map[string]any{"field": "error.message.keyword"}}

// messages reads the failures per distinct error.message, category and reason.
func (e *Elasticsearch) messages(ctx context.Context, o Options, base []any, cur, prev *tally) error {
	query := append(append([]any{}, base...), failureQuery, messageExists)
	sources := []any{
		map[string]any{"m": map[string]any{"terms": map[string]any{"field": "error.message.keyword"}}},
		map[string]any{"c": map[string]any{"terms": map[string]any{"field": "classification.category", "missing_bucket": true}}},
		map[string]any{"r": map[string]any{"terms": map[string]any{"field": "classification.reason", "missing_bucket": true}}},
	}
	truncated, err := e.composite(ctx, query, sources, map[string]any{"periods": periods(o, nil)}, func(key, b gjson.Result) {
		k := msgKey{key.Get("m").Str, key.Get("c").Str, key.Get("r").Str}
		for name, t := range map[string]*tally{"cur": cur, "prev": prev} {
			if n := b.Get("periods.buckets." + name + ".doc_count").Int(); n > 0 {
				t.messages[k] += n
			}
		}
	})
	if truncated {
		cur.notes = append(cur.notes, fmt.Sprintf("More than %d distinct error messages: the templates cover only the first ones (see templates.coverage).", e.maxKeys()))
	}
	return err
}

// groups reads the failures without an indexed error.message per
// provider, status and rule, with the most recent one of each as sample.
func (e *Elasticsearch) groups(ctx context.Context, o Options, base []any, cur, prev *tally) error {
	query := map[string]any{"bool": map[string]any{
		"filter":   append(append([]any{}, base...), failureQuery),
		"must_not": []any{messageExists},
	}}
	src := func(name, field string) map[string]any {
		return map[string]any{name: map[string]any{"terms": map[string]any{"field": field, "missing_bucket": true}}}
	}
	sources := []any{
		src("p", "labels.provider"), src("s", "http.response.status_code"),
		src("c", "classification.category"), src("r", "classification.reason"), src("id", "classification.rule_id"),
	}
	sample := map[string]any{"top_hits": map[string]any{
		"size": 1,
		"sort": []any{
			map[string]any{"@timestamp": map[string]any{"order": "desc"}},
			map[string]any{"kafka.partition": map[string]any{"order": "desc", "missing": "_last", "unmapped_type": "integer"}},
			map[string]any{"kafka.offset": map[string]any{"order": "desc", "missing": "_last", "unmapped_type": "long"}},
		},
		"_source": map[string]any{"includes": []string{"@timestamp", "error.message", "http.response.body.content"}},
	}}
	truncated, err := e.compositeQuery(ctx, query, sources, map[string]any{"periods": periods(o, map[string]any{"sample": sample})}, e.pageOr(groupsPage), func(key, b gjson.Result) {
		g := groupKey{
			provider: key.Get("p").Str, status: key.Get("s").Int(),
			category: key.Get("c").Str, reason: key.Get("r").Str, ruleID: key.Get("id").Str,
		}
		if key.Get("p").Type == gjson.String && keywordLen(g.provider) > keywordLimit {
			g.provider = ""
		}
		for name, t := range map[string]*tally{"cur": cur, "prev": prev} {
			pb := b.Get("periods.buckets." + name)
			n := pb.Get("doc_count").Int()
			if n == 0 {
				continue
			}
			hit := pb.Get("sample.hits.hits.0")
			msg := hit.Get("_source.error.message")
			order := sampleOrder{millis: hit.Get("sort.0").Int(), partition: sortValue(hit.Get("sort.1")), offset: sortValue(hit.Get("sort.2"))}
			t.group(g, n, order, func() string {
				return sampleMessage(msg.Str, msg.Type == gjson.String, hit.Get("_source.http.response.body.content").Str)
			})
		}
	})
	if truncated {
		cur.notes = append(cur.notes, fmt.Sprintf("More than %d groups of failures without an error message: the templates cover only the first ones.", e.maxKeys()))
	}
	return err
}

// sortValue is a top_hits sort value, -1 for a missing one (Elasticsearch
// returns the extreme of the type for missing values).
func sortValue(v gjson.Result) int64 {
	if v.Type != gjson.Number || v.Num <= -(1<<31) || v.Num >= 1<<62 {
		return -1
	}
	return v.Int()
}

// composite runs a composite aggregation over the documents matching all
// of filters, page by page, calling each for every bucket; truncated says
// that it stopped at MaxKeys.
func (e *Elasticsearch) composite(ctx context.Context, filters []any, sources []any, aggs map[string]any, each func(key, bucket gjson.Result)) (bool, error) {
	return e.compositeQuery(ctx, map[string]any{"bool": map[string]any{"filter": filters}}, sources, aggs, e.pageOr(compositePage), each)
}

// compositeQuery is composite with any query and page size.
func (e *Elasticsearch) compositeQuery(ctx context.Context, query any, sources []any, aggs map[string]any, page int, each func(key, bucket gjson.Result)) (bool, error) {
	var after json.RawMessage
	seen := 0
	for {
		comp := map[string]any{"size": page, "sources": sources}
		if after != nil {
			comp["after"] = after
		}
		keys := map[string]any{"composite": comp}
		if aggs != nil {
			keys["aggs"] = aggs
		}
		body := map[string]any{
			"size": 0, "track_total_hits": false, "query": query,
			"aggs": map[string]any{"keys": keys},
		}
		res, err := e.search(ctx, body)
		if err != nil {
			return false, err
		}
		buckets := res.Get("aggregations.keys.buckets").Array()
		for _, b := range buckets {
			each(b.Get("key"), b)
		}
		seen += len(buckets)
		ak := res.Get("aggregations.keys.after_key")
		if len(buckets) < page || !ak.Exists() {
			return false, nil
		}
		if seen >= e.maxKeys() {
			return true, nil
		}
		after = json.RawMessage(ak.Raw)
	}
}

// search runs one search over <Prefix>-*; an empty or missing index is
// not an error but an empty result.
func (e *Elasticsearch) search(ctx context.Context, body map[string]any) (gjson.Result, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return gjson.Result{}, err
	}
	yes := true
	res, err := esapi.SearchRequest{
		Index: []string{e.Prefix + "-*"}, Body: bytes.NewReader(b),
		AllowNoIndices: &yes, IgnoreUnavailable: &yes,
	}.Do(ctx, e.Client)
	if err != nil {
		return gjson.Result{}, fmt.Errorf("searching %s-*: %w", e.Prefix, err)
	}
	defer res.Body.Close()
	rb, err := io.ReadAll(res.Body)
	if err != nil {
		return gjson.Result{}, fmt.Errorf("searching %s-*: %w", e.Prefix, err)
	}
	if res.IsError() {
		return gjson.Result{}, fmt.Errorf("searching %s-*: HTTP %d: %s", e.Prefix, res.StatusCode, errorText(rb))
	}
	r := gjson.ParseBytes(rb)
	if f := r.Get("_shards.failed").Int(); f > 0 {
		return gjson.Result{}, fmt.Errorf("searching %s-*: %d shards failed: %s", e.Prefix, f, r.Get("_shards.failures.0.reason.reason").Str)
	}
	return r, nil
}

// errorText is the reason of an Elasticsearch error body, or its start.
func errorText(b []byte) string {
	r := gjson.GetBytes(b, "error.root_cause.0.reason")
	if r.Str == "" {
		r = gjson.GetBytes(b, "error.reason")
	}
	if r.Str != "" {
		return gjson.GetBytes(b, "error.type").Str + ": " + r.Str
	}
	return cut(strings.TrimSpace(string(b)), 300)
}
