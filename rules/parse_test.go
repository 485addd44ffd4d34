package rules

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParseGood(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			rs, errs := ParseFile(f)
			if len(errs) > 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			if !strings.HasPrefix(rs.Version, "sha256:") || len(rs.Version) != len("sha256:")+12 {
				t.Errorf("Version = %q, want sha256: and 12 hex digits", rs.Version)
			}
		})
	}
}

func TestParseResult(t *testing.T) {
	yes, no := true, false
	want := []Rule{{
		ID:          "openai.insufficient_quota",
		Category:    CategoryAuth,
		Reason:      "insufficient_credits",
		Remediation: "Add credits or raise the spend limit on the OpenAI billing page; retrying will not help.",
		Priority:    100,
		Match: Condition{All: []Condition{
			{Status: []StatusRange{{429, 429}}},
			{Any: []Condition{
				{Body: &TextMatch{Contains: []string{"insufficient_quota", "exceeded your current quota"}}},
				{Field: &FieldMatch{Path: "error.code", InBody: true, Equals: []string{"insufficient_quota"}}},
			}},
		}},
		Pos: Position{"testdata/all.good.yaml", 3, 5},
	}, {
		ID:          "network.tls",
		Category:    CategoryNetwork,
		Reason:      "tls_error",
		Remediation: "Install the proxy's CA certificate in the client's trust store.",
		Match: Condition{
			Status: []StatusRange{{0, 0}},
			Error:  &TextMatch{Regex: `x509: certificate|\btls\b handshake|\S+\W\pL\p{Greek}\x{1F}\xAF(?P<Name>x)(?U:a)\Qcert.pem\E`},
		},
		Pos: Position{"testdata/all.good.yaml", 16, 5},
	}, {
		ID:          "azure.content_filter",
		Category:    CategoryPayload,
		Reason:      "content_policy",
		Remediation: "Rephrase the prompt; the Azure content filter rejected it.",
		Match: Condition{
			Host:     []string{".openai.azure.com", "api.openai.com"},
			Method:   []string{"post"},
			Provider: []string{"openai", "azure-openai"},
			URL:      &TextMatch{Contains: []string{"/images/generations"}},
			Field:    &FieldMatch{Path: "error.code", Contains: []string{"content_filter"}, Regex: "^content_", Exists: &yes},
		},
		Pos: Position{"testdata/all.good.yaml", 33, 5},
	}, {
		ID:          "record.no_error_code",
		Category:    CategoryServer,
		Reason:      "unavailable",
		Remediation: "Retry later.",
		Retryable:   true,
		Match:       Condition{Field: &FieldMatch{Path: "error.code", Exists: &no}},
		Pos:         Position{"testdata/all.good.yaml", 43, 5},
	}, {
		ID:          "server.any_5xx",
		Category:    CategoryServer,
		Reason:      "internal_error",
		Remediation: "Retry with back-off; report the request id to the provider if it persists.",
		Retryable:   false,
		Priority:    -1,
		Match: Condition{
			Status: []StatusRange{{500, 599}, {520, 524}, {500, 500}, {502, 502}},
			Not:    &Condition{Text: &TextMatch{Contains: []string{"overloaded"}}},
		},
		Pos: Position{"testdata/all.good.yaml", 23, 5},
	}}
	rs, errs := ParseFile("testdata/all.good.yaml")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(rs.Rules) != len(want) {
		t.Fatalf("got %d rules, want %d", len(rs.Rules), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(rs.Rules[i], want[i]) {
			t.Errorf("rule %d:\n got %#v\nwant %#v", i, rs.Rules[i], want[i])
		}
	}
}

func TestPrecedence(t *testing.T) {
	rs, errs := ParseFile("testdata/precedence.good.yaml")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var ids []string
	for _, r := range rs.Rules {
		ids = append(ids, r.ID)
	}
	if got, want := strings.Join(ids, " "), "b d a c e"; got != want {
		t.Errorf("order = %s, want %s (priority desc, then file order)", got, want)
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		file     string
		wantErrs []string
	}{{
		file: "five.bad.yaml",
		wantErrs: []string{
			`five.bad.yaml:6:13: rule "auth.expired": unknown reason "expired" in category auth; known: missing_credentials, invalid_credentials, expired_credentials, insufficient_permissions, insufficient_credits`,
			`five.bad.yaml:13:18: rule "network.timeout": empty remediation; write one or two sentences naming the step that fixes it`,
			`five.bad.yaml:16:9: rule "network.timeout": duplicate id; the first rule with this id is at testdata/five.bad.yaml:10:5; ids must be unique across all rule files`,
			"five.bad.yaml:27:21: rule \"server.overloaded\": bad regex: missing closing ): `overload(ed`; the syntax is RE2, https://golang.org/s/re2syntax",
			`five.bad.yaml:28:7: rule "server.overloaded": unknown key "statuz" in condition (did you mean "status"?); known: status, error, body, text, url, field, provider, host, method, all, any, not`,
		},
	}, {
		file: "syntax.bad.yaml",
		// The YAML library reports a line (where the enclosing block
		// starts) but no column.
		wantErrs: []string{`syntax.bad.yaml:1: invalid YAML: did not find expected '-' indicator`},
	}, {
		file:     "notmapping.bad.yaml",
		wantErrs: []string{`notmapping.bad.yaml:1:1: a rule file must be a mapping (key: value)`},
	}, {
		file: "toplevel.bad.yaml",
		wantErrs: []string{
			`toplevel.bad.yaml:1:1: unknown key "rule" in a rule file (did you mean "rules"?); known: rules`,
			`toplevel.bad.yaml:3:1: unknown key "groups" in a rule file; known: rules`,
		},
	}, {
		file:     "emptymap.bad.yaml",
		wantErrs: []string{`emptymap.bad.yaml:1:1: missing key "rules": a rule file is a mapping with the key "rules" holding a list of rules`},
	}, {
		file:     "norules.bad.yaml",
		wantErrs: []string{`norules.bad.yaml:1:1: unknown key "version" in a rule file; known: rules`},
	}, {
		file:     "ruleslist.bad.yaml",
		wantErrs: []string{`ruleslist.bad.yaml:2:3: rules must be a list of rules (- id: ...)`},
	}, {
		file:     "testfile.bad.yaml",
		wantErrs: []string{`testfile.bad.yaml:1:1: this is a rule test file (it has tests:); keep rule tests out of the rules directory and run them with ingest rules test`},
	}, {
		file:     "multidoc.bad.yaml",
		wantErrs: []string{`multidoc.bad.yaml:2:1: a rule file holds one YAML document; remove the second one (after ---) or move it to its own file`},
	}, {
		file:     "alias.bad.yaml",
		wantErrs: []string{`alias.bad.yaml:12:12: YAML aliases (*m) are not supported; repeat the value instead`},
	}, {
		file: "unknownkeys.bad.yaml",
		wantErrs: []string{
			`unknownkeys.bad.yaml:2:5: rule "unknown.keys": missing reason; for category server one of internal_error, bad_gateway, unavailable, gateway_timeout, rate_limited`,
			`unknownkeys.bad.yaml:4:5: rule "unknown.keys": unknown key "reson" in rule (did you mean "reason"?); known: id, category, reason, remediation, retryable, priority, match`,
			`unknownkeys.bad.yaml:6:5: rule "unknown.keys": unknown key "Priority" in rule (did you mean "priority"?); known: id, category, reason, remediation, retryable, priority, match`,
			`unknownkeys.bad.yaml:8:7: rule "unknown.keys": unknown key "stauts" in condition (did you mean "status"?); known: status, error, body, text, url, field, provider, host, method, all, any, not`,
			`unknownkeys.bad.yaml:9:38: rule "unknown.keys": unknown key "regexp" in body (did you mean "regex"?); known: contains, regex`,
			`unknownkeys.bad.yaml:10:33: rule "unknown.keys": unknown key "equal" in field (did you mean "equals"?); known: path, in, equals, contains, regex, exists`,
			`unknownkeys.bad.yaml:12:11: rule "unknown.keys": unknown key "methd" in condition (did you mean "method"?); known: status, error, body, text, url, field, provider, host, method, all, any, not`,
		},
	}, {
		file: "taxonomy.bad.yaml",
		wantErrs: []string{
			`taxonomy.bad.yaml:2:5: rule "no.category": missing category; one of auth, network, payload, server`,
			`taxonomy.bad.yaml:7:15: rule "bad.category": unknown category "netwrk"; known: auth, network, payload, server`,
			`taxonomy.bad.yaml:12:15: rule "reserved.category": category unknown is reserved for failures no rule matched; use one of auth, network, payload, server`,
			`taxonomy.bad.yaml:13:13: rule "reserved.category": reason unmatched is reserved for failures no rule matched`,
			`taxonomy.bad.yaml:18:13: rule "wrong.category": reason timeout belongs to category network, not server`,
			`taxonomy.bad.yaml:21:5: rule "no.reason": missing reason; for category payload one of malformed_json, missing_parameter, invalid_parameter, too_large, unsupported_media_type, content_policy`,
			`taxonomy.bad.yaml:26:15: rule "unknown.reason.no.category": unknown category "nope"; known: auth, network, payload, server`,
			`taxonomy.bad.yaml:27:13: rule "unknown.reason.no.category": unknown reason "nope"; known: missing_credentials, invalid_credentials, expired_credentials, insufficient_permissions, insufficient_credits, dns_failure, connection_refused, connection_reset, timeout, tls_error, proxy_error, firewall_blocked, unreachable, malformed_json, missing_parameter, invalid_parameter, too_large, unsupported_media_type, content_policy, internal_error, bad_gateway, unavailable, gateway_timeout, rate_limited`,
		},
	}, {
		file: "regex.bad.yaml",
		wantErrs: []string{
			"regex.bad.yaml:8:26: rule \"regexes\": bad regex: missing closing ): `timed out (`; the syntax is RE2, https://golang.org/s/re2syntax",
			`regex.bad.yaml:9:26: rule "regexes": regex "Timeout" has the upper-case letter 'T'; regexes are matched against lower-cased text: write it in lower case`,
			`regex.bad.yaml:10:26: rule "regexes": regex "\\QRead Timeout\\E" has the upper-case letter 'R'; regexes are matched against lower-cased text: write it in lower case`,
			`regex.bad.yaml:11:25: rule "regexes": regex "[A-Z]+ timeout" has the upper-case letter 'A'; regexes are matched against lower-cased text: write it in lower case`,
			`regex.bad.yaml:12:25: rule "regexes": regex is empty`,
			`regex.bad.yaml:13:24: rule "regexes": regex must be a single value, not a list or mapping`,
			`regex.bad.yaml:14:39: rule "regexes": regex "(?P<Name>x)\\x41Y" has the upper-case letter 'Y'; regexes are matched against lower-cased text: write it in lower case`,
		},
	}, {
		file: "status.bad.yaml",
		wantErrs: []string{
			`status.bad.yaml:8:20: rule "statuses": bad status "45x"; write a code (404), a class ("4xx"), a range ("500-599") or "none" for no response`,
			`status.bad.yaml:8:25: rule "statuses": bad status "600"; codes run from 100 to 599, ranges from low to high`,
			`status.bad.yaml:8:30: rule "statuses": bad status "99"; write a code (404), a class ("4xx"), a range ("500-599") or "none" for no response`,
			`status.bad.yaml:8:34: rule "statuses": bad status "599-500"; codes run from 100 to 599, ranges from low to high`,
			`status.bad.yaml:8:45: rule "statuses": bad status "6xx"; write a code (404), a class ("4xx"), a range ("500-599") or "none" for no response`,
			`status.bad.yaml:8:52: rule "statuses": bad status "nothing"; write a code (404), a class ("4xx"), a range ("500-599") or "none" for no response`,
			`status.bad.yaml:8:61: rule "statuses": bad status "5000"; write a code (404), a class ("4xx"), a range ("500-599") or "none" for no response`,
			`status.bad.yaml:8:67: rule "statuses": empty value in status would match everything; remove it`,
			`status.bad.yaml:9:19: rule "statuses": status is an empty list; give at least one value`,
			`status.bad.yaml:10:19: rule "statuses": status must be a list of values, not a mapping`,
		},
	}, {
		file: "conditions.bad.yaml",
		wantErrs: []string{
			`conditions.bad.yaml:8:11: rule "conditions": empty condition; give at least one of status, error, body, text, url, field, provider, host, method, all, any, not`,
			`conditions.bad.yaml:9:16: rule "conditions": any is an empty list; give at least one condition`,
			`conditions.bad.yaml:10:16: rule "conditions": condition must be a mapping (key: value)`,
			`conditions.bad.yaml:11:16: rule "conditions": any must be a list of conditions (- status: ...)`,
			`conditions.bad.yaml:12:18: rule "conditions": field needs a path, a gjson path such as "error.code"`,
			`conditions.bad.yaml:13:18: rule "conditions": field needs equals, contains, regex or exists`,
			`conditions.bad.yaml:14:41: rule "conditions": bad in "response"; write body (the response body parsed as JSON) or record (the default)`,
			`conditions.bad.yaml:14:59: rule "conditions": exists: false cannot be combined with equals, contains or regex: an absent field has no value`,
			`conditions.bad.yaml:15:17: rule "conditions": body needs contains or regex`,
			`conditions.bad.yaml:16:34: rule "conditions": empty value in contains would match everything; remove it`,
			`conditions.bad.yaml:16:38: rule "conditions": empty value in contains would match everything; remove it`,
			`conditions.bad.yaml:17:21: rule "conditions": provider is an empty list; give at least one value`,
			`conditions.bad.yaml:18:18: rule "conditions": host must be a list of values, not of lists or mappings`,
			`conditions.bad.yaml:19:17: rule "conditions": text must be a mapping (key: value)`,
			`conditions.bad.yaml:20:5: rule "no.match": missing match; give one condition with any of status, error, body, text, url, field, provider, host, method, all, any, not`,
			`conditions.bad.yaml:24:5: rule "null.match": missing match; give one condition with any of status, error, body, text, url, field, provider, host, method, all, any, not`,
			`conditions.bad.yaml:34:40: rule "unquoted.colon": contains: quote "curl: (5)"; unquoted, ": " makes it a mapping`,
		},
	}, {
		file: "types.bad.yaml",
		wantErrs: []string{
			`types.bad.yaml:2:9: rule "Types.Bad": id "Types.Bad" may only hold lower-case letters, digits, '_', '.' and '-'`,
			`types.bad.yaml:3:15: rule "Types.Bad": category must be a single value, not a list or mapping`,
			`types.bad.yaml:5:18: rule "Types.Bad": remediation must be a single value, not a list or mapping`,
			`types.bad.yaml:6:16: rule "Types.Bad": retryable must be true or false`,
			`types.bad.yaml:7:15: rule "Types.Bad": priority must be an integer, such as 100 or -10`,
			`types.bad.yaml:9:5: rule "missing.remediation": missing remediation; write one or two sentences naming the step that fixes it (rotate the key, raise the timeout, back off and retry)`,
			`types.bad.yaml:13:5: rule 3: rule must be a mapping (key: value)`,
			`types.bad.yaml:14:5: rule 4: missing id; give the rule a unique id such as "openai.insufficient_quota"`,
		},
	}, {
		file: "duplicate.bad.yaml",
		wantErrs: []string{
			`duplicate.bad.yaml:7:9: rule "dup": duplicate id; the first rule with this id is at testdata/duplicate.bad.yaml:2:5; ids must be unique across all rule files`,
			`duplicate.bad.yaml:10:5: rule "dup": duplicate key "reason" in rule; the first is at 9:5`,
			`duplicate.bad.yaml:12:28: rule "dup": duplicate key "status" in condition; the first is at 12:13`,
		},
	}}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			rs, errs := ParseFile(filepath.Join("testdata", tt.file))
			if rs != nil {
				t.Errorf("got a RuleSet despite errors")
			}
			var got []string
			for _, err := range errs {
				if _, ok := err.(*Error); !ok {
					t.Errorf("error %v is a %T, want *Error", err, err)
				}
				got = append(got, strings.TrimPrefix(err.Error(), "testdata/"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.wantErrs, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantErrs, "\n"))
			}
		})
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no entry in the table", f)
		}
	}
}

