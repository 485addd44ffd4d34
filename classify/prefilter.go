package classify

import "regexp/syntax"

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
