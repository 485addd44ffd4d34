package rules

import (
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// defaultFS holds the default rule pack. The whole directory is embedded
// so that the build does not depend on it holding *.yaml files.
//
//go:embed default
var defaultFS embed.FS

// defaultPrefix is how positions in the embedded pack are shown: the path
// of the files in the source tree.
const defaultPrefix = "rules/"

var (
	ruleKeys  = []string{"id", "category", "reason", "remediation", "retryable", "priority", "match"}
	condKeys  = []string{"status", "error", "body", "text", "url", "field", "provider", "host", "method", "all", "any", "not"}
	textKeys  = []string{"contains", "regex"}
	fieldKeys = []string{"path", "in", "equals", "contains", "regex", "exists"}
	validID   = regexp.MustCompile(`^[a-z0-9_.-]+$`)
)

// Parse validates one rule file. file names it in error messages. On any
// problem it returns a nil RuleSet and every problem found, each an *Error.
func Parse(file string, b []byte) (*RuleSet, []error) {
	l := newLoader()
	l.add(file, b)
	return l.finish()
}

// ParseFile reads and validates the rule file at path.
func ParseFile(path string) (*RuleSet, []error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{err}
	}
	return Parse(path, b)
}

// Load returns the default pack followed by the rule files (*.yaml and
// *.yml, sorted by name, not recursive) of dir. With replaceDefaults the
// default pack is left out and dir is required. dir == "" loads the default
// pack only. Ids must be unique across all files.
func Load(dir string, replaceDefaults bool) (*RuleSet, []error) {
	if dir == "" && replaceDefaults {
		return nil, []error{errors.New("replacing the default rules needs a rules directory")}
	}
	l := newLoader()
	if !replaceDefaults {
		if err := l.addDefaults(); err != nil {
			return nil, []error{err}
		}
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, []error{fmt.Errorf("reading rules: %w", err)}
		}
		n := 0
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
				continue
			}
			name := filepath.Join(dir, e.Name())
			b, err := os.ReadFile(name)
			if err != nil {
				return nil, []error{fmt.Errorf("reading rules: %w", err)}
			}
			l.add(name, b)
			n++
		}
		if n == 0 {
			return nil, []error{fmt.Errorf("%s: no rule files (*.yaml, *.yml) in the directory", dir)}
		}
	}
	return l.finish()
}

// Default returns the embedded default rule pack, parsed once. The result
// is shared: callers must not modify it. It panics if the shipped pack is
// invalid, which its tests rule out.
func Default() *RuleSet { return defaultSet() }

var defaultSet = sync.OnceValue(func() *RuleSet {
	rs, errs := Load("", false)
	if len(errs) > 0 {
		panic("rules: invalid default pack: " + errors.Join(errs...).Error())
	}
	return rs
})

// loader accumulates the rules of several files in load order.
type loader struct {
	rules []Rule
	seen  map[string]Position // rule id -> where it was first defined
	errs  []error
	sum   hash.Hash
}

func newLoader() *loader {
	return &loader{seen: make(map[string]Position), sum: sha256.New()}
}

// addDefaults adds the files of the embedded default pack, sorted by name.
func (l *loader) addDefaults() error {
	names, err := fs.Glob(defaultFS, "default/*.yaml")
	if err != nil {
		return err
	}
	for _, name := range names {
		b, err := defaultFS.ReadFile(name)
		if err != nil {
			return err
		}
		l.add(defaultPrefix+name, b)
	}
	return nil
}

// add parses one file and appends its rules.
func (l *loader) add(file string, b []byte) {
	l.sum.Write([]byte(path.Base(filepath.ToSlash(file))))
	l.sum.Write([]byte{0})
	l.sum.Write(b)
	l.sum.Write([]byte{0})

	p := &fileParser{file: file}
	defer func() { l.errs = append(l.errs, p.sorted()...) }()
	root := p.document(b, "rule file")
	if root == nil {
		return
	}
	if t, ok := findKey(root, "tests"); ok {
		p.errorf(t.key, "this is a rule test file (it has tests:); keep rule tests out of the rules directory and run them with ingest rules test")
		return
	}
	top := p.mapping(root, "a rule file", []string{"rules"})
	if _, ok := top["rules"]; !ok && root.Kind == yaml.MappingNode && len(p.errs) == 0 {
		p.errorf(root, `missing key "rules": a rule file is a mapping with the key "rules" holding a list of rules`)
		return
	}
	list := top["rules"].val
	if list == nil || isNull(list) || !p.is(list, yaml.SequenceNode, "rules must be a list of rules (- id: ...)") {
		return
	}
	for i, n := range list.Content {
		l.rule(p, n, i+1)
	}
}

