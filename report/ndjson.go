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

// fields maps "parent.child" paths to the doc field they fill.
func (d *doc) fields() map[string]*gjson.Result {
	return map[string]*gjson.Result{
		"event.outcome": &d.outcome, "classification.category": &d.category, "classification.reason": &d.reason,
		"classification.retryable": &d.retryable, "classification.remediation": &d.remediation,
		"classification.rule_id": &d.ruleID, "labels.provider": &d.provider, "labels.api_key_id": &d.apiKey,
		"service.name": &d.service, "url.domain": &d.domain, "url.path": &d.path, "error.message": &d.message,
		"http.response.status_code": &d.status, "http.response.body.content": &d.body,
		"kafka.partition": &d.partition, "kafka.offset": &d.offset,
	}
}

// docReader reads documents in one pass over each (a gjson path look-up
// per field would scan the document once per field).
type docReader struct {
	d    doc
	dest map[string]*gjson.Result
}

func newDocReader() *docReader {
	r := &docReader{}
	r.dest = r.d.fields()
	return r
}

// read fills r.d from the JSON object b; the first of duplicate keys wins,
// as for a gjson path.
func (r *docReader) read(b []byte) *doc {
	r.d = doc{}
	var walk func(prefix string, v gjson.Result)
	walk = func(prefix string, v gjson.Result) {
		v.ForEach(func(k, val gjson.Result) bool {
			name := k.Str
			if prefix != "" {
				name = prefix + "." + k.Str
			}
			if prefix == "" && name == "@timestamp" {
				if !r.d.timestamp.Exists() {
					r.d.timestamp = val
				}
				return true
			}
			if dst, ok := r.dest[name]; ok {
				if !dst.Exists() {
					*dst = val
				}
				return true
			}
			if val.IsObject() && wanted[name] {
				walk(name, val)
			}
			return true
		})
	}
	walk("", gjson.ParseBytes(b))
	return &r.d
}

// wanted is the objects on the way to a doc field; read descends into
// no other.
var wanted = map[string]bool{
	"event": true, "classification": true, "labels": true, "service": true, "url": true, "error": true,
	"http": true, "http.response": true, "http.response.body": true, "kafka": true,
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
	dr := newDocReader()
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
		v := dr.read(b)
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
