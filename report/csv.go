package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// csvHeader is the columns of the CSV format: one long table, a row per
// item of every section (doc.go lists the sections).
var csvHeader = []string{"section", "key", "category", "reason", "count", "previous_count", "share", "change",
	"retryable_share", "calls", "failure_rate", "example"}

// CSV writes r as one long table with a section column, for spreadsheets.
func CSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	fp := func(x *float64) string {
		if x == nil {
			return ""
		}
		return f(*x)
	}
	row := func(cols ...string) { cw.Write(cols) }
	row(csvHeader...)
	t := r.Totals
	row("period", r.Period.Label, "", "", "", "", "", "", "", "", "", r.Period.From.Format(time.RFC3339)+"/"+r.Period.To.Format(time.RFC3339))
	row("previous_period", r.PreviousPeriod.Label, "", "", "", "", "", "", "", "", "", r.PreviousPeriod.From.Format(time.RFC3339)+"/"+r.PreviousPeriod.To.Format(time.RFC3339))
	row("totals", "calls", "", "", i(t.Calls), i(t.PreviousCalls), "", fp(t.CallsChange), "", "", "", "")
	row("totals", "failures", "", "", i(t.Failures), i(t.PreviousFailures), "", fp(t.FailuresChange), fp(t.RetryableShare), i(t.Calls), fp(t.FailureRate), "")
	for _, c := range r.Categories {
		row("category", c.Category, c.Category, "", i(c.Count), i(c.PreviousCount), f(c.Share), fp(c.Change), fp(c.RetryableShare), "", "", "")
		for _, rs := range c.Reasons {
			row("reason", c.Category+"/"+rs.Reason, c.Category, rs.Reason, i(rs.Count), i(rs.PreviousCount), f(rs.Share), fp(rs.Change), fp(rs.RetryableShare), "", "", "")
		}
	}
	for _, bd := range r.Breakdowns {
		for _, x := range bd.Rows {
			row(bd.Dimension, x.Key, topCategory(x.Categories), "", i(x.Failures), i(x.PreviousFailures), f(x.Share), fp(x.Change), "", i(x.Calls), fp(x.FailureRate), "")
		}
	}
	for _, bk := range r.Trend.Buckets {
		for j, c := range r.Trend.Categories {
			row("trend", bk.Start.Format(time.RFC3339), c, "", i(bk.Counts[j]), "", "", "", "", "", "", "")
		}
	}
	for _, tm := range r.Templates.Top {
		row("template", tm.Template, tm.Category, tm.Reason, i(tm.Count), i(tm.PreviousCount), f(tm.Share), fp(tm.Change), "", "", "", tm.Example)
	}
	for _, h := range r.Checklist {
		row("checklist", h.Remediation, "", "", i(h.Count), "", f(h.Share), "", "", "", "", "")
	}
	for _, it := range r.New.Reasons {
		row("new_reason", it.Key, "", "", i(it.Count), "0", "", "", "", "", "", "")
	}
	for _, it := range r.New.Providers {
		row("new_provider", it.Key, "", "", i(it.Count), "0", "", "", "", "", "", "")
	}
	for _, it := range r.New.Templates {
		row("new_template", it.Template, it.Category, it.Reason, i(it.Count), "0", "", "", "", "", "", "")
	}
	for _, c := range r.Unknown.Templates {
		row("unknown_template", c.Template, "unknown", "unmatched", i(c.Count), "", "", "", "", "", "", c.Example)
	}
	cw.Flush()
	return cw.Error()
}