// finish sorts the rules into precedence order and returns the set, or the
// errors when there were any.
func (l *loader) finish() (*RuleSet, []error) {
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	slices.SortStableFunc(l.rules, func(a, b Rule) int { return cmp.Compare(b.Priority, a.Priority) })
	return &RuleSet{
		Rules:   l.rules,
		Version: "sha256:" + hex.EncodeToString(l.sum.Sum(nil))[:12],
	}, nil
}

// rule validates rule n, the index-th of its file, and appends it.
func (l *loader) rule(p *fileParser, n *yaml.Node, index int) {
	p.subject = "rule " + strconv.Itoa(index)
	defer func() { p.subject = "" }()
	if id, ok := findKey(n, "id"); ok && id.val.Kind == yaml.ScalarNode && id.val.Value != "" {
		p.subject = fmt.Sprintf("rule %q", id.val.Value)
	}
	nerr := len(p.errs)
	m := p.mapping(n, "rule", ruleKeys)
	if m == nil {
		return
	}
	r := Rule{Pos: p.pos(n)}

	if f, ok := m["id"]; !ok {
		p.errorf(n, `missing id; give the rule a unique id such as "openai.insufficient_quota"`)
	} else if id, ok := p.str(f.val, "id"); ok {
		switch first, dup := l.seen[id]; {
		case !validID.MatchString(id):
			p.errorf(f.val, "id %q may only hold lower-case letters, digits, '_', '.' and '-'", id)
		case dup:
			p.errorf(f.val, "duplicate id; the first rule with this id is at %s; ids must be unique across all rule files", first)
		default:
			l.seen[id] = r.Pos
		}
		r.ID = id
	}

	catOK := false
	if f, ok := m["category"]; !ok {
		p.errorf(n, "missing category; one of %s", ruleCategories())
	} else if c, ok := p.str(f.val, "category"); ok {
		r.Category = Category(c)
		switch {
		case r.Category == CategoryUnknown:
			p.errorf(f.val, "category unknown is reserved for failures no rule matched; use one of %s", ruleCategories())
		case Reasons(r.Category) == nil:
			p.errorf(f.val, "unknown category %q; known: %s", c, ruleCategories())
		default:
			catOK = true
		}
	}

	reasonOK := false
	if f, ok := m["reason"]; !ok {
		if catOK {
			p.errorf(n, "missing reason; for category %s one of %s", r.Category, strings.Join(Reasons(r.Category), ", "))
		} else {
			p.errorf(n, "missing reason")
		}
	} else if reason, ok := p.str(f.val, "reason"); ok {
		r.Reason = reason
		owner, known := ReasonCategory(reason)
		switch {
		case !known && catOK:
			p.errorf(f.val, "unknown reason %q in category %s; known: %s", reason, r.Category, strings.Join(Reasons(r.Category), ", "))
		case !known:
			var known []string
			for _, c := range Categories() {
				if c != CategoryUnknown {
					known = append(known, Reasons(c)...)
				}
			}
			p.errorf(f.val, "unknown reason %q; known: %s", reason, strings.Join(known, ", "))
		case owner == CategoryUnknown:
			p.errorf(f.val, "reason %s is reserved for failures no rule matched", reason)
		case catOK && owner != r.Category:
			p.errorf(f.val, "reason %s belongs to category %s, not %s", reason, owner, r.Category)
		default:
			reasonOK = true
		}
	}

	if f, ok := m["remediation"]; !ok {
		p.errorf(n, "missing remediation; write one or two sentences naming the step that fixes it (rotate the key, raise the timeout, back off and retry)")
	} else if f.val.Kind == yaml.ScalarNode && strings.TrimSpace(f.val.Value) == "" {
		p.errorf(f.val, "empty remediation; write one or two sentences naming the step that fixes it")
	} else if s, ok := p.str(f.val, "remediation"); ok {
		r.Remediation = strings.TrimSpace(s)
	}

	if reasonOK {
		r.Retryable = DefaultRetryable(r.Category, r.Reason)
	}
	if f, ok := m["retryable"]; ok {
		r.Retryable, _ = p.boolean(f.val, "retryable")
	}
	if f, ok := m["priority"]; ok {
		r.Priority, _ = p.integer(f.val, "priority")
	}

	if f, ok := m["match"]; !ok || isNull(f.val) {
		p.errorf(n, "missing match; give one condition with any of %s", strings.Join(condKeys, ", "))
	} else {
		r.Match = p.condition(f.val)
	}

	if len(p.errs) == nerr {
		l.rules = append(l.rules, r)
	}
}

