package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// TestFile is a rule test file: records and the classification each must
// get, in the style of promtool test rules.
type TestFile struct {
	Tests []TestCase
}

// TestCase is one record and its expected classification.
type TestCase struct {
	Name string
	// Record is the input record as JSON: the YAML mapping converted, or
	// the JSON object given as a string.
	Record json.RawMessage
	Want   Expect
	Pos    Position
}

// Expect is the expected classification of a test record.
type Expect struct {
	// Outcome is "failure" (the default) or "success".
	Outcome string
	// Category and Reason are required for failures and empty for
	// successes; RuleID, when set, must be the id of the deciding rule.
	Category Category
	Reason   string
	RuleID   string
}

var (
	testKeys = []string{"name", "record", "want"}
	wantKeys = []string{"outcome", "category", "reason", "rule_id"}
)

// ParseTests validates a rule test file. file names it in error messages.
// On any problem it returns a nil TestFile and every problem found, each an
// *Error.
func ParseTests(file string, b []byte) (*TestFile, []error) {
	p := &fileParser{file: file}
	tf := &TestFile{}
	if root := p.document(b, "rule test file"); root != nil {
		top := p.mapping(root, "a rule test file", []string{"tests"})
		if f, ok := top["tests"]; ok && !isNull(f.val) && p.is(f.val, yaml.SequenceNode, "tests must be a list of tests (- name: ...)") {
			seen := make(map[string]Position)
			for i, n := range f.val.Content {
				if tc, ok := p.testCase(n, i+1, seen); ok {
					tf.Tests = append(tf.Tests, tc)
				}
			}
		} else if !ok && root.Kind == yaml.MappingNode && len(p.errs) == 0 {
			p.errorf(root, `missing key "tests": a rule test file is a mapping with the key "tests" holding a list of tests`)
		}
	}
	if len(p.errs) > 0 {
		return nil, p.sorted()
	}
	return tf, nil
}

// testCase validates test n, the index-th of its file.
func (p *fileParser) testCase(n *yaml.Node, index int, seen map[string]Position) (TestCase, bool) {
	p.subject = "test " + strconv.Itoa(index)
	defer func() { p.subject = "" }()
	if name, ok := findKey(n, "name"); ok && name.val.Kind == yaml.ScalarNode && name.val.Value != "" {
		p.subject = fmt.Sprintf("test %q", name.val.Value)
	}
	nerr := len(p.errs)
	m := p.mapping(n, "test", testKeys)
	if m == nil {
		return TestCase{}, false
	}
	tc := TestCase{Pos: p.pos(n)}
	if f, ok := m["name"]; !ok {
		p.errorf(n, "missing name; say what the record shows, such as \"stability v2beta expired key\"")
	} else if name, ok := p.str(f.val, "name"); ok {
		if first, dup := seen[name]; dup {
			p.errorf(f.val, "duplicate test name; the first test with this name is at %s", first)
		}
		seen[name] = tc.Pos
		tc.Name = name
	}
	if f, ok := m["record"]; !ok {
		p.errorf(n, "missing record; give the log record as a mapping, such as {status: 401, provider: openai}")
	} else {
		tc.Record = p.record(f.val)
	}
	if f, ok := m["want"]; !ok {
		p.errorf(n, "missing want; such as {category: auth, reason: expired_credentials} or {outcome: success}")
	} else {
		tc.Want = p.expect(f.val)
	}
	return tc, len(p.errs) == nerr
}

// expect validates the want mapping of a test.
func (p *fileParser) expect(n *yaml.Node) Expect {
	m := p.mapping(n, "want", wantKeys)
	if m == nil {
		return Expect{}
	}
	e := Expect{Outcome: "failure"}
	if f, ok := m["outcome"]; ok {
		e.Outcome, _ = p.str(f.val, "outcome")
		if e.Outcome != "failure" && e.Outcome != "success" {
			if e.Outcome != "" {
				p.errorf(f.val, "bad outcome %q; write failure (the default) or success", e.Outcome)
			}
			return e
		}
	}
	if f, ok := m["rule_id"]; ok {
		if e.RuleID, ok = p.str(f.val, "rule_id"); ok && !validID.MatchString(e.RuleID) {
			p.errorf(f.val, "rule_id %q is not a rule id: ids hold lower-case letters, digits, '_', '.' and '-'", e.RuleID)
		}
	}
	cf, hasCat := m["category"]
	rf, hasReason := m["reason"]
	if e.Outcome == "success" {
		for _, f := range []field{cf, rf, m["rule_id"]} {
			if f.key != nil {
				p.errorf(f.key, "a success has no %s; remove it, or drop outcome: success", f.key.Value)
			}
		}
		return e
	}
	if !hasCat || !hasReason {
		p.errorf(n, "a failure needs category and reason, such as {category: auth, reason: expired_credentials}")
		return e
	}
	c, okc := p.str(cf.val, "category")
	r, okr := p.str(rf.val, "reason")
	if !okc || !okr {
		return e
	}
	e.Category, e.Reason = Category(c), r
	switch owner, known := ReasonCategory(r); {
	case Reasons(e.Category) == nil:
		p.errorf(cf.val, "unknown category %q; known: %s", c, strings.Join(categoryNames(), ", "))
	case !known:
		p.errorf(rf.val, "unknown reason %q in category %s; known: %s", r, c, strings.Join(Reasons(e.Category), ", "))
	case owner != e.Category:
		p.errorf(rf.val, "reason %s belongs to category %s, not %s", r, owner, c)
	}
	return e
}

