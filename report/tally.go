package report

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// A tally is what a source counts for one period. Both sources fill tallies
// with the same meaning (Elasticsearch by aggregations, files by reading
// each document), and build turns the current and previous tallies into a
// Report, so that the two sources cannot disagree on anything but counting.
type tally struct {
	calls, failures int64
	reasons         map[catReason]*reasonTally
	hints           map[string]map[catReason]int64  // remediation -> cause -> failures
	dims            map[string]map[string]*dimTally // dimension -> key -> counts
	trend           [][]int64                       // bucket -> category index -> failures (current period only)
	// messages counts failures by their error.message (when Elasticsearch
	// indexes it as a keyword: at most keywordLimit characters).
	messages map[msgKey]int64
	// groups counts the other failures by provider, status and rule, with
	// the most recent one as the sample that names the group.
	groups map[groupKey]*groupTally
	notes  []string
}

type catReason struct{ category, reason string }

type reasonTally struct{ count, retryable int64 }

type dimTally struct {
	calls, failures int64
	categories      map[string]int64
}

type msgKey struct{ message, category, reason string }

type groupKey struct {
	provider         string
	status           int64
	category, reason string
	ruleID           string
}

type groupTally struct {
	count  int64
	order  sampleOrder
	sample string // the sample's message: error.message, else the body's message
}

// sampleOrder sorts samples newest first, as the Elasticsearch top_hits
// sort [@timestamp desc, kafka.partition desc, kafka.offset desc] does
// (missing values are -1, so they sort last).
type sampleOrder struct{ millis, partition, offset int64 }

func (a sampleOrder) newerThan(b sampleOrder) bool {
	if a.millis != b.millis {
		return a.millis > b.millis
	}
	if a.partition != b.partition {
		return a.partition > b.partition
	}
	return a.offset > b.offset
}

func newTally(buckets int) *tally {
	t := &tally{
		reasons:  map[catReason]*reasonTally{},
		hints:    map[string]map[catReason]int64{},
		dims:     map[string]map[string]*dimTally{},
		trend:    make([][]int64, buckets),
		messages: map[msgKey]int64{},
		groups:   map[groupKey]*groupTally{},
	}
	for _, d := range Dimensions {
		t.dims[d] = map[string]*dimTally{}
	}
	for i := range t.trend {
		t.trend[i] = make([]int64, len(Categories))
	}
	return t
}

func (t *tally) reason(cr catReason) *reasonTally {
	r := t.reasons[cr]
	if r == nil {
		r = &reasonTally{}
		t.reasons[cr] = r
	}
	return r
}

func (t *tally) hint(remediation string, cr catReason, n int64) {
	m := t.hints[remediation]
	if m == nil {
		m = map[catReason]int64{}
		t.hints[remediation] = m
	}
	m[cr] += n
}

func (t *tally) dim(dimension, key string) *dimTally {
	d := t.dims[dimension][key]
	if d == nil {
		d = &dimTally{categories: map[string]int64{}}
		t.dims[dimension][key] = d
	}
	return d
}

// group adds n failures to g, with a sample that replaces the group's
// when it is newer; sample is called only then.
func (t *tally) group(g groupKey, n int64, order sampleOrder, sample func() string) {
	gt := t.groups[g]
	if gt == nil {
		t.groups[g] = &groupTally{count: n, order: order, sample: sample()}
		return
	}
	gt.count += n
	if order.newerThan(gt.order) {
		gt.order, gt.sample = order, sample()
	}
}

func categoryIndex(c string) int {
	for i, k := range Categories {
		if k == c {
			return i
		}
	}
	return len(Categories) - 1 // a category outside the taxonomy counts as unknown
}

// keywordLimit is the ignore_above of the index template's keyword fields:
// longer values are kept in _source but not indexed, so Elasticsearch
// cannot aggregate them; files are read the same way.
const keywordLimit = 1024

// keywordLen is a string's length as Elasticsearch counts it for
// ignore_above: in UTF-16 code units.
func keywordLen(s string) int {
	n := 0
	for _, r := range s { // invalid UTF-8 decodes as U+FFFD, one unit
		n += utf16.RuneLen(r)
	}
	return n
}

// keyword returns s as a breakdown key: None when missing or too long to
// be indexed.
func keyword(s string, ok bool) string {
	if !ok || keywordLen(s) > keywordLimit {
		return None
	}
	return s
}

var (
	uuidSegment = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	alnumOnly   = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// endpointKey is the endpoint of a call: url.domain and url.path, with the
// path segments that are ids (numbers, UUIDs, hashes, random tokens such
// as prediction ids) replaced by a placeholder, so that
// /v1/predictions/3qmk4lu5bdrg80cjdxbrxnx6vm and its siblings are one
// endpoint. Model names such as stable-diffusion-xl-1024-v1-0 stay.
func endpointKey(domain, path string, hasDomain, hasPath bool) string {
	d, p := keyword(domain, hasDomain), keyword(path, hasPath)
	if d == None && p == None {
		return None
	}
	if d == None {
		d = ""
	}
	if p == None {
		p = ""
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = pathSegment(s)
	}
	return d + strings.Join(segs, "/")
}

func pathSegment(s string) string {
	switch {
	case s == "":
		return s
	case uuidSegment.MatchString(s):
		return "{uuid}"
	case !alnumOnly.MatchString(s):
		return s
	}
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return "{n}"
	}
	switch templateWord(s) {
	case "<hex>":
		return "{hex}"
	case "<id>":
		return "{id}"
	}
	return s
}

// sampleMessage is the message a sampled failure is known by: its
// error.message if it has one, else its response body's message.
func sampleMessage(errMsg string, hasErr bool, body string) string {
	if hasErr && strings.TrimSpace(errMsg) != "" {
		return errMsg
	}
	return BodyMessage(body)
}

// groupTemplate is the template and example that name a group of failures
// without an indexed error.message.
func groupTemplate(g groupKey, sample string) (tmpl, ex string) {
	t := MessageTemplate(sample)
	switch {
	case g.status != 0 && t != "":
		return "HTTP " + strconv.FormatInt(g.status, 10) + ": " + t, example(sample)
	case g.status != 0:
		return "HTTP " + strconv.FormatInt(g.status, 10) + " (no message)", ""
	case t != "":
		return t, example(sample)
	}
	return "(no message)", ""
}
