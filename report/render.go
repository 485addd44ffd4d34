package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Formats is the output formats of Render.
var Formats = []string{"markdown", "html", "json", "csv"}

// Render writes r in format (markdown, html, json or csv) to w.
func Render(w io.Writer, r *Report, format string) error {
	switch format {
	case "markdown", "md":
		return Markdown(w, r)
	case "html":
		return HTML(w, r)
	case "json":
		return JSON(w, r)
	case "csv":
		return CSV(w, r)
	}
	return fmt.Errorf("unknown format %q; known: %s", format, strings.Join(Formats, ", "))
}

// JSON writes r as indented JSON (the schema is described in doc.go).
func JSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// owners says, per category, whose side has to act.
var owners = map[string]string{
	"auth":    "you: credentials, permissions or billing",
	"network": "you or your network: proxy, firewall, DNS, timeouts",
	"payload": "you: the request sent",
	"server":  "the provider: back off and retry",
	"unknown": "triage: no rule matched",
}

// owner is whose side has to act for category c.
func owner(c string) string {
	if o, ok := owners[c]; ok {
		return o
	}
	return "triage"
}

// num formats n with thousands separators.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// pct formats a share as a percentage.
func pct(x float64) string {
	v := x * 100
	if v == 0 || math.Abs(v) >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

func pctPtr(x *float64) string {
	if x == nil {
		return "–"
	}
	return pct(*x)
}

// changeText formats a relative change: "+12%", "−8%", "new" when there
// was nothing before, "–" when there is nothing either way.
func changeText(c *float64, cur int64) string {
	switch {
	case c == nil && cur > 0:
		return "new"
	case c == nil:
		return "–"
	case math.Abs(*c) < 0.0005: // prints as 0.0%
		return "±0%"
	case *c > 0:
		return "+" + pct(*c)
	}
	return "−" + pct(-*c)
}

// pointsText formats the change of a rate in percentage points.
func pointsText(cur, prev *float64) string {
	if cur == nil || prev == nil {
		return "–"
	}
	d := (*cur - *prev) * 100
	switch {
	case math.Abs(d) < 0.05:
		return "±0 pts"
	case d > 0:
		return "+" + strconv.FormatFloat(d, 'f', 1, 64) + " pts"
	}
	return "−" + strconv.FormatFloat(-d, 'f', 1, 64) + " pts"
}

// topCategory is the category with most failures in a breakdown row
// (ties: taxonomy order, then name).
func topCategory(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for c := range m {
		keys = append(keys, c)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(categoryIndex(a), categoryIndex(b)), strings.Compare(a, b))
	})
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// periodText states a period in its time zone.
func periodText(p PeriodInfo) string {
	f, t := p.From, p.To
	if f.Hour() == 0 && f.Minute() == 0 && t.Hour() == 0 && t.Minute() == 0 {
		return f.Format("Mon 2 Jan 2006") + " to " + t.Add(-time.Nanosecond).Format("Mon 2 Jan 2006")
	}
	return f.Format("2 Jan 2006 15:04") + " to " + t.Format("2 Jan 2006 15:04")
}

// bucketText names a trend bucket.
func bucketText(t time.Time, g Granularity) string {
	if g == Hourly {
		return t.Format("Mon 15:04")
	}
	return t.Format("Mon 2 Jan")
}

// plural is n and a noun, with an s unless n is 1.
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return num(n) + " " + noun + "s"
}

// showExample reports whether a template's example says more than the
// template itself (it does not when nothing was replaced).
func showExample(tmpl, ex string) bool {
	return ex != "" && ex != tmpl && !strings.HasSuffix(tmpl, ": "+ex)
}

// maxNewTemplates is the number of new templates Markdown and HTML list.
const maxNewTemplates = 10

// dimensionTitle names a breakdown.
var dimensionTitle = map[string]string{
	"provider": "Provider", "service": "Service", "endpoint": "Endpoint", "api_key_id": "API key",
}

// dimensionHeading titles a breakdown's section.
var dimensionHeading = map[string]string{
	"provider": "By provider", "service": "By service", "endpoint": "By endpoint", "api_key_id": "By API key",
}

// headline is the report's one-sentence summary.
func headline(r *Report) string {
	t := r.Totals
	if t.Calls == 0 {
		return "No API calls were recorded in this period."
	}
	if t.Failures == 0 {
		return fmt.Sprintf("No failures among %s.", plural(t.Calls, "call"))
	}
	s := plural(t.Failures, "failure")
	if t.FailureRate != nil {
		s += fmt.Sprintf(" (%s of %s calls)", pct(*t.FailureRate), num(t.Calls))
	}
	if c := changeText(t.FailuresChange, t.Failures); c != "new" && c != "–" {
		s += fmt.Sprintf(", %s on %s", c, r.PreviousPeriod.Label)
	}
	if len(r.Categories) > 0 {
		c := r.Categories[0]
		s += fmt.Sprintf(". Most are %s (%s), for %s", c.Category, pct(c.Share), owner(c.Category))
	}
	if cat, rs, ok := largestRise(r); ok && r.New.Compared {
		s += fmt.Sprintf(". Largest rise: %s/%s, %s failures (%s)", cat, rs.Reason, "+"+num(rs.Count-rs.PreviousCount), changeText(rs.Change, rs.Count))
	}
	return s + "."
}

// largestRise is the reason whose failures grew most since the previous
// period, in absolute numbers (ties: the first listed).
func largestRise(r *Report) (category string, reason Reason, ok bool) {
	var best int64
	for _, c := range r.Categories {
		for _, rs := range c.Reasons {
			if d := rs.Count - rs.PreviousCount; d > best {
				best, category, reason, ok = d, c.Category, rs, true
			}
		}
	}
	return category, reason, ok
}
