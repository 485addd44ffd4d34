package classify

// automaton is an Aho-Corasick matcher over every literal of a rule set.
// One scan of the error text, body and URL finds all literals at once, so a
// rule's `contains` costs a table look-up instead of a substring search, and
// regexps run only when a literal they require was found. The literals are
// lower-case and upper-case ASCII letters share their lower-case letter's
// class, so ASCII text needs no lower-casing before the scan.
type automaton struct {
	class  [256]uint8 // byte -> class; bytes in no literal share class 0
	nclass int
	// recip is 2^32/nclass rounded up: a premultiplied state s is state
	// s*recip>>32, without a division, exactly for every s below 2^32.
	recip uint64
	// next[state*nclass+class] is the complete transition table. Once built,
	// states are stored premultiplied by nclass, with outFlag set when the
	// target state has outputs.
	next   []int32
	maxLen int // length of the longest literal
	// depthStart[d] is the first (premultiplied) state of depth d or more,
	// for d up to maxLen+1.
	depthStart []int32

	// What output reads, laid out flat so that a literal found costs a few
	// cache lines instead of a chain of slice headers: outIDs[outStart[s]:
	// outStart[s+1]] are the literals that end in state s, suffixes
	// included; meta and posts hold each literal's length, anchor flag
	// (scans record where it occurs) and postings (the text matchers whose
	// contains has it).
	outStart []int32
	outIDs   []int32
	meta     []litMeta
	posts    []int32
}

// litMeta is what output needs of a literal.
type litMeta struct {
	posts0, posts1 int32 // its postings are posts[posts0:posts1]
	len            int32
	anchor         bool
}

// outFlag marks a transition into a state with outputs.
const outFlag = -1 << 31

// newAutomaton builds the matcher for lits; literal i gets id i. Scans
// record the positions of the literals marked in anchor, and mark the text
// matchers of postings[i] when literal i is found.
func newAutomaton(lits []string, anchor []bool, postings [][]int32) *automaton {
	if postings == nil {
		postings = make([][]int32, len(lits))
	}
	a := &automaton{nclass: 1, maxLen: 1}
	for _, l := range lits {
		a.maxLen = max(a.maxLen, len(l))
		for i := 0; i < len(l); i++ {
			if a.class[l[i]] == 0 {
				a.class[l[i]] = uint8(a.nclass)
				a.nclass++
			}
		}
	}
	// The trie, with -1 for missing edges.
	// The trie has at most one state per literal byte, plus the root.
	states := 1
	for _, l := range lits {
		states += len(l)
	}
	a.next = make([]int32, a.nclass, states*a.nclass)
	outs := make([][]int32, 1, states)
	for i := range a.next {
		a.next[i] = -1
	}
	for id, l := range lits {
		s := int32(0)
		for i := 0; i < len(l); i++ {
			e := int(s)*a.nclass + int(a.class[l[i]])
			if a.next[e] < 0 {
				a.next[e] = int32(len(outs))
				outs = append(outs, nil)
				for range a.nclass {
					a.next = append(a.next, -1)
				}
			}
			s = a.next[e]
		}
		outs[s] = append(outs[s], int32(id))
	}
	// Breadth first: fill missing edges from the failure state, and merge
	// the failure state's outputs (it is a suffix of this state).
	fail := make([]int32, len(outs))
	depth := make([]int, len(outs))
	queue := make([]int32, 1, len(outs))
	for c := 0; c < a.nclass; c++ {
		if t := a.next[c]; t < 0 {
			a.next[c] = 0
		} else {
			depth[t] = 1
			queue = append(queue, t)
		}
	}
	// queue starts with the root and ends up holding every state in
	// breadth-first order, which is used below to renumber the states.
	for head := 1; head < len(queue); head++ {
		s := queue[head]
		for c := 0; c < a.nclass; c++ {
			e := int(s)*a.nclass + c
			t := a.next[e]
			f := a.next[int(fail[s])*a.nclass+c]
			if t < 0 {
				a.next[e] = f
				continue
			}
			fail[t] = f
			depth[t] = depth[s] + 1
			if len(outs[f]) > 0 {
				outs[t] = append(outs[t][:len(outs[t]):len(outs[t])], outs[f]...)
			}
			queue = append(queue, t)
		}
	}
	// Renumber the states breadth first, so that the shallow states, where
	// a scan spends nearly all its time, share a few cache lines, then
	// premultiply and flag the transitions.
	n, order := a.nclass, queue
	newID := make([]int32, len(outs))
	for i, s := range order {
		newID[s] = int32(i)
	}
	next := make([]int32, len(a.next))
	out := make([][]int32, len(outs))
	for i, s := range order {
		out[i] = outs[s]
		for c := 0; c < n; c++ {
			t := a.next[int(s)*n+c]
			next[i*n+c] = newID[t] * int32(n)
			if len(outs[t]) > 0 {
				next[i*n+c] |= outFlag
			}
		}
	}
	a.next = next
	a.outStart = make([]int32, len(out)+1)
	for i, o := range out {
		a.outIDs = append(a.outIDs, o...)
		a.outStart[i+1] = int32(len(a.outIDs))
	}
	a.meta = make([]litMeta, len(lits))
	for id, l := range lits {
		m := &a.meta[id]
		m.len, m.anchor = int32(len(l)), anchor[id]
		m.posts0 = int32(len(a.posts))
		a.posts = append(a.posts, postings[id]...)
		m.posts1 = int32(len(a.posts))
	}
	a.recip = 1<<32/uint64(n) + 1
	a.depthStart = make([]int32, a.maxLen+2)
	i := 0
	for d := range a.depthStart {
		for i < len(order) && depth[order[i]] < d {
			i++
		}
		a.depthStart[d] = int32(i * n)
	}
	for c := 'A'; c <= 'Z'; c++ {
		a.class[c] = a.class[c+'a'-'A']
	}
	return a
}

