// Package classify is the pure core of sdtriage: it extracts the fields of
// an API call log record (CONTRACT section 1), decides whether the call
// failed, classifies failures with a compiled rule set (section 2) and
// renders the Elasticsearch document (section 3) with secrets masked
// (section 4). It does no I/O and keeps no state between records.
package classify

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/sdtriage/sdtriage/rules"
)

// ErrNotObject is returned for a record that is not a valid JSON object.
var ErrNotObject = errors.New("record is not a JSON object")

// unmatchedRemediation is the hint of failures that no rule matched.
const unmatchedRemediation = "No rule matched this failure. Add a rule for its error text or body " +
	"to a file in your --rules directory and check it with `ingest rules test`."

// Source is the Kafka position of a record, kept for provenance and used
// for the document id.
type Source struct {
	Topic     string
	Partition int
	Offset    int64
}

// Result is what the pipeline needs besides the document: metrics labels
// and the index to write to.
type Result struct {
	// Failure reports whether the call failed (CONTRACT section 1).
	Failure bool
	// Unusable reports a record with none of the contract's fields: it is
	// consumed and counted, but describes no call. Failure is false.
	Unusable bool
	// Category, Reason, RuleID and Retryable classify a failure; they are
	// zero for successes. A failure no rule matched is unknown/unmatched
	// with an empty RuleID.
	Category  rules.Category
	Reason    string
	RuleID    string
	Retryable bool
	// Timestamp is the record's own time, zero if absent or unparseable.
	Timestamp time.Time
}

// Classifier classifies records with a compiled rule set. It is safe for
// concurrent use.
type Classifier struct {
	rules    []rules.Rule
	conds    []cond
	byStatus [1000][]int32 // candidate rules for each status; others try all
	all      []int32
	ac       *automaton
	lits     []string
	// needs and litRules rule out the rules a record's literals cannot
	// satisfy (see need.go).
	needs    []uint8
	litRules [][]int32
	version  string
	pool     sync.Pool
}

// New compiles rs. It fails only on a regexp that does not compile, which
// a rule set from rules.Parse never has.
func New(rs *rules.RuleSet) (*Classifier, error) {
	c := &Classifier{rules: rs.Rules, version: rs.Version}
	cp := &compiler{litID: map[string]int32{}}
	c.conds = make([]cond, len(rs.Rules))
	for i := range rs.Rules {
		r := &rs.Rules[i]
		cd, err := cp.compile(&r.Match, fmt.Sprintf("%s: rule %q", r.Pos, r.ID))
		if err != nil {
			return nil, err
		}
		c.conds[i] = cd
		c.all = append(c.all, int32(i))
	}
	for s := range c.byStatus {
		for i := range c.conds {
			if c.conds[i].statusPossible(s) {
				c.byStatus[s] = append(c.byStatus[s], int32(i))
			}
		}
	}
	c.lits = cp.lits
	c.ac = newAutomaton(cp.lits, cp.anchor, cp.postings)
	c.needs, c.litRules = ruleNeeds(c.conds, len(c.lits))
	slices.Sort(cp.topKeys)
	topKeys := slices.Compact(cp.topKeys)
	var topLens uint64
	for _, k := range topKeys {
		topLens |= 1 << (len(k) & 63)
	}
	c.pool.New = func() any {
		return &scratch{
			rec:         record{topKeys: topKeys, topLens: topLens},
			mark:        make([]uint32, len(c.rules)),
			literalHits: literalHits{found: make([]uint8, len(c.lits)), matched: make([]uint8, cp.matchers)},
			lits:        c.lits,
			ac:          c.ac,
		}
	}
	return c, nil
}

// Ruleset returns the version of the rule set, for classification.ruleset.
func (c *Classifier) Ruleset() string { return c.version }

