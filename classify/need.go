package classify

import (
	"slices"
	"strings"
)

// A record is tried against some fifty rules before one matches, and most
// of them fail on a literal that is not in its text. The literals found by
// the one scan of the error text and body rule most of them out before
// they are tried: each rule has a need, literals one of which its
// condition cannot hold without, and a rule whose need no found literal
// meets is skipped without touching its condition.

// litNeed is a necessary condition for a condition to hold: one of ids was
// found in the error text or the body. ok is false when nothing can be
// told. soft marks a need that comes from a body field, which holds only
// while the body text has no escapes (see fieldLiterals).
type litNeed struct {
	ok, soft bool
	ids      []int32
}

// better reports whether n rules out more records than m, by a rough
// measure: a need that always holds beats a soft one, and fewer literals
// beat more.
func (n litNeed) better(m litNeed) bool {
	switch {
	case !n.ok:
		return false
	case !m.ok:
		return true
	case n.soft != m.soft:
		return !n.soft
	}
	return len(n.ids) < len(m.ids)
}

// Flags of Classifier.needs.
const (
	needLits uint8 = 1 << iota // the rule has a need
	needSoft                   // the need comes from a body field
)

// need returns the need of c: the best need of the parts that must all
// hold, or the union of the needs of an any list.
func (c *cond) need() litNeed {
	var best litNeed
	consider := func(n litNeed) {
		if n.better(best) {
			best = n
		}
	}
	for i := range c.texts {
		consider(c.texts[i].need())
	}
	if c.field != nil && c.field.lits != nil {
		consider(litNeed{ok: true, soft: true, ids: c.field.lits})
	}
	for i := range c.all {
		consider(c.all[i].need())
	}
	if len(c.any) > 0 {
		u := litNeed{ok: true}
		for i := range c.any {
			n := c.any[i].need()
			if !n.ok {
				u = litNeed{}
				break
			}
			u.soft = u.soft || n.soft
			u.ids = append(u.ids, n.ids...)
		}
		consider(u)
	}
	return best
}

// need returns the need of a text matcher: one of its literals, or one
// literal required by each regexp alternative. Matchers on the URL have
// none, since the URL is scanned only when a rule asks for it.
func (m *textMatcher) need() litNeed {
	if m.always || m.region&inURL != 0 {
		return litNeed{}
	}
	n := litNeed{ok: true, ids: slices.Clone(m.lits)}
	for i := range m.alts {
		var g []int32
		for _, group := range m.alts[i].lits {
			if g == nil || len(group) < len(g) {
				g = group
			}
		}
		if g == nil {
			return litNeed{}
		}
		n.ids = append(n.ids, g...)
	}
	return n
}

// fieldLiterals returns literals one of which the body text holds whenever
// the body field fm holds, or nil when there are none to tell: the values
// it compares with, the literals its regexp requires, or for a field that
// must only exist, the last key of its path. The value gjson returns is
// text of the body, unescaped, so this holds while the body has no
// escapes, except for numbers, which gjson may render differently (1e3 as
// 1000, 1e400 as +Inf): literals that a number could render as are not
// used.
func fieldLiterals(fm *fieldMatcher) []string {
	if !fm.inBody || !fm.plain || (fm.exists != nil && !*fm.exists) {
		return nil
	}
	var out []string
	if fm.equals == nil && fm.contains == nil && fm.re == nil {
		out = []string{fm.path[strings.LastIndexByte(fm.path, '.')+1:]}
	}
	out = append(out, fm.equals...)
	out = append(out, fm.contains...)
	if fm.re != nil {
		var best []string
		for _, g := range requiredLiterals(fm.re.String()) {
			if best == nil || len(g) < len(best) {
				best = g
			}
		}
		if best == nil {
			return nil
		}
		out = append(out, best...)
	}
	for _, l := range out {
		if len(l) < 2 || strings.Trim(l, "0123456789.+-inf") == "" {
			return nil
		}
	}
	return out
}

// ruleNeeds returns, per rule, its need flags and, per literal, the rules
// whose need it meets.
func ruleNeeds(conds []cond, nlits int) (needs []uint8, litRules [][]int32) {
	needs = make([]uint8, len(conds))
	litRules = make([][]int32, nlits)
	for i := range conds {
		n := conds[i].need()
		if !n.ok {
			continue
		}
		needs[i] = needLits
		if n.soft {
			needs[i] |= needSoft
		}
		for _, id := range n.ids {
			if l := litRules[id]; len(l) == 0 || l[len(l)-1] != int32(i) {
				litRules[id] = append(l, int32(i))
			}
		}
	}
	return needs, litRules
}

// markRules marks the rules whose need a literal found so far meets and
// returns the mark: rule i is marked when x.mark[i] equals it.
func (x *scratch) markRules(litRules [][]int32) uint32 {
	x.gen++
	if x.gen == 0 {
		clear(x.mark)
		x.gen = 1
	}
	for _, id := range x.hits {
		for _, r := range litRules[id] {
			x.mark[r] = x.gen
		}
	}
	return x.gen
}

// bodyEscaped reports whether the body text has a backslash, which JSON
// escapes begin with: then a body field's value need not appear in it as
// it is.
func (x *scratch) bodyEscaped() bool {
	if x.escaped == 0 {
		x.escaped = 1
		if strings.IndexByte(x.rec.bodyText(), '\\') >= 0 {
			x.escaped = 2
		}
	}
	return x.escaped == 2
}

// ruledOut reports whether the body field of m cannot hold because
// none of its literals is in the body text, which Classifier.run has
// scanned before trying any rule.
func (m *fieldMatcher) ruledOut(x *scratch) bool {
	if x.bodyEscaped() {
		return false
	}
	for _, id := range m.lits {
		if x.found[id]&inBody != 0 {
			return false
		}
	}
	return true
}