// findKey returns the first field named key in mapping n.
func findKey(n *yaml.Node, key string) (field, bool) {
	if n.Kind != yaml.MappingNode {
		return field{}, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return field{n.Content[i], n.Content[i+1]}, true
		}
	}
	return field{}, false
}

// ruleCategories lists the categories a rule may use.
func ruleCategories() string {
	var s []string
	for _, c := range Categories() {
		if c != CategoryUnknown {
			s = append(s, string(c))
		}
	}
	return strings.Join(s, ", ")
}

// condition validates condition n.
func (p *fileParser) condition(n *yaml.Node) Condition {
	var c Condition
	m := p.mapping(n, "condition", condKeys)
	if m == nil {
		return c
	}
	if len(n.Content) == 0 {
		p.errorf(n, "empty condition; give at least one of %s", strings.Join(condKeys, ", "))
		return c
	}
	if f, ok := m["status"]; ok {
		c.Status = p.status(f.val)
	}
	c.Error = p.textMatch(m, "error")
	c.Body = p.textMatch(m, "body")
	c.Text = p.textMatch(m, "text")
	c.URL = p.textMatch(m, "url")
	if f, ok := m["field"]; ok {
		c.Field = p.fieldMatch(f.val)
	}
	if f, ok := m["provider"]; ok {
		c.Provider = p.strList(f.val, "provider")
	}
	if f, ok := m["host"]; ok {
		c.Host = p.strList(f.val, "host")
	}
	if f, ok := m["method"]; ok {
		c.Method = p.strList(f.val, "method")
	}
	c.All = p.conditions(m, "all")
	c.Any = p.conditions(m, "any")
	if f, ok := m["not"]; ok {
		not := p.condition(f.val)
		c.Not = &not
	}
	return c
}

// conditions validates the list of conditions under key ("all", "any").
func (p *fileParser) conditions(m map[string]field, key string) []Condition {
	f, ok := m[key]
	if !ok || !p.is(f.val, yaml.SequenceNode, key+" must be a list of conditions (- status: ...)") {
		return nil
	}
	if len(f.val.Content) == 0 {
		p.errorf(f.val, "%s is an empty list; give at least one condition", key)
		return nil
	}
	out := make([]Condition, len(f.val.Content))
	for i, n := range f.val.Content {
		out[i] = p.condition(n)
	}
	return out
}

// statusClass and statusRange are the textual status forms: "4xx", "500-599".
var (
	statusClass = regexp.MustCompile(`^([1-5])xx$`)
	statusRange = regexp.MustCompile(`^(\d{3})-(\d{3})$`)
)

// status validates a status list: codes, classes, ranges and "none".
func (p *fileParser) status(n *yaml.Node) []StatusRange {
	items, _ := p.scalars(n, "status")
	out := make([]StatusRange, 0, len(items))
	for _, it := range items {
		s := strings.ToLower(it.Value)
		var r StatusRange
		if m := statusClass.FindStringSubmatch(s); m != nil {
			d := int(m[1][0] - '0')
			r = StatusRange{d * 100, d*100 + 99}
		} else if m := statusRange.FindStringSubmatch(s); m != nil {
			r.Lo, _ = strconv.Atoi(m[1])
			r.Hi, _ = strconv.Atoi(m[2])
		} else if code, err := strconv.Atoi(s); err == nil && len(s) == 3 {
			r = StatusRange{code, code}
		} else if s != "none" {
			p.errorf(it, `bad status %q; write a code (404), a class ("4xx"), a range ("500-599") or "none" for no response`, it.Value)
			continue
		}
		if s != "none" && (r.Lo < 100 || r.Hi > 599 || r.Lo > r.Hi) {
			p.errorf(it, "bad status %q; codes run from 100 to 599, ranges from low to high", it.Value)
			continue
		}
		out = append(out, r)
	}
	return out
}