// literalHits is what scans found in the regions of one record.
type literalHits struct {
	found   []uint8      // per literal: the regions it was found in
	hits    []int32      // the literals found, in order of discovery
	occ     []occurrence // where anchor literals occur
	matched []uint8      // per text matcher: the regions one of its literals was found in
}

// occurrence is where an anchor literal (see regexAlt) starts in the
// lower-cased text of a region.
type occurrence struct {
	id     int32
	region uint8
	pos    int32
}

// reset forgets the previous record's literals.
func (h *literalHits) reset() {
	for _, id := range h.hits {
		h.found[id] = 0
	}
	h.hits, h.occ = h.hits[:0], h.occ[:0]
	clear(h.matched)
}

// scan marks in h.found, with bit, every literal that occurs in text,
// folding ASCII case, appends the ids of literals found for the first time
// to h.hits, and records in h.occ where anchor literals start (text starts
// at offset base of its region). It reports whether text has bytes outside
// ASCII: then the caller has to scan its lower-cased form instead.
//
// A walk is a chain of dependent table loads, so a text is cut into four
// segments walked in lockstep, whose loads overlap. Each walk starts at the
// root at its segment's start, which finds every literal starting there or
// later, and runs past its segment's end only while a literal that started
// inside the segment may still be under way (see tail): usually a few
// bytes, where a fixed overlap would be the longest literal less one. A
// literal near a boundary can be reported by two walks: marking it twice
// changes nothing, and a second occurrence at the same place only makes
// an anchored regexp try that place again.
func (a *automaton) scan(text string, bit uint8, base int32, h *literalHits) (nonASCII bool) {
	const lanes = 4
	q := len(text) / lanes
	if q < minLane {
		return a.scanRange(text, 0, len(text), bit, base, h)
	}
	var s0, s1, s2, s3 int32
	var or byte
	next, class := a.next, &a.class
	for i := 0; i < q; i++ {
		b0, b1, b2, b3 := text[i], text[q+i], text[2*q+i], text[3*q+i]
		or |= b0 | b1 | b2 | b3
		s0 = next[s0+int32(class[b0])]
		s1 = next[s1+int32(class[b1])]
		s2 = next[s2+int32(class[b2])]
		s3 = next[s3+int32(class[b3])]
		if s0|s1|s2|s3 < 0 {
			if s0 < 0 {
				s0 &^= outFlag
				a.output(s0, i, bit, base, h)
			}
			if s1 < 0 {
				s1 &^= outFlag
				a.output(s1, q+i, bit, base, h)
			}
			if s2 < 0 {
				s2 &^= outFlag
				a.output(s2, 2*q+i, bit, base, h)
			}
			if s3 < 0 {
				s3 &^= outFlag
				a.output(s3, 3*q+i, bit, base, h)
			}
		}
	}
	for i := 4 * q; i < len(text); i++ {
		b := text[i]
		or |= b
		s3 = next[s3+int32(class[b])]
		if s3 < 0 {
			s3 &^= outFlag
			a.output(s3, i, bit, base, h)
		}
	}
	a.tail(text, s0, q, bit, base, h)
	a.tail(text, s1, 2*q, bit, base, h)
	a.tail(text, s2, 3*q, bit, base, h)
	return or >= 0x80
}

// minLane is the shortest segment worth a lane of its own.
const minLane = 16

// tail continues a walk that reached end in state s until every literal
// that started before end has been seen: the state's depth (states are
// numbered breadth first, so depth grows with the number) says where the
// longest literal prefix under way started.
func (a *automaton) tail(text string, s int32, end int, bit uint8, base int32, h *literalHits) {
	next, class := a.next, &a.class
	for i := end; i < len(text) && i-end < len(a.depthStart)-1 && s >= a.depthStart[i-end+1]; i++ {
		s = next[s+int32(class[text[i]])]
		if s < 0 {
			s &^= outFlag
			a.output(s, i, bit, base, h)
		}
	}
}

// scanRange is scan in one walk over text[from:to].
func (a *automaton) scanRange(text string, from, to int, bit uint8, base int32, h *literalHits) (nonASCII bool) {
	var s int32
	var or byte
	next, class := a.next, &a.class
	for i := from; i < to; i++ {
		b := text[i]
		or |= b
		s = next[s+int32(class[b])]
		if s < 0 {
			s &^= outFlag
			a.output(s, i, bit, base, h)
		}
	}
	return or >= 0x80
}

// output records the literals that end at text[i] in state s (premultiplied).
func (a *automaton) output(s int32, i int, bit uint8, base int32, h *literalHits) {
	st := uint64(s) * a.recip >> 32
	for _, id := range a.outIDs[a.outStart[st]:a.outStart[st+1]] {
		m := &a.meta[id]
		if f := h.found[id]; f&bit == 0 {
			if f == 0 {
				h.hits = append(h.hits, id)
			}
			h.found[id] = f | bit
			for _, t := range a.posts[m.posts0:m.posts1] {
				h.matched[t] |= bit
			}
		}
		if m.anchor {
			h.occ = append(h.occ, occurrence{id: id, region: bit, pos: base + int32(i+1) - m.len})
		}
	}
}
