package classify

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/sdtriage/sdtriage/rules"
	"github.com/tidwall/gjson"
)

// Regions of the lower-cased text that a literal was found in.
const (
	inError uint8 = 1 << iota
	inBody
	inURL
	inText = inError | inBody
)

// cond is a compiled rules.Condition: every part that is set must hold.
// Parts run cheapest first: status, method, provider, host, literal-only
// text matches, text matches with a regexp, the field look-up, then the
// combinators.
type cond struct {
	status                 []rules.StatusRange
	method, provider, host []string
	texts                  []textMatcher
	field                  *fieldMatcher
	all, any               []cond
	not                    *cond
}

// textMatcher is a compiled rules.TextMatch on one region of the text.
type textMatcher struct {
	name   string // error, body, text or url, for explanations
	region uint8
	always bool       // contains "" matches every text
	idx    int32      // index in literalHits.matched
	lits   []int32    // literal ids; any found in region matches
	alts   []regexAlt // the regexp, split at its top-level alternation
	src    *rules.TextMatch
}

// regexAlt is one alternative of a rule's regexp with its prefilter: the
// regexp runs only when each group of required literals has one found in
// the region. Splitting `a|b` lets each alternative have its own, stronger
// prefilter, and a smaller regexp runs faster.
type regexAlt struct {
	re   *regexp.Regexp
	lits [][]int32
	// anchored, when set, replaces re: it runs at each occurrence of a
	// start literal (bit set starts) where asserts hold (see anchorPlan).
	// after, when set, holds the bytes that may come before a start
	// literal that is not at the start of the text.
	anchored *regexp.Regexp
	asserts  []syntax.Op
	after    *[256]bool
	starts   []uint64
}

// fieldMatcher is a compiled rules.FieldMatch.
type fieldMatcher struct {
	path string
	// head and rest split a plain path (no gjson wildcards, escapes or
	// modifiers) at its first dot: it is looked up among the top-level
	// members collected in the extraction pass instead of by a scan of the
	// whole record. plain is false for other paths.
	head, rest string
	plain      bool
	inBody     bool
	equals     []string
	contains   []string
	re         *regexp.Regexp
	exists     *bool
	// lits, when set, prefilter a body field: one of them must be in the
	// body text for the field to hold (fieldLiterals, ruledOut).
	lits []int32
}

// compiler collects the literals of a rule set while compiling it.
type compiler struct {
	lits     []string
	anchor   []bool    // per literal: scans record its positions
	postings [][]int32 // per literal: the text matchers that contain it
	matchers int       // text matchers so far
	topKeys  []string  // top-level keys that field look-ups in the record need
	litID    map[string]int32
}

// anchorLiteral returns the id of l and marks it as an anchor.
func (cp *compiler) anchorLiteral(l string) int32 {
	id := cp.literal(l)
	cp.anchor[id] = true
	return id
}

// setBit sets bit id in a growing bit set.
func setBit(set []uint64, id int32) []uint64 {
	for int(id>>6) >= len(set) {
		set = append(set, 0)
	}
	set[id>>6] |= 1 << (id & 63)
	return set
}

// hasBit reports whether bit id is set.
func hasBit(set []uint64, id int32) bool {
	w := int(id >> 6)
	return w < len(set) && set[w]&(1<<(id&63)) != 0
}

// literal returns the id of l, adding it when new.
func (cp *compiler) literal(l string) int32 {
	l = strings.ToLower(l)
	if id, ok := cp.litID[l]; ok {
		return id
	}
	id := int32(len(cp.lits))
	cp.lits = append(cp.lits, l)
	cp.anchor = append(cp.anchor, false)
	cp.postings = append(cp.postings, nil)
	cp.litID[l] = id
	return id
}

