package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sdtriage/sdtriage/rules"
)

// The labelled corpus (testdata/corpus/*.ndjson, one file per category plus
// successes) holds hand-written records in the wording of real providers and
// clients; each label names where its wording comes from. Most of it was
// written without looking at the rules, in batches that were measured before
// the rules were changed for them, so the accuracy below is not only a
// measure of records the rules were fitted to.

// corpusRecord is one line of testdata/corpus/*.ndjson: the record without
// its label, and the label.
type corpusRecord struct {
	Pos   string // file:line
	Rec   []byte // the record with "_label" removed
	Label corpusLabel
}

// corpusLabel is the "_label" field of a corpus line. Successes carry
// Outcome "success"; failures carry Category and Reason. Source says where
// the wording comes from.
type corpusLabel struct {
	Outcome  string `json:"outcome"`
	Category string `json:"category"`
	Reason   string `json:"reason"`
	Source   string `json:"source"`
}

func (l corpusLabel) success() bool { return l.Outcome == "success" }

// loadCorpus reads the labelled corpus. It fails the test on a line that is
// not a JSON object with a valid label, so a broken corpus cannot pass.
func loadCorpus(tb testing.TB) []corpusRecord {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.ndjson"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus files in testdata/corpus (err %v)", err)
	}
	var out []corpusRecord
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for line := 1; sc.Scan(); line++ {
			pos := fmt.Sprintf("%s:%d", name, line)
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				tb.Fatalf("%s: %v", pos, err)
			}
			var lab corpusLabel
			if err := json.Unmarshal(m["_label"], &lab); err != nil {
				tb.Fatalf("%s: bad or missing _label: %v", pos, err)
			}
			if err := lab.validate(); err != nil {
				tb.Fatalf("%s: %v", pos, err)
			}
			delete(m, "_label")
			rec, err := json.Marshal(m)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, corpusRecord{Pos: pos, Rec: rec, Label: lab})
		}
		if err := sc.Err(); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		f.Close()
	}
	return out
}

// validate checks that a label names a success or a (category, reason)
// pair of the taxonomy, and where its wording comes from.
func (l corpusLabel) validate() error {
	if l.Source == "" {
		return fmt.Errorf("label without a source")
	}
	if l.success() {
		if l.Category != "" || l.Reason != "" {
			return fmt.Errorf("success label with a category or reason")
		}
		return nil
	}
	if l.Outcome != "" {
		return fmt.Errorf("unknown outcome %q", l.Outcome)
	}
	c, ok := rules.ReasonCategory(l.Reason)
	if !ok || string(c) != l.Category {
		return fmt.Errorf("label %s/%s is not in the taxonomy", l.Category, l.Reason)
	}
	return nil
}

// TestCorpusShape keeps the corpus as large and varied as issue 3 asks:
// at least 300 failures, 40 successes, every reason at least 8 times and
// about 15% of the failures in Elastic Common Schema spellings.
func TestCorpusShape(t *testing.T) {
	recs := loadCorpus(t)
	var failures, successes, ecs int
	perReason := map[string]int{}
	for _, r := range recs {
		if r.Label.success() {
			successes++
			continue
		}
		failures++
		perReason[r.Label.Reason]++
		if bytes.Contains(r.Rec, []byte(`"http.response`)) || bytes.Contains(r.Rec, []byte(`"http":{`)) {
			ecs++
		}
	}
	if failures < 300 || successes < 40 {
		t.Errorf("corpus has %d failures and %d successes; want >= 300 and >= 40", failures, successes)
	}
	for _, c := range rules.Categories() {
		if c == rules.CategoryUnknown {
			continue
		}
		for _, reason := range rules.Reasons(c) {
			if n := perReason[reason]; n < 8 {
				t.Errorf("reason %s/%s has %d records; want >= 8", c, reason, n)
			}
		}
	}
	if share := float64(ecs) / float64(failures); share < 0.12 {
		t.Errorf("%.1f%% of the failures use ECS spellings; want about 15%%", 100*share)
	}
}

