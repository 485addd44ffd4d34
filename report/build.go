package report

import (
	"cmp"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Options says what to report on.
type Options struct {
	// Period is the period reported on; it is compared with Period.Previous().
	Period Period
	// Top is the number of rows of each breakdown and template list. Default: 10.
	Top int
	// Now is the report's generated_at time. Default: time.Now().
	Now time.Time
}

func (o Options) top() int {
	if o.Top <= 0 {
		return 10
	}
	return o.Top
}

// round4 keeps four decimals, so that shares and rates print and compare
// the same whichever way they were summed.
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return round4(float64(a) / float64(b))
}

func ratioPtr(a, b int64) *float64 {
	if b == 0 {
		return nil
	}
	r := ratio(a, b)
	return &r
}

// change is the relative change from prev to cur; nil when prev is 0.
func change(cur, prev int64) *float64 { return changeF(float64(cur), float64(prev), prev != 0) }

func changeF(cur, prev float64, ok bool) *float64 {
	if !ok || prev == 0 {
		return nil
	}
	r := round4((cur - prev) / prev)
	return &r
}

// build turns the tallies of the period (cur) and the previous one (prev)
// into a report.
func build(source string, o Options, cur, prev *tally) *Report {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	p, pp := o.Period, o.Period.Previous()
	r := &Report{
		SchemaVersion:  SchemaVersion,
		Source:         source,
		GeneratedAt:    now.UTC().Truncate(time.Second),
		Period:         periodInfo(p, p.Granularity()),
		PreviousPeriod: periodInfo(pp, ""),
		Notes:          append(append([]string{}, cur.notes...), prev.notes...),
	}
	r.Totals = totals(cur, prev)
	if r.Totals.Calls > 0 && r.Totals.Successes == 0 {
		r.Notes = append(r.Notes, "No success was indexed in this period, so the failure rate is not given: index successes too (event.outcome: success) to get it.")
	}
	r.Categories = categories(cur, prev)
	for _, d := range Dimensions {
		r.Breakdowns = append(r.Breakdowns, breakdown(d, cur, prev, o.top()))
	}
	r.Trend = trend(p, cur)
	curT, prevT := templates(cur), templates(prev)
	r.Templates = topTemplates(cur, curT, prevT, prev.calls > 0, o.top())
	r.New = newThings(cur, prev, curT, prevT)
	r.Checklist = checklist(cur)
	r.Unknown = unknown(cur, curT, o.top())
	return r
}

func periodInfo(p Period, g Granularity) PeriodInfo {
	return PeriodInfo{Label: p.Label, From: p.From, To: p.To, TimeZone: p.From.Location().String(), Granularity: g}
}

func totals(cur, prev *tally) Totals {
	t := Totals{
		Calls: cur.calls, Failures: cur.failures, Successes: cur.calls - cur.failures,
		PreviousCalls: prev.calls, PreviousFailures: prev.failures,
		CallsChange: change(cur.calls, prev.calls), FailuresChange: change(cur.failures, prev.failures),
	}
	if t.Successes > 0 {
		t.FailureRate = ratioPtr(cur.failures, cur.calls)
	}
	if prev.calls-prev.failures > 0 {
		t.PreviousRate = ratioPtr(prev.failures, prev.calls)
	}
	if t.FailureRate != nil && t.PreviousRate != nil {
		t.FailureRateChange = changeF(*t.FailureRate, *t.PreviousRate, true)
	}
	var retry int64
	for _, rt := range cur.reasons {
		retry += rt.retryable
	}
	t.RetryableShare = ratioPtr(retry, cur.failures)
	return t
}

