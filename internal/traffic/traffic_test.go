package traffic

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var weekStart = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)

func weekConfig(seed int64, records int) Config {
	return NewConfig(seed, weekStart, weekStart.Add(7*24*time.Hour), records)
}

// generate returns every record of cfg, one per line, and their labels.
func generate(t testing.TB, cfg Config) ([][]byte, []Label) {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	var labels []Label
	for g.More() {
		recs = append(recs, g.Next(nil))
		labels = append(labels, g.Label())
	}
	return recs, labels
}

func TestDeterministic(t *testing.T) {
	a, _ := generate(t, weekConfig(7, 3000))
	b, _ := generate(t, weekConfig(7, 3000))
	c, _ := generate(t, weekConfig(8, 3000))
	if len(a) != 3000 {
		t.Fatalf("got %d records, want 3000", len(a))
	}
	ja, jb, jc := bytes.Join(a, []byte("\n")), bytes.Join(b, []byte("\n")), bytes.Join(c, []byte("\n"))
	if !bytes.Equal(ja, jb) {
		t.Error("same seed produced different records")
	}
	if bytes.Equal(ja, jc) {
		t.Error("different seeds produced the same records")
	}
}

// TestWeek checks a week of traffic: valid JSON objects in the period, every
// reason of the taxonomy, a realistic mix, and planted secrets.
func TestWeek(t *testing.T) {
	cfg := weekConfig(1, 30000)
	recs, labels := generate(t, cfg)
	g, _ := New(cfg)
	secrets := g.Secrets()

	reasons := map[string]int{}
	var failures, ecs, leaks, retries int
	var byHour [24]int
	for i, rec := range recs {
		l := labels[i]
		var m map[string]any
		if err := json.Unmarshal(rec, &m); err != nil {
			t.Fatalf("record %d is not a JSON object: %v\n%s", i, err, rec)
		}
		if !utf8.Valid(rec) {
			t.Fatalf("record %d is not UTF-8: %q", i, rec)
		}
		ts := recordTime(t, m)
		if ts.Before(cfg.Start) || !ts.Before(cfg.End) {
			t.Errorf("record %d: time %s outside the period", i, ts)
		}
		byHour[ts.UTC().Hour()]++
		if l.Failure {
			failures++
			reasons[l.Reason]++
			if categoryOf(l.Reason) != l.Category {
				t.Errorf("record %d: label %s/%s: wrong category", i, l.Category, l.Reason)
			}
		}
		if l.ECS {
			ecs++
			if m["request_id"] != nil || m["attempt"] != nil {
				t.Errorf("ECS record %d has canonical fields: %s", i, rec)
			}
		}
		if a, _ := m["attempt"].(float64); a > 1 {
			retries++
		}
		if l.Leak {
			leaks++
			found := false
			for _, s := range secrets {
				found = found || bytes.Contains(rec, []byte(s))
			}
			if !found {
				t.Errorf("record %d is labelled as leaking, but holds no secret: %s", i, rec)
			}
		}
	}
	for _, r := range reasonWeights {
		if reasons[r.reason] == 0 {
			t.Errorf("reason %s/%s never generated", r.category, r.reason)
		}
	}
	n := float64(len(recs))
	check := func(name string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %.3f, want between %.2f and %.2f", name, got, lo, hi)
		}
	}
	check("failure share", float64(failures)/n, 0.09, 0.18)
	check("ECS share", float64(ecs)/n, 0.13, 0.17)
	check("leak share", float64(leaks)/n, 0.01, 0.04)
	check("retry share", float64(retries)/n, 0.01, 0.08)
	if byHour[3] >= byHour[15] {
		t.Errorf("no diurnal shape: %d records at 03h, %d at 15h", byHour[3], byHour[15])
	}
	t.Logf("%d records, %d failures, %d ECS, %d leaks, %d retries; per reason: %v", len(recs), failures, ecs, leaks, retries, reasons)
}

// TestErrorTextIntact checks that every error text holds the literal start
// of its template, whatever the records before it were (scratch buffers
// are reused from record to record).
func TestErrorTextIntact(t *testing.T) {
	g, err := New(weekConfig(5, 20000))
	if err != nil {
		t.Fatal(err)
	}
	for g.More() {
		rec := g.Next(nil)
		f := g.c.fail
		if f == nil || f.err == "" {
			continue
		}
		literal, _, _ := strings.Cut(f.err, "{")
		var m map[string]any
		if err := json.Unmarshal(rec, &m); err != nil {
			t.Fatal(err)
		}
		text := ""
		for _, k := range []string{"error", "err", "exception", "error.message"} {
			if s, ok := m[k].(string); ok {
				text = s
			}
		}
		if e, ok := m["error"].(map[string]any); ok {
			text, _ = e["message"].(string)
		}
		if !strings.Contains(text, literal) {
			t.Fatalf("error text %q does not contain %q\n%s", text, literal, rec)
		}
	}
}