// TestCorpusAccuracy classifies every corpus record with the default pack
// and asserts the accuracy issue 3 sets: >= 98% of failures in the right
// category, >= 95% with the right reason, and every success left
// unclassified. It logs the category confusion matrix and every
// misclassified record.
func TestCorpusAccuracy(t *testing.T) {
	c, err := New(rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	recs := loadCorpus(t)
	const success = "success"
	cols := []string{"auth", "network", "payload", "server", "unknown", success}
	matrix := map[[2]string]int{}
	var failures, catOK, reasonOK, successes, successOK int
	var wrong []string
	perReason := map[string][2]int{} // reason -> {records, right}
	for _, r := range recs {
		res, err := c.Classify(r.Rec)
		if err != nil {
			t.Errorf("%s: %v", r.Pos, err)
			continue
		}
		want, got := r.Label.Category, string(res.Category)
		if r.Label.success() {
			want = success
		}
		if !res.Failure {
			got = success
		}
		matrix[[2]string{want, got}]++
		if r.Label.success() {
			successes++
			if !res.Failure {
				successOK++
			} else {
				wrong = append(wrong, fmt.Sprintf("%s: want success, got %s/%s (rule %s)", r.Pos, got, res.Reason, res.RuleID))
			}
			continue
		}
		failures++
		if got == want {
			catOK++
		}
		pr := perReason[r.Label.Reason]
		pr[0]++
		if got == want && res.Reason == r.Label.Reason {
			reasonOK++
			pr[1]++
			perReason[r.Label.Reason] = pr
			continue
		}
		perReason[r.Label.Reason] = pr
		wrong = append(wrong, fmt.Sprintf("%s: want %s/%s, got %s/%s (rule %q) [%s]",
			r.Pos, want, r.Label.Reason, got, res.Reason, res.RuleID, r.Label.Source))
	}
	if failures == 0 || successes == 0 {
		t.Fatalf("corpus has %d failures and %d successes", failures, successes)
	}
	catAcc := float64(catOK) / float64(failures)
	reasonAcc := float64(reasonOK) / float64(failures)

	var b strings.Builder
	fmt.Fprintf(&b, "category accuracy %.2f%% (%d/%d), reason accuracy %.2f%% (%d/%d), successes kept %d/%d\n",
		100*catAcc, catOK, failures, 100*reasonAcc, reasonOK, failures, successOK, successes)
	fmt.Fprintf(&b, "confusion matrix (rows: label, columns: classified)\n%-9s", "")
	for _, col := range cols {
		fmt.Fprintf(&b, "%9s", col)
	}
	for _, row := range cols {
		if row == "unknown" {
			continue
		}
		fmt.Fprintf(&b, "\n%-9s", row)
		for _, col := range cols {
			fmt.Fprintf(&b, "%9d", matrix[[2]string{row, col}])
		}
	}
	fmt.Fprintf(&b, "\nper reason (right/records):")
	for i, reason := range slices.Sorted(maps.Keys(perReason)) {
		if i%4 == 0 {
			b.WriteString("\n ")
		}
		fmt.Fprintf(&b, " %-24s%8s", reason, fmt.Sprintf("%d/%d", perReason[reason][1], perReason[reason][0]))
	}
	slices.Sort(wrong)
	fmt.Fprintf(&b, "\nmisclassified: %d\n%s", len(wrong), strings.Join(wrong, "\n"))
	t.Log(b.String())

	if catAcc < 0.98 {
		t.Errorf("category accuracy %.2f%%; want >= 98%%", 100*catAcc)
	}
	if reasonAcc < 0.95 {
		t.Errorf("reason accuracy %.2f%%; want >= 95%%", 100*reasonAcc)
	}
	if successOK != successes {
		t.Errorf("%d of %d successes were classified as failures", successes-successOK, successes)
	}
}

// TestDefaultPackTestCoverage runs the default pack's rule tests and checks
// that every rule of the pack decides at least one of them, so a new rule
// cannot ship untested and a rule shadowed by another shows up here.
func TestDefaultPackTestCoverage(t *testing.T) {
	rs := rules.Default()
	c, err := New(rs)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("..", "rules", "default", "tests", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule tests in rules/default/tests (err %v)", err)
	}
	decided := map[string]int{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		tf, errs := rules.ParseTests(name, b)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", name, errs)
		}
		for _, tc := range tf.Tests {
			res, err := c.Classify(tc.Record)
			if err != nil {
				t.Errorf("%s: %s: %v", tc.Pos, tc.Name, err)
				continue
			}
			if res.Failure != (tc.Want.Outcome != "success") ||
				res.Category != tc.Want.Category || res.Reason != tc.Want.Reason ||
				(tc.Want.RuleID != "" && res.RuleID != tc.Want.RuleID) {
				t.Errorf("%s: %s: want %s/%s %s, got %s/%s %s", tc.Pos, tc.Name,
					tc.Want.Category, tc.Want.Reason, tc.Want.RuleID, res.Category, res.Reason, res.RuleID)
			}
			decided[res.RuleID]++
		}
	}
	for _, r := range rs.Rules {
		if decided[r.ID] == 0 {
			t.Errorf("%s: rule %q decides none of the default pack's rule tests", r.Pos, r.ID)
		}
	}
}