func categories(cur, prev *tally) []Category {
	byCat := map[string]*Category{}
	retry := map[string]int64{}
	get := func(c string) *Category {
		if byCat[c] == nil {
			byCat[c] = &Category{Category: c}
		}
		return byCat[c]
	}
	causes := map[catReason]bool{}
	for cr := range cur.reasons {
		causes[cr] = true
	}
	for cr := range prev.reasons {
		causes[cr] = true
	}
	for cr := range causes {
		c := get(cr.category)
		var n, pn, rn int64
		if rt := cur.reasons[cr]; rt != nil {
			n, rn = rt.count, rt.retryable
		}
		if rt := prev.reasons[cr]; rt != nil {
			pn = rt.count
		}
		c.Count += n
		c.PreviousCount += pn
		retry[cr.category] += rn
		c.Reasons = append(c.Reasons, Reason{
			Reason: cr.reason, Count: n, PreviousCount: pn, Share: ratio(n, cur.failures),
			Change: change(n, pn), RetryableShare: ratioPtr(rn, n),
		})
	}
	var out []Category
	for _, c := range byCat {
		c.Share = ratio(c.Count, cur.failures)
		c.Change = change(c.Count, c.PreviousCount)
		c.RetryableShare = ratioPtr(retry[c.Category], c.Count)
		slices.SortFunc(c.Reasons, func(a, b Reason) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(b.PreviousCount, a.PreviousCount), strings.Compare(a.Reason, b.Reason))
		})
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Category) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(b.PreviousCount, a.PreviousCount),
			cmp.Compare(categoryIndex(a.Category), categoryIndex(b.Category)), strings.Compare(a.Category, b.Category))
	})
	return out
}

func breakdown(dimension string, cur, prev *tally, top int) Breakdown {
	b := Breakdown{Dimension: dimension, Rows: []BreakdownRow{}}
	for key, d := range cur.dims[dimension] {
		if d.failures == 0 {
			continue
		}
		b.Keys++
		row := BreakdownRow{
			Key: key, Calls: d.calls, Failures: d.failures, Share: ratio(d.failures, cur.failures),
			Categories: map[string]int64{},
		}
		if d.calls > d.failures {
			row.FailureRate = ratioPtr(d.failures, d.calls)
		}
		if pd := prev.dims[dimension][key]; pd != nil {
			row.PreviousFailures = pd.failures
		}
		row.Change = change(row.Failures, row.PreviousFailures)
		for c, n := range d.categories {
			if n > 0 {
				row.Categories[c] = n
			}
		}
		b.Rows = append(b.Rows, row)
	}
	slices.SortFunc(b.Rows, func(x, y BreakdownRow) int {
		return cmp.Or(cmp.Compare(y.Failures, x.Failures), strings.Compare(x.Key, y.Key))
	})
	if len(b.Rows) > top {
		for _, row := range b.Rows[top:] {
			b.OtherFailures += row.Failures
		}
		b.Rows = b.Rows[:top]
	}
	return b
}

func trend(p Period, cur *tally) Trend {
	t := Trend{Granularity: p.Granularity(), Categories: Categories}
	for i, start := range p.Buckets() {
		b := TrendBucket{Start: start, Counts: cur.trend[i]}
		for _, n := range b.Counts {
			b.Total += n
		}
		t.Buckets = append(t.Buckets, b)
	}
	return t
}

// tmplKey identifies a template row: the same text under another reason is
// another row.
type tmplKey struct{ template, category, reason string }

type tmplTally struct {
	count        int64
	example      string
	exampleCount int64 // count of the contribution the example comes from
}

// templates groups a tally's messages and message groups by template.
func templates(t *tally) map[tmplKey]*tmplTally {
	out := map[tmplKey]*tmplTally{}
	// The example is the message of the largest contribution (ties: the
	// smallest text), so that it does not depend on the order in which a
	// source lists messages.
	add := func(k tmplKey, n int64, ex string) {
		tt := out[k]
		if tt == nil {
			out[k] = &tmplTally{count: n, example: ex, exampleCount: n}
			return
		}
		tt.count += n
		if n > tt.exampleCount || (n == tt.exampleCount && ex < tt.example) {
			tt.example, tt.exampleCount = ex, n
		}
	}
	cache := map[string]string{}
	for k, n := range t.messages {
		tmpl, ok := cache[k.message]
		if !ok {
			tmpl = MessageTemplate(k.message)
			if tmpl == "" {
				tmpl = "(empty message)"
			}
			cache[k.message] = tmpl
		}
		add(tmplKey{tmpl, k.category, k.reason}, n, example(k.message))
	}
	for g, gt := range t.groups {
		tmpl, ex := groupTemplate(g, gt.sample)
		add(tmplKey{tmpl, g.category, g.reason}, gt.count, ex)
	}
	return out
}