// compile turns c into a cond, for the rule named by where.
func (cp *compiler) compile(c *rules.Condition, where string) (cond, error) {
	out := cond{
		status:   c.Status,
		method:   lowerAll(c.Method),
		provider: lowerAll(c.Provider),
		host:     lowerAll(c.Host),
	}
	for _, t := range []struct {
		name   string
		region uint8
		m      *rules.TextMatch
	}{{"error", inError, c.Error}, {"body", inBody, c.Body}, {"text", inText, c.Text}, {"url", inURL, c.URL}} {
		if t.m == nil {
			continue
		}
		tm := textMatcher{name: t.name, region: t.region, src: t.m, idx: int32(cp.matchers)}
		cp.matchers++
		for _, l := range t.m.Contains {
			if l == "" {
				tm.always = true
			}
			id := cp.literal(l)
			tm.lits = append(tm.lits, id)
			cp.postings[id] = append(cp.postings[id], tm.idx)
		}
		if t.m.Regex != "" {
			if _, err := regexp.Compile(t.m.Regex); err != nil {
				return cond{}, fmt.Errorf("%s: %s regex: %w", where, t.name, err)
			}
			for _, alt := range alternatives(t.m.Regex) {
				ra := regexAlt{re: regexp.MustCompile(alt)}
				if p, ok := planAnchor(alt); ok {
					ra.anchored = regexp.MustCompile(p.anchored)
					ra.asserts, ra.after = p.asserts, p.after
					for _, l := range p.starts {
						ra.starts = setBit(ra.starts, cp.anchorLiteral(l))
					}
				}
				for _, g := range requiredLiterals(alt) {
					ids := make([]int32, len(g))
					for i, l := range g {
						ids[i] = cp.literal(l)
					}
					ra.lits = append(ra.lits, ids)
				}
				tm.alts = append(tm.alts, ra)
			}
		}
		out.texts = append(out.texts, tm)
	}
	// Literal-only matchers first: they are a table look-up.
	slices.SortStableFunc(out.texts, func(a, b textMatcher) int {
		return boolInt(a.alts != nil) - boolInt(b.alts != nil)
	})
	if f := c.Field; f != nil {
		fm := &fieldMatcher{
			path:     f.Path,
			inBody:   f.InBody,
			equals:   lowerAll(f.Equals),
			contains: lowerAll(f.Contains),
			exists:   f.Exists,
		}
		if !strings.ContainsAny(f.Path, `\*?#|@!=<>%[]{}`) {
			fm.plain = true
			fm.head, fm.rest, _ = strings.Cut(f.Path, ".")
			if !fm.inBody {
				cp.topKeys = append(cp.topKeys, fm.head, fm.path)
			}
		}
		if f.Regex != "" {
			re, err := regexp.Compile(f.Regex)
			if err != nil {
				return cond{}, fmt.Errorf("%s: field regex: %w", where, err)
			}
			fm.re = re
		}
		for _, l := range fieldLiterals(fm) {
			fm.lits = append(fm.lits, cp.literal(l))
		}
		out.field = fm
	}
	var err error
	if out.all, err = cp.compileList(c.All, where+": all"); err != nil {
		return cond{}, err
	}
	if out.any, err = cp.compileList(c.Any, where+": any"); err != nil {
		return cond{}, err
	}
	if c.Not != nil {
		n, err := cp.compile(c.Not, where+": not")
		if err != nil {
			return cond{}, err
		}
		out.not = &n
	}
	return out, nil
}