// recordTime reads the timestamp of a generated record in any of its forms.
func recordTime(t *testing.T, m map[string]any) time.Time {
	t.Helper()
	for _, k := range []string{"@timestamp", "timestamp"} {
		if s, ok := m[k].(string); ok {
			ts, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			return ts
		}
	}
	if ms, ok := m["ts"].(float64); ok {
		return time.UnixMilli(int64(ms))
	}
	if s, ok := m["time"].(float64); ok {
		return time.UnixMilli(int64(s * 1000))
	}
	t.Fatalf("record without a timestamp: %v", m)
	return time.Time{}
}

func TestUnusable(t *testing.T) {
	cfg := weekConfig(3, 2000)
	cfg.UnusableRate = 0.05
	recs, labels := generate(t, cfg)
	bad := 0
	for i, rec := range recs {
		var m map[string]any
		isObject := json.Unmarshal(rec, &m) == nil
		if labels[i].Unusable {
			bad++
			if isObject {
				t.Errorf("record %d labelled unusable is a JSON object: %s", i, rec)
			}
		} else if !isObject {
			t.Errorf("record %d is not a JSON object: %s", i, rec)
		}
	}
	if bad < 50 || bad > 160 {
		t.Errorf("%d unusable records of 2000, want about 100", bad)
	}
}

// TestCatalog checks every failure wording: it can happen on some target,
// expands to UTF-8 without leftover placeholders of the generator, and a
// body that looks like JSON is JSON.
func TestCatalog(t *testing.T) {
	g, err := New(weekConfig(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	for i := range failures {
		f := &failures[i]
		if categoryOf(f.reason) == "unknown" && f.reason != "unmatched" {
			t.Errorf("failure %d: reason %q is not in the taxonomy", i, f.reason)
		}
		used := false
		for _, ti := range g.targets {
			if !f.applies(ti) {
				continue
			}
			used = true
			g.newCall()
			g.c.t = ti
			for _, tmpl := range []string{f.err, f.body} {
				out := g.expand(nil, tmpl)
				if !utf8.Valid(out) {
					t.Errorf("failure %d on %s: not UTF-8", i, ti.url)
				}
				for _, name := range placeholderNames {
					if bytes.Contains(out, []byte("{"+name+"}")) {
						t.Errorf("failure %d on %s: {%s} not expanded", i, ti.url, name)
					}
				}
				if len(out) > 0 && out[0] == '{' && !json.Valid(out) {
					t.Errorf("failure %d on %s: body is not valid JSON: %s", i, ti.url, out)
				}
			}
		}
		if !used {
			t.Errorf("failure %d (%s, provider %q) applies to no target", i, f.reason, f.prov)
		}
	}
}

// placeholderNames are the names expand knows; TestCatalog checks that
// none is left over.
var placeholderNames = strings.Fields("url host port path ip lip lport model key keytail org gomethod pool conncls pid uuid id32 id8 rid ray ptr sig n n3 n5 secs timeout timeoutms date isodate epoch code text cftitle cfcode")

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want []string
	}{
		{Config{}, []string{"start and end times are required", "records must be positive"}},
		{Config{Start: weekStart, End: weekStart, Records: 1}, []string{"is not after start"}},
		{Config{Start: weekStart, End: weekStart.Add(time.Millisecond), Records: 1}, []string{"shorter than a second"}},
		{Config{Start: weekStart, End: weekStart.Add(time.Hour), Records: 1, SuccessRate: 2, LeakRate: -1},
			[]string{"success rate must be between 0 and 1, got 2", "leak rate must be between 0 and 1, got -1"}},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if err == nil {
			t.Errorf("Validate(%+v) = nil, want %q", tt.cfg, tt.want)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Validate(%+v) = %q, want it to contain %q", tt.cfg, err, w)
			}
		}
	}
	if err := weekConfig(1, 1).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestShortPeriod(t *testing.T) {
	cfg := NewConfig(1, weekStart, weekStart.Add(10*time.Minute), 500)
	recs, _ := generate(t, cfg)
	for i, rec := range recs {
		var m map[string]any
		if err := json.Unmarshal(rec, &m); err != nil {
			t.Fatal(err)
		}
		if ts := recordTime(t, m); ts.Before(cfg.Start) || !ts.Before(cfg.End) {
			t.Errorf("record %d: %s outside the 10 minutes", i, ts)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	g, err := New(weekConfig(1, 1<<62))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 16<<10)
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		buf = g.Next(buf[:0])
		n += int64(len(buf))
	}
	b.SetBytes(n / int64(b.N))
}