// scratch is the per-call working memory, pooled so that classifying a
// record allocates almost nothing.
type scratch struct {
	rec      record
	recJSON  string // the input record
	bodyJSON string // the body when it is JSON (also inside a string)
	// bodyTop holds the body's top-level members once bodyParsed.
	bodyTop    []extra
	bodyParsed bool
	host       string // lower-case
	port       string
	path       string
	provider   string // lower-case: from the record, else from the URL

	// lower holds the lower-cased error text, body and URL, separated by
	// newlines: lower[:errEnd] is the error, lower[errEnd+1:bodyEnd] the
	// body, lower[bodyEnd+1:] the URL. It is filled on first use (lowered):
	// most records need no regexp.
	lower           []byte
	lowered         bool
	errEnd, bodyEnd int
	ac              *automaton
	scanned         uint8 // regions scanned for literals
	literalHits
	lits   []string
	valBuf []byte // a lower-cased field value
	docBuf []byte // masked text for the document
	// ingestedText is ingested as a JSON string (appendIngested).
	ingested     time.Time
	ingestedText []byte
	// mark and gen record the rules whose need is met (markRules);
	// escaped caches bodyEscaped: 0 unknown, 1 no, 2 yes.
	mark    []uint32
	gen     uint32
	escaped uint8
}

// region returns the lower-cased text of a region.
func (x *scratch) region(r uint8) []byte {
	if !x.lowered {
		x.lowerText()
	}
	switch r {
	case inError:
		return x.lower[:x.errEnd]
	case inBody:
		return x.lower[x.errEnd+1 : x.bodyEnd]
	case inURL:
		return x.lower[x.bodyEnd+1:]
	}
	return x.lower[:x.bodyEnd]
}

// outcome is the internal result of classifying one record.
type outcome struct {
	verdict verdict
	rule    int // index of the matching rule, -1 for none
}

// Classify extracts and classifies one raw record.
func (c *Classifier) Classify(rec []byte) (Result, error) {
	x := c.pool.Get().(*scratch)
	defer c.pool.Put(x)
	o, err := c.run(x, rec, nil)
	if err != nil {
		return Result{}, err
	}
	return c.result(x, o), nil
}

// run extracts rec into x and classifies it; ex, when not nil, collects
// the explanation.
func (c *Classifier) run(x *scratch, rec []byte, ex *Explanation) (outcome, error) {
	x.recJSON = unsafe.String(unsafe.SliceData(rec), len(rec))
	x.rec.reset()
	if !x.rec.parse(x.recJSON) {
		return outcome{}, ErrNotObject
	}
	r := &x.rec
	x.host, x.port, x.path = splitURL(r.url)
	if r.url == "" {
		x.host, x.path = r.urlDomain, r.urlPath
	}
	x.host = lowerASCII(x.host)
	if r.provider != "" {
		x.provider = lowerASCII(r.provider)
	} else {
		x.provider = providerFromURL(x.host, x.port, x.path)
	}
	x.bodyJSON = r.bodyJSON()
	x.bodyParsed = false
	o := outcome{verdict: r.judge(), rule: -1}
	if ex != nil {
		ex.Verdict = o.verdict.String()
	}
	if !o.verdict.failure() {
		return o, nil
	}
	x.prepare()
	x.scanRegions(inText)
	gen := x.markRules(c.litRules)
	cands := c.all
	if s := r.status; s >= 0 && s < len(c.byStatus) {
		cands = c.byStatus[s]
	}
	next := 0 // for explanations: the next rule index not yet reported
	for _, i := range cands {
		if ex == nil {
			if n := c.needs[i]; n != 0 && x.mark[i] != gen && (n&needSoft == 0 || !x.bodyEscaped()) {
				continue
			}
			if c.conds[i].eval(x, nil) {
				o.rule = int(i)
				return o, nil
			}
			continue
		}
		ex.Skipped += int(i) - next
		next = int(i) + 1
		var tr trace
		ok := c.conds[i].eval(x, &tr)
		ex.Tried = append(ex.Tried, Attempt{
			RuleID: c.rules[i].ID, Pos: c.rules[i].Pos.String(), Matched: ok, Why: tr.failed})
		if ok {
			ex.Matched = tr.held
			o.rule = int(i)
			return o, nil
		}
	}
	if ex != nil {
		ex.Skipped += len(c.rules) - next
	}
	return o, nil
}

