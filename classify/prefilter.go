package classify

import (
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// requiredLiterals returns groups of literals such that every match of the
// regular expression contains at least one literal of each group, or nil
// when it cannot tell (then the regexp has to run on every text that
// reaches it). `\b(token|key)s?\b.{0,40}\bexpired` yields
// [[token key] [expired]]: the regexp runs only on text that has "expired"
// and one of "token" and "key".
func requiredLiterals(expr string) [][]string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	var out [][]string
	for _, g := range required(re.Simplify()) {
		if shortest(g) >= 2 { // a single byte prefilters nothing
			out = append(out, g)
		}
	}
	return out
}

// alternatives splits a valid regular expression at its top-level
// alternation (also inside a capturing group around the whole): a text
// matches the expression exactly when it matches one of the alternatives.
func alternatives(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return []string{expr}
	}
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpAlternate {
		return []string{expr}
	}
	out := make([]string, len(re.Sub))
	for i, sub := range re.Sub {
		out[i] = sub.String()
	}
	return out
}

// required is requiredLiterals on a parsed expression, without the
// length filter.
func required(re *syntax.Regexp) [][]string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return [][]string{{string(re.Rune)}}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		var all [][]string
		for _, sub := range re.Sub {
			all = append(all, required(sub)...)
		}
		return all
	case syntax.OpAlternate:
		// One group: the most selective group of each alternative.
		var union []string
		for _, sub := range re.Sub {
			var best []string
			for _, g := range required(sub) {
				if shortest(g) > shortest(best) {
					best = g
				}
			}
			if best == nil {
				return nil
			}
			union = append(union, best...)
		}
		return [][]string{union}
	}
	return nil
}

// shortest returns the length of the shortest literal, 0 for none.
func shortest(lits []string) int {
	if len(lits) == 0 {
		return 0
	}
	n := len(lits[0])
	for _, l := range lits[1:] {
		n = min(n, len(l))
	}
	return n
}

// anchorPlan says where a regexp alternative can start matching: every
// match begins, after the zero-width assertions asserts (\b, \B, \A, ^),
// with one of the literals starts. The classifier then runs anchored (the
// alternative without those assertions, anchored with \A) only at the
// positions where the scan saw a start literal, instead of trying every
// position of the text: Go's regexp has no literal prefix to skip to in
// `\b(invalid|malformed)\b...`, and tries each one.
//
// A leading `(\A|[^a-z])`, the way to say "at a word start" that also
// counts digits and '_' as separators, is an assertion too: after, when
// set, holds the bytes that may come before the start literal (unless it
// is at the start of the text).
type anchorPlan struct {
	starts   []string
	asserts  []syntax.Op
	after    *[256]bool
	anchored string
}

// maxStarts bounds the start literals of a plan.
const maxStarts = 64

// planAnchor returns the anchor plan of a regexp, if it has one.
func planAnchor(expr string) (anchorPlan, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return anchorPlan{}, false
	}
	seq := flatten(re)
	var p anchorPlan
	for len(seq) > 0 && isAssertion(seq[0].Op) {
		p.asserts = append(p.asserts, seq[0].Op)
		seq = seq[1:]
	}
	if len(p.asserts) == 0 && len(seq) > 0 {
		if after, ok := startOrAfter(seq[0]); ok {
			p.after = after
			seq = seq[1:]
		}
	}
	p.starts = startLiterals(seq)
	if p.starts == nil || shortest(p.starts) < 2 {
		return anchorPlan{}, false
	}
	anchored := &syntax.Regexp{Op: syntax.OpConcat, Sub: append([]*syntax.Regexp{{Op: syntax.OpBeginText}}, seq...)}
	p.anchored = anchored.String()
	return p, true
}

// startOrAfter recognises `(\A|C)` for a character class C that holds
// every rune outside ASCII, and returns the bytes that C matches: a byte
// of a multi-byte rune, or of invalid UTF-8 (U+FFFD), is then always in C,
// so looking at the one byte before a position tells whether C matches the
// rune that ends there.
func startOrAfter(re *syntax.Regexp) (*[256]bool, bool) {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpAlternate || len(re.Sub) != 2 {
		return nil, false
	}
	begin, class := re.Sub[0], re.Sub[1]
	if begin.Op != syntax.OpBeginText {
		begin, class = class, begin
	}
	if begin.Op != syntax.OpBeginText || class.Op != syntax.OpCharClass {
		return nil, false
	}
	var after [256]bool
	for c := range after {
		after[c] = c >= utf8.RuneSelf
	}
	covered := false // [0x80, MaxRune] is in the class
	r := class.Rune
	for i := 0; i+1 < len(r); i += 2 {
		lo, hi := r[i], r[i+1]
		if lo <= utf8.RuneSelf && hi == unicode.MaxRune {
			covered = true
		}
		for c := max(lo, 0); c <= min(hi, utf8.RuneSelf-1); c++ {
			after[c] = true
		}
	}
	if !covered {
		return nil, false
	}
	return &after, true
}

// isAssertion reports whether op is a zero-width assertion that
// assertionsHold can check.
func isAssertion(op syntax.Op) bool {
	switch op {
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpBeginText, syntax.OpBeginLine:
		return true
	}
	return false
}

// assertionsHold checks zero-width assertions at pos of text, looking at
// the byte before as the regexp would.
func assertionsHold(ops []syntax.Op, text []byte, pos int) bool {
	for _, op := range ops {
		before := pos > 0 && isWordByte(text[pos-1])
		after := pos < len(text) && isWordByte(text[pos])
		switch op {
		case syntax.OpWordBoundary:
			if before == after {
				return false
			}
		case syntax.OpNoWordBoundary:
			if before != after {
				return false
			}
		case syntax.OpBeginText:
			if pos != 0 {
				return false
			}
		case syntax.OpBeginLine:
			if pos != 0 && text[pos-1] != '\n' {
				return false
			}
		}
	}
	return true
}

// isWordByte reports whether b is a word character for \b (ASCII only, as
// in Go's regexp).
func isWordByte(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// flatten returns the elements of a concatenation, or re alone.
func flatten(re *syntax.Regexp) []*syntax.Regexp {
	if re.Op == syntax.OpConcat {
		return re.Sub
	}
	return []*syntax.Regexp{re}
}

// startLiterals returns literals one of which begins every match of the
// sequence seq, or nil when there are none.
func startLiterals(seq []*syntax.Regexp) []string {
	if len(seq) == 0 {
		return nil
	}
	first := seq[0]
	switch first.Op {
	case syntax.OpLiteral:
		if first.Flags&syntax.FoldCase != 0 {
			return nil
		}
		lit := string(first.Rune)
		more := startLiterals(seq[1:])
		if more == nil || len(more) > maxStarts {
			return []string{lit}
		}
		out := make([]string, len(more))
		for i, m := range more {
			out[i] = lit + m
		}
		return out
	case syntax.OpCapture, syntax.OpPlus:
		return startLiterals(flatten(first.Sub[0]))
	case syntax.OpRepeat:
		if first.Min >= 1 {
			return startLiterals(flatten(first.Sub[0]))
		}
	case syntax.OpConcat:
		return startLiterals(first.Sub)
	case syntax.OpAlternate:
		var out []string
		for _, sub := range first.Sub {
			lits := startLiterals(flatten(sub))
			if lits == nil {
				return nil
			}
			out = append(out, lits...)
		}
		if len(out) > maxStarts {
			return nil
		}
		return out
	}
	return nil
}
