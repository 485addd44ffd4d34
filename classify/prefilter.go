package classify

import "regexp/syntax"

// requiredLiterals returns literals of which every match of the regular
// expression contains at least one, or nil when it cannot tell (then the
// regexp has to run on every text that reaches it). A regexp such as
// `exceeded (your )?(current )?quota` yields ["exceeded "], and
// `(timed out|timeout)` yields ["timed out", "timeout"].
func requiredLiterals(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	lits := required(re.Simplify())
	for _, l := range lits {
		if len(l) < 2 {
			return nil // a single byte prefilters nothing
		}
	}
	return lits
}

// required is requiredLiterals on a parsed expression.
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any required piece will do; the longest is the most selective.
		var best []string
		for _, sub := range re.Sub {
			if lits := required(sub); lits != nil && shortest(lits) > shortest(best) {
				best = lits
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			lits := required(sub)
			if lits == nil {
				return nil
			}
			all = append(all, lits...)
		}
		return all
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