// compileList compiles the members of an all or any list.
func (cp *compiler) compileList(cs []rules.Condition, where string) ([]cond, error) {
	var out []cond
	for i := range cs {
		c, err := cp.compile(&cs[i], where+"["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// statusPossible reports whether c can hold for a record with this status:
// a conservative test used to pre-select the rules worth trying.
func (c *cond) statusPossible(status int) bool {
	if c.status != nil && !statusIn(c.status, status) {
		return false
	}
	for i := range c.all {
		if !c.all[i].statusPossible(status) {
			return false
		}
	}
	if len(c.any) == 0 {
		return true
	}
	for i := range c.any {
		if c.any[i].statusPossible(status) {
			return true
		}
	}
	return false
}

// statusIn reports whether status is in one of the ranges.
func statusIn(rs []rules.StatusRange, status int) bool {
	for _, r := range rs {
		if r.Lo <= status && status <= r.Hi {
			return true
		}
	}
	return false
}

// eval reports whether c holds for the record in x. With a non-nil tr it
// also records which parts held, or the first that did not.
func (c *cond) eval(x *scratch, tr *trace) bool {
	if c.status != nil {
		if !statusIn(c.status, x.rec.status) {
			return tr != nil && tr.fail("status %s not in %s", statusText(x.rec.status), rangesText(c.status))
		}
		if tr != nil {
			tr.hold("status %s in %s", statusText(x.rec.status), rangesText(c.status))
		}
	}
	if c.method != nil {
		if !anyEqualFold(c.method, x.rec.method) {
			return tr != nil && tr.fail("method %q not in %q", x.rec.method, c.method)
		}
		if tr != nil {
			tr.hold("method %q", x.rec.method)
		}
	}
	if c.provider != nil {
		if !slices.Contains(c.provider, x.provider) {
			return tr != nil && tr.fail("provider %q not in %q", x.provider, c.provider)
		}
		if tr != nil {
			tr.hold("provider %q", x.provider)
		}
	}
	if c.host != nil {
		if !hostMatches(c.host, x.host) {
			return tr != nil && tr.fail("host %q not in %q", x.host, c.host)
		}
		if tr != nil {
			tr.hold("host %q", x.host)
		}
	}
	for i := range c.texts {
		if !c.texts[i].match(x, tr) {
			return false
		}
	}
	if c.field != nil && !c.field.match(x, tr) {
		return false
	}
	for i := range c.all {
		if !c.all[i].eval(x, tr) {
			return false
		}
	}
	if len(c.any) > 0 && !c.evalAny(x, tr) {
		return false
	}
	if c.not != nil {
		if tr == nil {
			return !c.not.eval(x, nil)
		}
		var sub trace
		if c.not.eval(x, &sub) {
			return tr != nil && tr.fail("not: %s held", strings.Join(sub.held, ", "))
		}
		if tr != nil {
			tr.hold("not: %s", sub.failed)
		}
	}
	return true
}

// evalAny reports whether one of c.any holds.
func (c *cond) evalAny(x *scratch, tr *trace) bool {
	if tr == nil {
		for i := range c.any {
			if c.any[i].eval(x, nil) {
				return true
			}
		}
		return false
	}
	var fails []string
	for i := range c.any {
		var sub trace
		if c.any[i].eval(x, &sub) {
			tr.held = append(tr.held, sub.held...)
			return true
		}
		fails = append(fails, sub.failed)
	}
	return tr != nil && tr.fail("any: none held (%s)", strings.Join(fails, "; "))
}

// match reports whether the text matcher holds.
func (m *textMatcher) match(x *scratch, tr *trace) bool {
	if m.always {
		if tr != nil {
			tr.hold("%s contains %q", m.name, "")
		}
		return true
	}
	if x.scanned&m.region != m.region {
		x.scanRegions(m.region)
	}
	if x.matched[m.idx]&m.region != 0 {
		if tr != nil {
			tr.hold("%s contains %q", m.name, x.lits[m.foundLiteral(x)])
		}
		return true
	}
	for i := range m.alts {
		a := &m.alts[i]
		if m.candidate(x, a) && m.runAlt(x, a) {
			if tr != nil {
				tr.hold("%s matches regex %q", m.name, a.re.String())
			}
			return true
		}
	}
	return tr != nil && tr.fail("%s does not match %s", m.name, textMatchText(m.src))
}

// foundLiteral returns the first of m's literals found in its region, for
// explanations; the scan has marked m as matched.
func (m *textMatcher) foundLiteral(x *scratch) int32 {
	for _, id := range m.lits {
		if x.found[id]&m.region != 0 {
			return id
		}
	}
	return m.lits[0]
}

// runAlt runs a regexp alternative on the matcher's region: anchored at
// the occurrences of its start literals when it has them, else everywhere.
func (m *textMatcher) runAlt(x *scratch, a *regexAlt) bool {
	text := x.region(m.region)
	if a.anchored == nil {
		return a.re.Match(text)
	}
	for _, o := range x.occ {
		if o.region&m.region == 0 || !hasBit(a.starts, o.id) {
			continue
		}
		pos := int(o.pos)
		if m.region == inText && o.region == inBody {
			pos += x.errEnd + 1
		}
		if pos <= len(text) && assertionsHold(a.asserts, text, pos) &&
			(a.after == nil || pos == 0 || a.after[text[pos-1]]) && a.anchored.Match(text[pos:]) {
			return true
		}
	}
	return false
}

// candidate reports whether the prefilter lets the alternative run: every
// group of required literals has one in the region.
func (m *textMatcher) candidate(x *scratch, a *regexAlt) bool {
	for _, g := range a.lits {
		if !m.anyFound(x, g) {
			return false
		}
	}
	return true
}

// anyFound reports whether one of the literals was found in the region.
func (m *textMatcher) anyFound(x *scratch, ids []int32) bool {
	for _, id := range ids {
		if x.found[id]&m.region != 0 {
			return true
		}
	}
	return false
}

// match reports whether the field matcher holds.
func (m *fieldMatcher) match(x *scratch, tr *trace) bool {
	if tr == nil && m.lits != nil && m.ruledOut(x) {
		return false
	}
	where := "record"
	var v gjson.Result
	if m.inBody {
		where = "body"
		if !x.bodyParsed {
			x.bodyTop = x.bodyTop[:0]
			x.rec.eachBodyMember(x.bodyJSON, func(key string, val gjson.Result) bool {
				x.bodyTop = append(x.bodyTop, extra{key: key, val: val})
				return true
			})
			x.bodyParsed = true
		}
		v = m.lookup(x.bodyJSON, x.bodyTop)
	} else {
		v = m.lookup(x.recJSON, x.rec.top)
	}
	if m.exists != nil && v.Exists() != *m.exists {
		return tr != nil && tr.fail("field %s in %s: exists is %t", m.path, where, v.Exists())
	}
	if m.equals == nil && m.contains == nil && m.re == nil {
		if m.exists == nil && !v.Exists() {
			return tr != nil && tr.fail("field %s in %s does not exist", m.path, where)
		}
		if tr != nil {
			tr.hold("field %s in %s exists: %t", m.path, where, v.Exists())
		}
		return true
	}
	if !v.Exists() {
		return tr != nil && tr.fail("field %s in %s does not exist", m.path, where)
	}
	x.valBuf = appendLower(x.valBuf[:0], v.String())
	val := x.valBuf
	for _, e := range m.equals {
		if string(val) == e {
			if tr != nil {
				tr.hold("field %s in %s equals %q", m.path, where, e)
			}
			return true
		}
	}
	for _, c := range m.contains {
		if strings.Contains(bytesString(val), c) {
			if tr != nil {
				tr.hold("field %s in %s contains %q", m.path, where, c)
			}
			return true
		}
	}
	if m.re != nil && m.re.Match(val) {
		if tr != nil {
			tr.hold("field %s in %s matches regex %q", m.path, where, m.re.String())
		}
		return true
	}
	return tr != nil && tr.fail("field %s in %s = %q matches none of equals %q, contains %q, regex %q",
		m.path, where, string(val), m.equals, m.contains, reString(m.re))
}

// lookup finds the field in doc, whose top-level members are top. A plain
// path "a.b" is looked up nested ({"a":{"b":..}}) and then as one flat key
// ({"a.b":..}), so that rules need not care which spelling a record uses.
func (m *fieldMatcher) lookup(doc string, top []extra) gjson.Result {
	if !m.plain {
		return gjson.Get(doc, m.path)
	}
	if m.rest != "" {
		for i := range top {
			if top[i].key == m.head {
				if v := top[i].val.Get(m.rest); v.Exists() {
					return v
				}
				break
			}
		}
	}
	for i := range top {
		if top[i].key == m.path {
			return top[i].val
		}
	}
	return gjson.Result{}
}

// hostMatches reports whether host is one of hosts, where an entry that
// starts with "." matches by suffix.
func hostMatches(hosts []string, host string) bool {
	for _, h := range hosts {
		if h == host || (strings.HasPrefix(h, ".") && strings.HasSuffix(host, h)) {
			return true
		}
	}
	return false
}

// anyEqualFold reports whether s equals one of list, ignoring case.
func anyEqualFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}

// lowerAll lower-cases every element; nil stays nil.
func lowerAll(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ToLower(s)
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// trace records, for Explain, which parts of a condition held and the first
// that did not. Callers check for a nil trace before formatting anything,
// so the hot path pays only that check; fail returns false so that callers
// can write `return tr != nil && tr.fail(...)`.
type trace struct {
	held   []string
	failed string
}

func (t *trace) hold(format string, args ...any) {
	t.held = append(t.held, fmt.Sprintf(format, args...))
}

func (t *trace) fail(format string, args ...any) bool {
	t.failed = fmt.Sprintf(format, args...)
	return false
}

// statusText renders a status for explanations; 0 is "none".
func statusText(s int) string {
	if s == 0 {
		return "none"
	}
	return strconv.Itoa(s)
}

// rangesText renders status ranges as in rule files.
func rangesText(rs []rules.StatusRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		switch {
		case r.Lo == 0 && r.Hi == 0:
			parts[i] = "none"
		case r.Lo == r.Hi:
			parts[i] = strconv.Itoa(r.Lo)
		default:
			parts[i] = strconv.Itoa(r.Lo) + "-" + strconv.Itoa(r.Hi)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// textMatchText renders a text match for explanations.
func textMatchText(m *rules.TextMatch) string {
	var parts []string
	if len(m.Contains) > 0 {
		parts = append(parts, fmt.Sprintf("contains %q", m.Contains))
	}
	if m.Regex != "" {
		parts = append(parts, fmt.Sprintf("regex %q", m.Regex))
	}
	return strings.Join(parts, " or ")
}

func reString(re *regexp.Regexp) string {
	if re == nil {
		return ""
	}
	return re.String()
}
