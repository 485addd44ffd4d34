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

// docPaths are the document fields a report reads, in the order of the
// doc* indices below.
var docPaths = []string{
	"@timestamp", "event.outcome",
	"classification.category", "classification.reason", "classification.retryable", "classification.remediation", "classification.rule_id",
	"labels.provider", "service.name", "url.domain", "url.path", "labels.api_key_id",
	"error.message", "http.response.status_code", "http.response.body.content",
	"kafka.partition", "kafka.offset",
}

const (
	docTimestamp = iota
	docOutcome
	docCategory
	docReason
	docRetryable
	docRemediation
	docRuleID
	docProvider
	docService
	docDomain
	docPath
	docAPIKey
	docMessage
	docStatus
	docBody
	docPartition
	docOffset
)

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
		v := gjson.GetManyBytes(b, docPaths...)
		ts, err := time.Parse(time.RFC3339Nano, v[docTimestamp].Str)
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
		outcome := v[docOutcome].Str
		if outcome != "success" && outcome != "failure" {
			continue
		}
		t.calls++
		failed := outcome == "failure"
		cat, hasCat := str(v[docCategory])
		reason, hasReason := str(v[docReason])
		if failed {
			t.failures++
		}
		keys := [...]string{
			keyword(str(v[docProvider])),
			keyword(str(v[docService])),
			endpointKey(v[docDomain].Str, v[docPath].Str, v[docDomain].Type == gjson.String, v[docPath].Type == gjson.String),
			keyword(str(v[docAPIKey])),
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
			if v[docRetryable].Type == gjson.True {
				rt.retryable++
			}
			if rem, ok := str(v[docRemediation]); ok && keywordLen(rem) <= keywordLimit {
				t.hint(rem, cr, 1)
			}
		}
		if t == cur && hasCat {
			i := sort.Search(len(starts), func(i int) bool { return starts[i] > ms }) - 1
			cur.trend[i][categoryIndex(cat)]++
		}
		msg, hasMsg := str(v[docMessage])
		if hasMsg && keywordLen(msg) <= keywordLimit {
			t.messages[msgKey{msg, cr.category, cr.reason}]++
			continue
		}
		rule, hasRule := str(v[docRuleID])
		g := groupKey{
			provider: keywordOrEmpty(str(v[docProvider])), status: v[docStatus].Int(),
			category: cr.category, reason: cr.reason, ruleID: keywordOrEmpty(rule, hasRule),
		}
		order := sampleOrder{millis: ms, partition: intOr(v[docPartition], -1), offset: intOr(v[docOffset], -1)}
		t.group(g, 1, order, sampleMessage(msg, hasMsg, v[docBody].Str))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	if bad > 0 {
		cur.notes = append(cur.notes, fmt.Sprintf("%s: %d of %d lines are not JSON objects and were skipped.", name, bad, line))
	}
	return build("file "+name, o, cur, prev), nil
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