// prepare resets the literal matches of the previous record. Regions are
// scanned on first use (scanRegions): a record decided by its status and
// body never has its URL scanned.
func (x *scratch) prepare() {
	x.literalHits.reset()
	x.scanned = 0
	x.lowered = false
	x.escaped = 0
}

// scanRegions finds the literals of the rule set in the regions of want
// not scanned yet. The scan folds ASCII case itself; text with other bytes
// is lower-cased (strings.ToLower rules) and scanned again, and only that
// scan's anchor positions are kept, as lower-casing can move them.
func (x *scratch) scanRegions(want uint8) {
	r := &x.rec
	h := &x.literalHits
	for _, reg := range [...]uint8{inError, inBody, inURL} {
		if want&reg == 0 || x.scanned&reg != 0 {
			continue
		}
		x.scanned |= reg
		var wide bool
		switch reg {
		case inError:
			// Offsets as in lowerText: the texts joined by spaces.
			off := int32(0)
			for _, e := range r.errs {
				if e != "" {
					wide = x.ac.scan(e, reg, off, h) || wide
					off += int32(len(e)) + 1
				}
			}
			wide = x.ac.scan(r.errType, reg, off, h) || wide
		case inBody:
			wide = x.ac.scan(r.bodyText(), reg, 0, h)
		case inURL:
			wide = x.ac.scan(r.url, reg, 0, h)
		}
		if wide {
			occ := h.occ[:0]
			for _, o := range h.occ {
				if o.region != reg {
					occ = append(occ, o)
				}
			}
			h.occ = occ
			x.ac.scan(bytesString(x.region(reg)), reg, 0, h)
		}
	}
}

// lowerText fills x.lower with the lower-cased error texts (joined by spaces,
// error type last), body and URL, separated by newlines.
func (x *scratch) lowerText() {
	r := &x.rec
	b := x.lower[:0]
	sep := false
	for _, e := range r.errs {
		if e == "" {
			continue
		}
		if sep {
			b = append(b, ' ')
		}
		b = appendLower(b, e)
		sep = true
	}
	if r.errType != "" {
		if sep {
			b = append(b, ' ')
		}
		b = appendLower(b, r.errType)
	}
	x.errEnd = len(b)
	b = append(b, '\n')
	b = appendLower(b, r.bodyText())
	x.bodyEnd = len(b)
	b = append(b, '\n')
	b = appendLower(b, r.url)
	x.lower = b
	x.lowered = true
}

// result builds the public result of an outcome.
func (c *Classifier) result(x *scratch, o outcome) Result {
	res := Result{
		Failure:   o.verdict.failure(),
		Unusable:  o.verdict == verdictUnusable,
		Timestamp: x.rec.timestamp(),
	}
	switch {
	case !res.Failure:
	case o.rule >= 0:
		r := &c.rules[o.rule]
		res.Category, res.Reason, res.RuleID, res.Retryable = r.Category, r.Reason, r.ID, r.Retryable
	default:
		res.Category, res.Reason = rules.CategoryUnknown, rules.ReasonUnmatched
	}
	return res
}

// remediation returns the hint for a failure's outcome.
func (c *Classifier) remediation(o outcome) string {
	if o.rule >= 0 {
		return c.rules[o.rule].Remediation
	}
	return unmatchedRemediation
}

// appendLower appends s lower-cased to dst. ASCII takes a fast path; other
// letters are lower-cased as strings.ToLower does, and invalid UTF-8 is
// copied as it is.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, c)
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += n - 1
	}
	return dst
}

// bytesString views b as a string without copying; b must not change while
// the string is in use.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