func sortedTemplates(m map[tmplKey]*tmplTally) []tmplKey {
	keys := make([]tmplKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b tmplKey) int {
		return cmp.Or(cmp.Compare(m[b].count, m[a].count), strings.Compare(a.template, b.template),
			strings.Compare(a.category, b.category), strings.Compare(a.reason, b.reason))
	})
	return keys
}

func topTemplates(cur *tally, curT, prevT map[tmplKey]*tmplTally, compared bool, top int) Templates {
	out := Templates{Top: []Template{}, Distinct: len(curT)}
	var covered int64
	for _, tt := range curT {
		covered += tt.count
	}
	out.Coverage = ratio(covered, cur.failures)
	if cur.failures == 0 {
		out.Coverage = 1
	}
	for i, k := range sortedTemplates(curT) {
		if i == top {
			break
		}
		tt := curT[k]
		var pn int64
		if pt := prevT[k]; pt != nil {
			pn = pt.count
		}
		out.Top = append(out.Top, Template{
			Template: k.template, Category: k.category, Reason: k.reason, Count: tt.count, PreviousCount: pn,
			Share: ratio(tt.count, cur.failures), Change: change(tt.count, pn), New: compared && pn == 0, Example: tt.example,
		})
	}
	return out
}

func newThings(cur, prev *tally, curT, prevT map[tmplKey]*tmplTally) New {
	n := New{Compared: prev.calls > 0, Reasons: []NewItem{}, Providers: []NewItem{}, Templates: []NewTemplate{}}
	if !n.Compared {
		return n
	}
	for cr, rt := range cur.reasons {
		if pr := prev.reasons[cr]; rt.count > 0 && (pr == nil || pr.count == 0) {
			n.Reasons = append(n.Reasons, NewItem{Key: cr.category + "/" + cr.reason, Count: rt.count})
		}
	}
	for key, d := range cur.dims["provider"] {
		if pd := prev.dims["provider"][key]; d.failures > 0 && (pd == nil || pd.failures == 0) {
			n.Providers = append(n.Providers, NewItem{Key: key, Count: d.failures})
		}
	}
	byCount := func(a, b NewItem) int { return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Key, b.Key)) }
	slices.SortFunc(n.Reasons, byCount)
	slices.SortFunc(n.Providers, byCount)
	for _, k := range sortedTemplates(curT) {
		if prevT[k] == nil {
			n.Templates = append(n.Templates, NewTemplate{Template: k.template, Category: k.category, Reason: k.reason, Count: curT[k].count})
		}
	}
	return n
}

func checklist(cur *tally) []Hint {
	out := []Hint{}
	for rem, causes := range cur.hints {
		h := Hint{Remediation: rem, Reasons: []HintCause{}}
		for cr, n := range causes {
			h.Count += n
			h.Reasons = append(h.Reasons, HintCause{Category: cr.category, Reason: cr.reason, Count: n})
		}
		slices.SortFunc(h.Reasons, func(a, b HintCause) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Category, b.Category), strings.Compare(a.Reason, b.Reason))
		})
		h.Share = ratio(h.Count, cur.failures)
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b Hint) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Remediation, b.Remediation))
	})
	return out
}

var placeholder = regexp.MustCompile(`<[a-z]+>|\bHTTP \d+:?`)

// suggestContains returns the longest literal run of a template, lower
// cased and trimmed, as the start of a rule's `contains`; "" when the
// longest is shorter than four characters.
func suggestContains(tmpl string) string {
	best := ""
	for _, part := range placeholder.Split(tmpl, -1) {
		part = strings.Trim(strings.TrimSuffix(part, "…"), " :;,.|=")
		if len(part) > len(best) {
			best = part
		}
	}
	if len(best) < 4 {
		return ""
	}
	return strings.ToLower(best)
}

func unknown(cur *tally, curT map[tmplKey]*tmplTally, top int) Unknown {
	u := Unknown{Templates: []RuleCandidate{}}
	for cr, rt := range cur.reasons {
		if cr.category == "unknown" {
			u.Count += rt.count
		}
	}
	u.Share = ratio(u.Count, cur.failures)
	for _, k := range sortedTemplates(curT) {
		if k.category != "unknown" {
			continue
		}
		if len(u.Templates) == top {
			break
		}
		tt := curT[k]
		u.Templates = append(u.Templates, RuleCandidate{Template: k.template, Count: tt.count, Example: tt.example, SuggestedContains: suggestContains(k.template)})
	}
	return u
}
