package rules

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileParser walks the yaml.Node tree of one file and collects every
// problem as an *Error, so that a user sees all mistakes at once.
type fileParser struct {
	file    string
	subject string // the rule or test being read, for messages
	errs    []error
}

// errorf records a problem at node n.
func (p *fileParser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, &Error{
		Pos:     p.pos(n),
		Subject: p.subject,
		Msg:     fmt.Sprintf(format, args...),
	})
}

// sorted returns the errors in the order of their positions in the file.
func (p *fileParser) sorted() []error {
	slices.SortStableFunc(p.errs, func(a, b error) int {
		pa, pb := a.(*Error).Pos, b.(*Error).Pos
		return cmp.Or(cmp.Compare(pa.Line, pb.Line), cmp.Compare(pa.Column, pb.Column))
	})
	return p.errs
}

func (p *fileParser) pos(n *yaml.Node) Position {
	return Position{File: p.file, Line: n.Line, Column: n.Column}
}

// yamlLine splits the "yaml: line N: problem" errors of the YAML library.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document decodes b and returns its top-level node, or nil when b holds no
// document or is not YAML. kind names the file kind in messages.
func (p *fileParser) document(b []byte, kind string) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			p.syntaxError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		p.errorf(&extra, "a %s holds one YAML document; remove the second one (after ---) or move it to its own file", kind)
	case !errors.Is(err, io.EOF):
		p.syntaxError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	p.checkAliases(doc.Content[0])
	return doc.Content[0]
}

// syntaxError records a YAML syntax error. The library reports the line
// but not the column.
func (p *fileParser) syntaxError(err error) {
	e := &Error{Pos: Position{File: p.file}, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Pos.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	}
	p.errs = append(p.errs, e)
}

// checkAliases rejects YAML aliases and merge keys: following them could
// expand a small file into an exponentially large tree.
func (p *fileParser) checkAliases(n *yaml.Node) {
	if n.Kind == yaml.AliasNode {
		p.errorf(n, "YAML aliases (*%s) are not supported; repeat the value instead", n.Value)
		return
	}
	for _, c := range n.Content {
		p.checkAliases(c)
	}
}

// field is one key and its value in a YAML mapping.
type field struct{ key, val *yaml.Node }

// mapping returns the fields of mapping n by key. It reports a node that is
// not a mapping, keys that are not in known (with the known keys) and
// duplicate keys. what names n in messages ("rule", "condition").
func (p *fileParser) mapping(n *yaml.Node, what string, known []string) map[string]field {
	if !p.is(n, yaml.MappingNode, what+" must be a mapping (key: value)") {
		return nil
	}
	m := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			if k.Kind != yaml.AliasNode {
				p.errorf(k, "%s keys must be plain words", what)
			}
			continue
		}
		if prev, ok := m[k.Value]; ok {
			p.errorf(k, "duplicate key %q in %s; the first is at %d:%d", k.Value, what, prev.key.Line, prev.key.Column)
			continue
		}
		if !slices.Contains(known, k.Value) {
			p.errorf(k, "unknown key %q in %s%s; known: %s", k.Value, what, suggest(k.Value, known), strings.Join(known, ", "))
			continue
		}
		m[k.Value] = field{k, v}
	}
	return m
}

// is reports whether n has the wanted kind, and records msg if not.
// Aliases were reported by checkAliases and are not reported again.
func (p *fileParser) is(n *yaml.Node, kind yaml.Kind, msg string) bool {
	if n.Kind == kind {
		return true
	}
	if n.Kind != yaml.AliasNode {
		p.errorf(n, "%s", msg)
	}
	return false
}

// isNull reports whether n is an empty or null YAML value.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// str returns the text of scalar n, which must not be null or empty.
func (p *fileParser) str(n *yaml.Node, key string) (string, bool) {
	if !p.is(n, yaml.ScalarNode, key+" must be a single value, not a list or mapping") {
		return "", false
	}
	if isNull(n) || n.Value == "" {
		p.errorf(n, "%s is empty", key)
		return "", false
	}
	return n.Value, true
}

// scalars returns the elements of sequence n, or scalar n as a list of
// one, reporting elements that are not non-empty scalars. ok is false if
// anything was reported.
func (p *fileParser) scalars(n *yaml.Node, key string) (items []*yaml.Node, ok bool) {
	items = []*yaml.Node{n}
	switch n.Kind {
	case yaml.SequenceNode:
		items = n.Content
		if len(items) == 0 {
			p.errorf(n, "%s is an empty list; give at least one value", key)
			return nil, false
		}
	case yaml.MappingNode:
		p.errorf(n, "%s must be a list of values, not a mapping", key)
		return nil, false
	}
	out := items[:0:0]
	for _, it := range items {
		if it.Kind == yaml.MappingNode && len(it.Content) == 2 && it.Content[0].Kind == yaml.ScalarNode && it.Content[1].Kind == yaml.ScalarNode {
			// [curl: (5)] is the mapping {"curl": "(5)"} in YAML.
			p.errorf(it, `%s: quote "%s: %s"; unquoted, ": " makes it a mapping`, key, it.Content[0].Value, it.Content[1].Value)
			continue
		}
		if !p.is(it, yaml.ScalarNode, key+" must be a list of values, not of lists or mappings") {
			continue
		}
		if isNull(it) || it.Value == "" {
			p.errorf(it, "empty value in %s would match everything; remove it", key)
			continue
		}
		out = append(out, it)
	}
	return out, len(out) == len(items)
}

// strList returns the lower-cased values of scalars(n).
func (p *fileParser) strList(n *yaml.Node, key string) []string {
	items, _ := p.scalars(n, key)
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = strings.ToLower(it.Value)
	}
	return out
}

// boolean returns the value of n, which must be true or false.
func (p *fileParser) boolean(n *yaml.Node, key string) (bool, bool) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		p.errorf(n, "%s must be true or false", key)
		return false, false
	}
	return b, true
}

// integer returns the value of n, which must be an integer.
func (p *fileParser) integer(n *yaml.Node, key string) (int, bool) {
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		p.errorf(n, "%s must be an integer, such as 100 or -10", key)
		return 0, false
	}
	return i, true
}

// suggest returns ` (did you mean "x"?)` for the known key nearest to key
// when it is a likely typo, else "".
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
