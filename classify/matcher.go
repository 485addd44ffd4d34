package classify

import (
	"fmt"
	"regexp"
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
	always bool    // contains "" matches every text
	lits   []int32 // literal ids; any found in region matches
	re     *regexp.Regexp
	reLits []int32 // the regexp runs only if one is found; nil: always runs
	src    *rules.TextMatch
}

// fieldMatcher is a compiled rules.FieldMatch.
type fieldMatcher struct {
	path, flatPath string // flatPath: the whole path as one dotted key ("error\.type"), or ""
	inBody         bool
	equals         []string
	contains       []string
	re             *regexp.Regexp
	exists         *bool
}

// compiler collects the literals of a rule set while compiling it.
type compiler struct {
	lits  []string
	litID map[string]int32
}

// literal returns the id of l, adding it when new.
func (cp *compiler) literal(l string) int32 {
	l = strings.ToLower(l)
	if id, ok := cp.litID[l]; ok {
		return id
	}
	id := int32(len(cp.lits))
	cp.lits = append(cp.lits, l)
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
		tm := textMatcher{name: t.name, region: t.region, src: t.m}
		for _, l := range t.m.Contains {
			l = strings.ToLower(l)
			if l == "" {
				tm.always = true
			}
			tm.lits = append(tm.lits, cp.literal(l))
		}
		if t.m.Regex != "" {
			re, err := regexp.Compile(t.m.Regex)
			if err != nil {
				return cond{}, fmt.Errorf("%s: %s regex: %w", where, t.name, err)
			}
			tm.re = re
			for _, l := range requiredLiterals(t.m.Regex) {
				tm.reLits = append(tm.reLits, cp.literal(l))
			}
		}
		out.texts = append(out.texts, tm)
	}
	// Literal-only matchers first: they are a table look-up.
	slices.SortStableFunc(out.texts, func(a, b textMatcher) int {
		return boolInt(a.re != nil) - boolInt(b.re != nil)
	})
	if f := c.Field; f != nil {
		fm := &fieldMatcher{
			path:     f.Path,
			inBody:   f.InBody,
			equals:   lowerAll(f.Equals),
			contains: lowerAll(f.Contains),
			exists:   f.Exists,
		}
		if strings.Contains(f.Path, ".") && !strings.ContainsAny(f.Path, `\*?#|@!=<>%[]{}`) {
			fm.flatPath = strings.ReplaceAll(f.Path, ".", `\.`)
		}
		if f.Regex != "" {
			re, err := regexp.Compile(f.Regex)
			if err != nil {
				return cond{}, fmt.Errorf("%s: field regex: %w", where, err)
			}
			fm.re = re
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
	for _, id := range m.lits {
		if x.found[id]&m.region != 0 {
			if tr != nil {
				tr.hold("%s contains %q", m.name, x.lits[id])
			}
			return true
		}
	}
	if m.re != nil && m.reCandidate(x) {
		if m.re.Match(x.region(m.region)) {
			if tr != nil {
				tr.hold("%s matches regex %q", m.name, m.re.String())
			}
			return true
		}
	}
	return tr != nil && tr.fail("%s does not match %s", m.name, textMatchText(m.src))
}

// reCandidate reports whether the prefilter lets the regexp run.
func (m *textMatcher) reCandidate(x *scratch) bool {
	if m.reLits == nil {
		return true
	}
	for _, id := range m.reLits {
		if x.found[id]&m.region != 0 {
			return true
		}
	}
	return false
}

// match reports whether the field matcher holds. A path is looked up as
// written, and also as one flat key, so that "error.type" finds both
// {"error":{"type":..}} and {"error.type":..}.
func (m *fieldMatcher) match(x *scratch, tr *trace) bool {
	where := "record"
	doc := x.recJSON
	if m.inBody {
		where, doc = "body", x.bodyJSON
	}
	var v gjson.Result
	if doc != "" {
		v = gjson.Get(doc, m.path)
		if !v.Exists() && m.flatPath != "" {
			v = gjson.Get(doc, m.flatPath)
		}
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
