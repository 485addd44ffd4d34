package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/tidwall/gjson"
)

// doc is the fields of an output document a report reads.
type doc struct {
	timestamp, outcome                               gjson.Result
	category, reason, retryable, remediation, ruleID gjson.Result
	provider, service, domain, path, apiKey          gjson.Result
	message, status, body, partition, offset         gjson.Result
}

// set stores v in *dst unless an earlier duplicate key filled it: the
// first of duplicate keys wins, as for a gjson path.
func set(dst *gjson.Result, v gjson.Result) {
	if !dst.Exists() {
		*dst = v
	}
}

// readDoc fills d from the JSON object b in one pass over it (a gjson path
// look-up per field would scan the document once per field), descending
// only into the objects that hold a wanted field.
func readDoc(d *doc, b []byte) {
	*d = doc{}
	gjson.ParseBytes(b).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "@timestamp":
			set(&d.timestamp, v)
		case "event":
			v.ForEach(func(k, v gjson.Result) bool {
				if k.Str == "outcome" {
					set(&d.outcome, v)
				}
				return true
			})
		case "classification":
			v.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "category":
					set(&d.category, v)
				case "reason":
					set(&d.reason, v)
				case "retryable":
					set(&d.retryable, v)
				case "remediation":
					set(&d.remediation, v)
				case "rule_id":
					set(&d.ruleID, v)
				}
				return true
			})
		case "labels":
			v.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "provider":
					set(&d.provider, v)
				case "api_key_id":
					set(&d.apiKey, v)
				}
				return true
			})
		case "service":
			set(&d.service, v.Get("name"))
		case "url":
			v.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "domain":
					set(&d.domain, v)
				case "path":
					set(&d.path, v)
				}
				return true
			})
		case "error":
			set(&d.message, v.Get("message"))
		case "http":
			r := v.Get("response")
			set(&d.status, r.Get("status_code"))
			set(&d.body, r.Get("body.content"))
		case "kafka":
			set(&d.partition, v.Get("partition"))
			set(&d.offset, v.Get("offset"))
		}
		return true
	})
}

// maxLine bounds one NDJSON line (documents carry at most 8 KiB of body).
const maxLine = 16 << 20

// FromNDJSON computes the report from output documents, one JSON object a
// line, as `ingest classify` writes them; name says where they came from.
// Documents outside the period and its previous period are skipped; lines
// that are not JSON objects are counted in a note.
func FromNDJSON(r io.Reader, name string, o Options) (*Report, error) {
	p, pp := o.Period, o.Period.Previous()
	buckets := p.Buckets()
	starts := make([]int64, len(buckets))
	for i, b := range buckets {
		starts[i] = b.UnixMilli()
	}
	cur, prev := newTally(len(buckets)), newTally(0)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var bad, line int
	var v doc
	endpoints := map[[2]string]string{} // url.domain, url.path -> endpoint
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if b[0] != '{' || !gjson.ValidBytes(b) {
			bad++
			continue
		}
		readDoc(&v, b)
		ts, err := time.Parse(time.RFC3339Nano, v.timestamp.Str)
		if err != nil {
			continue
		}
		ms := ts.UnixMilli()
		var t *tally
		switch {
		case p.contains(ms):
			t = cur
		case pp.contains(ms):
			t = prev
		default:
			continue
		}
		outcome := v.outcome.Str
		if outcome != "success" && outcome != "failure" {
			continue
		}
		t.calls++
		failed := outcome == "failure"
		cat, hasCat := str(v.category)
		reason, hasReason := str(v.reason)
		if failed {
			t.failures++
		}
		keys := [...]string{
			keyword(str(v.provider)),
			keyword(str(v.service)),
			endpoint(endpoints, v.domain, v.path),
			keyword(str(v.apiKey)),
		}
		for i, d := range Dimensions {
			dt := t.dim(d, keys[i])
			dt.calls++
			if failed {
				dt.failures++
				if hasCat && keywordLen(cat) <= keywordLimit {
					dt.categories[cat]++
				}
			}
		}
		if !failed {
			continue
		}
		cr := catReason{keywordOrEmpty(cat, hasCat), keywordOrEmpty(reason, hasReason)}
		if hasCat && hasReason && cr.category != "" && cr.reason != "" {
			rt := t.reason(cr)
			rt.count++
			if v.retryable.Type == gjson.True {
				rt.retryable++
			}
			if rem, ok := str(v.remediation); ok && keywordLen(rem) <= keywordLimit {
				t.hint(rem, cr, 1)
			}
		}
		if t == cur && hasCat {
			i := sort.Search(len(starts), func(i int) bool { return starts[i] > ms }) - 1
			cur.trend[i][categoryIndex(cat)]++
		}
		msg, hasMsg := str(v.message)
		if hasMsg && keywordLen(msg) <= keywordLimit {
			t.messages[msgKey{msg, cr.category, cr.reason}]++
			continue
		}
		rule, hasRule := str(v.ruleID)
		g := groupKey{
			provider: keywordOrEmpty(str(v.provider)), status: v.status.Int(),
			category: cr.category, reason: cr.reason, ruleID: keywordOrEmpty(rule, hasRule),
		}
		order := sampleOrder{millis: ms, partition: intOr(v.partition, -1), offset: intOr(v.offset, -1)}
		t.group(g, 1, order, func() string { return sampleMessage(msg, hasMsg, v.body.Str) })
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	if bad > 0 {
		cur.notes = append(cur.notes, fmt.Sprintf("%s: %d of %d lines are not JSON objects and were skipped.", name, bad, line))
	}
	return build("file "+name, o, cur, prev), nil
}

// endpoint is endpointKey, remembered per domain and path.
func endpoint(cache map[[2]string]string, domain, path gjson.Result) string {
	k := [2]string{domain.Raw, path.Raw}
	e, ok := cache[k]
	if !ok {
		e = endpointKey(domain.Str, path.Str, domain.Type == gjson.String, path.Type == gjson.String)
		cache[k] = e
	}
	return e
}

func str(v gjson.Result) (string, bool) { return v.Str, v.Type == gjson.String }

// keywordOrEmpty is a keyword field as a composite aggregation key: "" when
// missing or not indexed.
func keywordOrEmpty(s string, ok bool) string {
	if !ok || keywordLen(s) > keywordLimit {
		return ""
	}
	return s
}

func intOr(v gjson.Result, def int64) int64 {
	if v.Type != gjson.Number {
		return def
	}
	return v.Int()
}
