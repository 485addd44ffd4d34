package classify

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestScanLanes checks that the scan in lanes finds the same literals at
// the same places as one walk over the whole text, on texts built from
// pieces of the literals so that matches cross the lanes' boundaries.
func TestScanLanes(t *testing.T) {
	lits := []string{"he", "she", "his", "hers", "timeout", "time", "out of memory", "memory", "rate limit", "limit"}
	anchor := make([]bool, len(lits))
	for i := range anchor {
		anchor[i] = true
	}
	a := newAutomaton(lits, anchor, nil)
	pieces := append(slices.Clone(lits), "x", " ", "Tim", "EOUT", "she", "rs", "mem", "ory", "ra", "te lim", "it")
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 2000 {
		var b strings.Builder
		for b.Len() < n%300 {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		lanes, one := newHits(len(lits)), newHits(len(lits))
		a.scan(text, inBody, 7, lanes)
		a.scanRange(text, 0, len(text), inBody, 7, one)
		if !slices.Equal(lanes.found, one.found) {
			t.Fatalf("%q: found %v, one walk found %v", text, lanes.found, one.found)
		}
		if got, want := occurrences(lanes), occurrences(one); !slices.Equal(got, want) {
			t.Fatalf("%q: occurrences %v, one walk %v", text, got, want)
		}
	}
}

// newHits returns empty literal hits for n literals.
func newHits(n int) *literalHits {
	return &literalHits{found: make([]uint8, n), matched: make([]uint8, 0)}
}

// occurrences returns the distinct occurrences found, sorted.
func occurrences(h *literalHits) []occurrence {
	occ := slices.Clone(h.occ)
	slices.SortFunc(occ, func(x, y occurrence) int {
		if x.pos != y.pos {
			return int(x.pos - y.pos)
		}
		return int(x.id - y.id)
	})
	return slices.Compact(occ)
}