// TestFiveMistakes is the acceptance check of issue 3: a rule file with
// five different mistakes gives five errors, each with file:line:col.
func TestFiveMistakes(t *testing.T) {
	_, errs := ParseFile("testdata/five.bad.yaml")
	if len(errs) != 5 {
		t.Fatalf("got %d errors, want 5: %v", len(errs), errs)
	}
	pos := regexp.MustCompile(`^testdata/five\.bad\.yaml:\d+:\d+: rule "[a-z.]+": `)
	for _, err := range errs {
		if !pos.MatchString(err.Error()) {
			t.Errorf("%q lacks file:line:col: rule \"id\":", err)
		}
	}
}

func TestLoadDir(t *testing.T) {
	_, errs := Load("testdata/dup", true)
	want := `testdata/dup/b.yml:7:9: rule "shared": duplicate id; the first rule with this id is at testdata/dup/a.yaml:2:5; ids must be unique across all rule files`
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("errors = %v, want %s", errs, want)
	}

	dir := t.TempDir()
	copyFile(t, "testdata/precedence.good.yaml", filepath.Join(dir, "b.yaml"))
	copyFile(t, "testdata/dup/a.yaml", filepath.Join(dir, "a.yaml"))
	rs, errs := Load(dir, true)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var ids []string
	for _, r := range rs.Rules {
		ids = append(ids, r.ID)
	}
	// a.yaml loads before b.yaml: "shared" precedes the priority-0 rules of b.
	if got, want := strings.Join(ids, " "), "b d shared a c e"; got != want {
		t.Errorf("order = %s, want %s", got, want)
	}

	// The version depends on file names and contents, not on the directory.
	other := t.TempDir()
	copyFile(t, "testdata/precedence.good.yaml", filepath.Join(other, "b.yaml"))
	copyFile(t, "testdata/dup/a.yaml", filepath.Join(other, "a.yaml"))
	rs2, _ := Load(other, true)
	if rs2.Version != rs.Version {
		t.Errorf("same files in another directory: version %s, want %s", rs2.Version, rs.Version)
	}
	if err := os.WriteFile(filepath.Join(other, "a.yaml"), []byte("rules: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rs3, _ := Load(other, true)
	if rs3.Version == rs.Version {
		t.Errorf("changed file kept version %s", rs.Version)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		dir     string
		replace bool
		want    string
	}{
		{"", true, "replacing the default rules needs a rules directory"},
		{"testdata/missing", false, "reading rules: open testdata/missing: no such file or directory"},
		{"testdata/dup/..", true, ""}, // many bad files: checked below by count
		{t.TempDir(), false, "no rule files (*.yaml, *.yml) in the directory"},
	}
	for _, tt := range tests {
		rs, errs := Load(tt.dir, tt.replace)
		if rs != nil || len(errs) == 0 {
			t.Errorf("Load(%q, %v) gave no error", tt.dir, tt.replace)
			continue
		}
		if tt.want != "" && !strings.HasSuffix(errs[0].Error(), tt.want) {
			t.Errorf("Load(%q, %v) = %v, want %s", tt.dir, tt.replace, errs[0], tt.want)
		}
	}
}

// TestDefault checks that the shipped pack is valid, so Default cannot
// panic, and that Load puts it before the rules of a directory.
func TestDefault(t *testing.T) {
	rs, errs := Load("", false)
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) > 0 {
		return
	}
	if Default().Version != rs.Version {
		t.Errorf("Default().Version = %s, Load = %s", Default().Version, rs.Version)
	}
	for _, r := range rs.Rules {
		if !strings.HasPrefix(r.Pos.File, "rules/default/") {
			t.Errorf("rule %s at %s: want a position under rules/default/", r.ID, r.Pos)
		}
	}

	dir := t.TempDir()
	copyFile(t, "testdata/precedence.good.yaml", filepath.Join(dir, "a.yaml"))
	both, errs := Load(dir, false)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(both.Rules) != len(rs.Rules)+5 {
		t.Fatalf("defaults + dir: %d rules, want %d", len(both.Rules), len(rs.Rules)+5)
	}
	// Among rules of priority 0, the default pack's come first.
	var order []string
	for _, r := range both.Rules {
		if r.Priority == 0 {
			order = append(order, filepath.Dir(r.Pos.File))
		}
	}
	if i := slices.Index(order, dir); i >= 0 && slices.Contains(order[i:], "rules/default") {
		t.Errorf("a rule of the default pack follows one of %s at equal priority", dir)
	}
}