// categoryNames lists every category, unknown included.
func categoryNames() []string {
	var s []string
	for _, c := range Categories() {
		s = append(s, string(c))
	}
	return s
}

// record converts a test record to JSON: a YAML mapping (numbers stay
// numbers, strings strings, mappings objects), or a string holding a JSON
// object, such as a log line pasted as it is.
func (p *fileParser) record(n *yaml.Node) json.RawMessage {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		b := bytes.TrimSpace([]byte(n.Value))
		if !json.Valid(b) || b[0] != '{' {
			p.errorf(n, "record string must hold one JSON object; or write the record as a YAML mapping")
			return nil
		}
		return b
	}
	if !p.is(n, yaml.MappingNode, "record must be a mapping, such as {status: 401, provider: openai}, or a string holding a JSON object") {
		return nil
	}
	return p.appendJSON(nil, n)
}

// appendJSON appends YAML node n as JSON.
func (p *fileParser) appendJSON(dst []byte, n *yaml.Node) []byte {
	switch n.Kind {
	case yaml.MappingNode:
		dst = append(dst, '{')
		seen := make(map[string]bool, len(n.Content)/2)
		first := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if !p.is(k, yaml.ScalarNode, "record keys must be plain values, not lists or mappings") {
				continue
			}
			if seen[k.Value] {
				p.errorf(k, "duplicate key %q in record", k.Value)
				continue
			}
			seen[k.Value] = true
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendString(dst, k.Value)
			dst = append(dst, ':')
			dst = p.appendJSON(dst, v)
		}
		return append(dst, '}')
	case yaml.SequenceNode:
		dst = append(dst, '[')
		for i, v := range n.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = p.appendJSON(dst, v)
		}
		return append(dst, ']')
	case yaml.ScalarNode:
		return p.appendScalar(dst, n)
	}
	return append(dst, "null"...) // an alias, reported by checkAliases
}

// appendScalar appends a YAML scalar as a JSON null, boolean, number or
// string. Timestamps and other tags stay strings, as written.
func (p *fileParser) appendScalar(dst []byte, n *yaml.Node) []byte {
	switch n.ShortTag() {
	case "!!null":
		return append(dst, "null"...)
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return strconv.AppendBool(dst, b)
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return strconv.AppendInt(dst, i, 10)
		}
		var u uint64
		if n.Decode(&u) == nil {
			return strconv.AppendUint(dst, u, 10)
		}
		p.errorf(n, "integer %s is out of range", n.Value)
		return append(dst, '0')
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			if math.IsInf(f, 0) || math.IsNaN(f) {
				p.errorf(n, "%s is not a JSON number; quote it to send a string", n.Value)
				return append(dst, '0')
			}
			if json.Valid([]byte(n.Value)) {
				return append(dst, n.Value...) // keep the number as written
			}
			return strconv.AppendFloat(dst, f, 'g', -1, 64)
		}
	}
	return appendString(dst, n.Value)
}

// appendString appends s as a JSON string without escaping <, > and &, so
// that HTML bodies stay readable.
func appendString(dst []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// DefaultTests returns the rule tests shipped with the default pack
// (rules/default/tests), embedded in the binary so that an installed ingest
// can run them, in file name order.
func DefaultTests() ([]*TestFile, []error) {
	names, err := fs.Glob(defaultFS, "default/tests/*.yaml")
	if err != nil {
		return nil, []error{err}
	}
	var files []*TestFile
	var errs []error
	for _, name := range names {
		b, err := defaultFS.ReadFile(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tf, e := ParseTests(defaultPrefix+name, b)
		errs = append(errs, e...)
		if tf != nil {
			files = append(files, tf)
		}
	}
	return files, errs
}
