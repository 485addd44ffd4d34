package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseTestsGood(t *testing.T) {
	tf, errs := parseTestsFile(t, "testdata/tests/cases.good.yaml")
	if errs != nil {
		t.Fatal(errs)
	}
	const file = "testdata/tests/cases.good.yaml"
	want := []TestCase{{
		Name:   "stability v2beta expired key",
		Record: json.RawMessage(`{"provider":"stability","status":401,"latency_ms":12.50,"attempt":2,"big":123456789012345678901234567890,"ok":true,"retry":null,"@timestamp":"2024-11-26T10:00:00Z","error.type":"<ApiError & \"quoted\">","response_body":"{\"name\":\"unauthorized\",\"errors\":[\"expired\"]}","labels":{"team":"images","tags":["a",1,1.5e3,0.5]}}`),
		Want:   Expect{Outcome: "failure", Category: CategoryAuth, Reason: "expired_credentials"},
		Pos:    Position{file, 2, 5},
	}, {
		Name:   "pasted log line",
		Record: json.RawMessage(`{"provider":"openai","status":429}`),
		Want:   Expect{Outcome: "failure", Category: CategoryAuth, Reason: "insufficient_credits", RuleID: "openai.insufficient_quota"},
		Pos:    Position{file, 16, 5},
	}, {
		Name:   "plain success",
		Record: json.RawMessage(`{"status":200,"url":"https://api.stability.ai/v2beta/stable-image/generate/core"}`),
		Want:   Expect{Outcome: "success"},
		Pos:    Position{file, 19, 5},
	}, {
		Name:   "nothing matched",
		Record: json.RawMessage(`{"status":418}`),
		Want:   Expect{Outcome: "failure", Category: CategoryUnknown, Reason: ReasonUnmatched},
		Pos:    Position{file, 22, 5},
	}}
	if len(tf.Tests) != len(want) {
		t.Fatalf("got %d tests, want %d", len(tf.Tests), len(want))
	}
	for i := range want {
		got := tf.Tests[i]
		if string(got.Record) != string(want[i].Record) {
			t.Errorf("test %d record:\n got %s\nwant %s", i, got.Record, want[i].Record)
		}
		if !json.Valid(got.Record) {
			t.Errorf("test %d record is not valid JSON: %s", i, got.Record)
		}
		got.Record, want[i].Record = nil, nil
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("test %d:\n got %#v\nwant %#v", i, got, want[i])
		}
	}
}

func TestParseTestsBad(t *testing.T) {
	tests := []struct {
		file     string
		wantErrs []string
	}{{
		file: "cases.bad.yaml",
		wantErrs: []string{
			`cases.bad.yaml:2:5: test "no want": missing want; such as {category: auth, reason: expired_credentials} or {outcome: success}`,
			`cases.bad.yaml:4:5: test 2: missing name; say what the record shows, such as "stability v2beta expired key"`,
			`cases.bad.yaml:5:36: test 2: unknown reason "expired" in category auth; known: missing_credentials, invalid_credentials, expired_credentials, insufficient_permissions, insufficient_credits`,
			`cases.bad.yaml:8:30: test "success with a reason": a success has no reason; remove it, or drop outcome: success`,
			`cases.bad.yaml:11:21: test "bad outcome": bad outcome "ok"; write failure (the default) or success`,
			`cases.bad.yaml:14:11: test "failure without reason": a failure needs category and reason, such as {category: auth, reason: expired_credentials}`,
			`cases.bad.yaml:16:27: test "wrong category": duplicate key "status" in record`,
			`cases.bad.yaml:17:39: test "wrong category": reason internal_error belongs to category server, not network`,
			`cases.bad.yaml:17:64: test "wrong category": rule_id "Server.500" is not a rule id: ids hold lower-case letters, digits, '_', '.' and '-'`,
			`cases.bad.yaml:19:13: test "bad record": record string must hold one JSON object; or write the record as a YAML mapping`,
			`cases.bad.yaml:20:22: test "bad record": unknown category "nope"; known: auth, network, payload, server, unknown`,
			`cases.bad.yaml:22:13: test "list record": record must be a mapping, such as {status: 401, provider: openai}, or a string holding a JSON object`,
			`cases.bad.yaml:23:54: test "list record": unknown key "rule" in want; known: outcome, category, reason, rule_id`,
			`cases.bad.yaml:25:26: test "non-json numbers": .inf is not a JSON number; quote it to send a string`,
			`cases.bad.yaml:25:35: test "non-json numbers": .nan is not a JSON number; quote it to send a string`,
			`cases.bad.yaml:27:5: test "no want": missing record; give the log record as a mapping, such as {status: 401, provider: openai}`,
			`cases.bad.yaml:27:11: test "no want": duplicate test name; the first test with this name is at testdata/tests/cases.bad.yaml:2:5`,
		},
	}, {
		file:     "rules.bad.yaml",
		wantErrs: []string{`rules.bad.yaml:1:1: unknown key "rules" in a rule test file; known: tests`},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tf, errs := parseTestsFile(t, filepath.Join("testdata/tests", tt.file))
			if tf != nil {
				t.Error("got a TestFile despite errors")
			}
			var got []string
			for _, err := range errs {
				got = append(got, strings.TrimPrefix(err.Error(), "testdata/tests/"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.wantErrs, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantErrs, "\n"))
			}
		})
	}
}

func parseTestsFile(t *testing.T, name string) (*TestFile, []error) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return ParseTests(name, b)
}

func FuzzParseTests(f *testing.F) {
	files, _ := filepath.Glob("testdata/tests/*.yaml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tf, errs := ParseTests("fuzz.yaml", b)
		if (tf == nil) == (len(errs) == 0) {
			t.Fatalf("ParseTests returned tf=%v with %d errors", tf != nil, len(errs))
		}
		if tf == nil {
			return
		}
		for _, tc := range tf.Tests {
			if !json.Valid(tc.Record) {
				t.Fatalf("record of %q is not JSON: %s", tc.Name, tc.Record)
			}
		}
	})
}

func TestDefaultTests(t *testing.T) {
	files, errs := DefaultTests()
	for _, err := range errs {
		t.Error(err)
	}
	n := 0
	for _, f := range files {
		n += len(f.Tests)
	}
	if len(files) == 0 || n == 0 {
		t.Fatalf("DefaultTests: %d files with %d tests, want the shipped rules/default/tests", len(files), n)
	}
	if got := files[0].Tests[0].Pos.File; !strings.HasPrefix(got, "rules/default/tests/") {
		t.Errorf("position file %q, want it under rules/default/tests/", got)
	}
}