// TestDocExamples keeps the examples of the package documentation valid.
func TestDocExamples(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	rules, tests := docBlock(t, string(b), "rules:"), docBlock(t, string(b), "tests:")
	if _, errs := Parse("doc.go rules", []byte(rules)); errs != nil {
		t.Errorf("rule example: %v", errs)
	}
	if _, errs := ParseTests("doc.go tests", []byte(tests)); errs != nil {
		t.Errorf("test example: %v", errs)
	}
}

// docBlock returns the code block of doc comment src that starts with first.
func docBlock(t *testing.T, src, first string) string {
	start := strings.Index(src, "//\t"+first+"\n")
	if start < 0 {
		t.Fatalf("no %q block in doc.go", first)
	}
	var b strings.Builder
	for _, line := range strings.Split(src[start:], "\n") {
		code, ok := strings.CutPrefix(line, "//\t")
		if !ok {
			break
		}
		b.WriteString(code + "\n")
	}
	return b.String()
}

func TestUpperOutsideEscapes(t *testing.T) {
	tests := []struct {
		re   string
		want rune // 0: none
	}{
		{`timed out`, 0},
		{`\S+\W\D\B\pL\PL\p{Lu}\P{Greek}\x{1F}\xAF\x41`, 0},
		{`(?P<Name>x)(?U)(?U:a)(?i)(?:b)`, 0},
		{`\Qa.b\E`, 0},
		{`Timeout`, 'T'},
		{`[A-Z]`, 'A'},
		{`\QabC\E`, 'C'},
		{`\Qab`, 0},
		{`\QabC`, 'C'},
		{`x(?P<Name>Y)`, 'Y'},
		{`é\x{1F}É`, 'É'},
		{`a\.B`, 'B'},
	}
	for _, tt := range tests {
		if _, err := regexp.Compile(tt.re); err != nil {
			t.Fatalf("%q does not compile: %v", tt.re, err)
		}
		got, ok := upperOutsideEscapes(tt.re)
		if ok != (tt.want != 0) || got != tt.want {
			t.Errorf("upperOutsideEscapes(%q) = %q, %v; want %q", tt.re, got, ok, tt.want)
		}
	}
}

func TestPositionString(t *testing.T) {
	tests := []struct {
		p    Position
		want string
	}{
		{Position{"a.yaml", 3, 7}, "a.yaml:3:7"},
		{Position{"a.yaml", 3, 0}, "a.yaml:3"},
		{Position{"a.yaml", 0, 0}, "a.yaml"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, errs := Parse("fuzz.yaml", b)
		if (rs == nil) == (len(errs) == 0) {
			t.Fatalf("Parse returned rs=%v with %d errors", rs != nil, len(errs))
		}
		for _, err := range errs {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
				t.Fatalf("error without position: %v", err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile("testdata/all.good.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Parse("all.good.yaml", src); errs != nil {
			b.Fatal(errs)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