// textMatch validates the text matcher under key, if present.
func (p *fileParser) textMatch(m map[string]field, key string) *TextMatch {
	f, ok := m[key]
	if !ok {
		return nil
	}
	tm := p.mapping(f.val, key, textKeys)
	if tm == nil {
		return nil
	}
	var t TextMatch
	if g, ok := tm["contains"]; ok {
		t.Contains = p.strList(g.val, "contains")
	}
	if g, ok := tm["regex"]; ok {
		t.Regex = p.regex(g.val)
	}
	if len(f.val.Content) == 0 {
		p.errorf(f.val, "%s needs contains or regex", key)
	}
	return &t
}

// fieldMatch validates a field matcher.
func (p *fileParser) fieldMatch(n *yaml.Node) *FieldMatch {
	m := p.mapping(n, "field", fieldKeys)
	if m == nil {
		return nil
	}
	var fm FieldMatch
	if f, ok := m["path"]; !ok {
		p.errorf(n, `field needs a path, a gjson path such as "error.code"`)
	} else {
		fm.Path, _ = p.str(f.val, "path")
	}
	if f, ok := m["in"]; ok {
		switch in, _ := p.str(f.val, "in"); in {
		case "body":
			fm.InBody = true
		case "record", "":
		default:
			p.errorf(f.val, "bad in %q; write body (the response body parsed as JSON) or record (the default)", in)
		}
	}
	if f, ok := m["equals"]; ok {
		fm.Equals = p.strList(f.val, "equals")
	}
	if f, ok := m["contains"]; ok {
		fm.Contains = p.strList(f.val, "contains")
	}
	if f, ok := m["regex"]; ok {
		fm.Regex = p.regex(f.val)
	}
	if f, ok := m["exists"]; ok {
		if b, ok := p.boolean(f.val, "exists"); ok {
			fm.Exists = &b
			if !b && (fm.Equals != nil || fm.Contains != nil || fm.Regex != "") {
				p.errorf(f.val, "exists: false cannot be combined with equals, contains or regex: an absent field has no value")
			}
		}
	}
	_, e := m["equals"]
	_, c := m["contains"]
	_, r := m["regex"]
	_, x := m["exists"]
	if !e && !c && !r && !x && len(m) == len(n.Content)/2 { // else an unknown key was reported
		p.errorf(n, "field needs equals, contains, regex or exists")
	}
	return &fm
}

// regex validates an RE2 pattern that is matched against lower-cased text.
func (p *fileParser) regex(n *yaml.Node) string {
	re, ok := p.str(n, "regex")
	if !ok {
		return ""
	}
	if _, err := regexp.Compile(re); err != nil {
		p.errorf(n, "bad regex: %s; the syntax is RE2, https://golang.org/s/re2syntax", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return ""
	}
	if r, ok := upperOutsideEscapes(re); ok {
		p.errorf(n, "regex %q has the upper-case letter %q; regexes are matched against lower-cased text: write it in lower case", re, r)
		return ""
	}
	return re
}

// upperOutsideEscapes returns the first upper-case letter of regex re that
// is matched literally. Escapes (\S, \W, \pL, \p{Greek}, \x{1F}), flags
// such as (?U) and group names (?P<Name>) are skipped; text quoted by
// \Q...\E is literal and checked. re must compile.
func upperOutsideEscapes(re string) (rune, bool) {
	for i := 0; i < len(re); {
		r, size := utf8.DecodeRuneInString(re[i:])
		switch {
		case r == '\\' && i+1 < len(re):
			c, csize := utf8.DecodeRuneInString(re[i+1:])
			i += 1 + csize
			switch c {
			case 'Q':
				end := strings.Index(re[i:], `\E`)
				if end < 0 {
					end = len(re) - i
				}
				if u, ok := firstUpper(re[i : i+end]); ok {
					return u, true
				}
				i += end
			case 'p', 'P', 'x':
				switch {
				case i < len(re) && re[i] == '{':
					i += strings.IndexByte(re[i:], '}') + 1
				case c == 'x':
					i += 2 // two hex digits: \xAF
				default:
					i++ // one-letter class name: \pL
				}
			}
		case strings.HasPrefix(re[i:], "(?"):
			// Flags "(?i)", "(?U:" or a group name "(?P<Name>": skip to
			// the end of the flags or name.
			end := strings.IndexAny(re[i:], ":)>")
			i += end + 1
		default:
			if unicode.IsUpper(r) {
				return r, true
			}
			i += size
		}
	}
	return 0, false
}

// firstUpper returns the first upper-case letter of s.
func firstUpper(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsUpper(r) {
			return r, true
		}
	}
	return 0, false
}
