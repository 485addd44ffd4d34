package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Markdown writes r as a Markdown document (GitHub-flavoured tables).
func Markdown(w io.Writer, r *Report) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	p("# API error report %s\n\n", r.Period.Label)
	p("%s (%s), compared with %s. Source: %s. Generated %s.\n\n",
		periodText(r.Period), r.Period.TimeZone, r.PreviousPeriod.Label, r.Source, r.GeneratedAt.Format("2006-01-02 15:04 MST"))
	p("**%s**\n\n", mdText(headline(r)))

	t := r.Totals
	p("## Summary\n\n| | %s | %s | Change |\n|---|--:|--:|--:|\n", r.Period.Label, r.PreviousPeriod.Label)
	p("| Calls | %s | %s | %s |\n", num(t.Calls), num(t.PreviousCalls), changeText(t.CallsChange, t.Calls))
	p("| Failures | %s | %s | %s |\n", num(t.Failures), num(t.PreviousFailures), changeText(t.FailuresChange, t.Failures))
	p("| Failure rate | %s | %s | %s |\n", pctPtr(t.FailureRate), pctPtr(t.PreviousRate), pointsText(t.FailureRate, t.PreviousRate))
	p("| Retryable failures | %s | | |\n\n", pctPtr(t.RetryableShare))

	if len(r.Categories) > 0 {
		p("## Failures by category and reason\n\n")
		p("| Category / reason | Failures | Share | %s | Change | Retryable | Who acts |\n|---|--:|--:|--:|--:|--:|---|\n", r.PreviousPeriod.Label)
		for _, c := range r.Categories {
			p("| **%s** | **%s** | %s | %s | %s | %s | %s |\n", c.Category, num(c.Count), pct(c.Share), num(c.PreviousCount),
				changeText(c.Change, c.Count), pctPtr(c.RetryableShare), owner(c.Category))
			for _, rs := range c.Reasons {
				p("| &nbsp;&nbsp;%s | %s | %s | %s | %s | %s | |\n", rs.Reason, num(rs.Count), pct(rs.Share), num(rs.PreviousCount),
					changeText(rs.Change, rs.Count), pctPtr(rs.RetryableShare))
			}
		}
		p("\n")
	}

	if len(r.Checklist) > 0 {
		p("## What to fix first\n\nEach remediation hint with the failures it addresses, largest first.\n\n")
		for _, h := range r.Checklist {
			var causes []string
			for _, c := range h.Reasons {
				causes = append(causes, c.Category+"/"+c.Reason)
			}
			p("- [ ] **%s** (%s) %s _%s_\n", num(h.Count), pct(h.Share), mdText(h.Remediation), strings.Join(causes, ", "))
		}
		p("\n")
	}

	if t.Failures > 0 {
		p("## Trend\n\nFailures per %s and category.\n\n| %s |", r.Trend.Granularity, strings.ToUpper(string(r.Trend.Granularity[:1]))+string(r.Trend.Granularity[1:]))
		for _, c := range r.Trend.Categories {
			p(" %s |", c)
		}
		p(" Total |\n|---|%s--:|\n", strings.Repeat("--:|", len(r.Trend.Categories)))
		for _, bk := range r.Trend.Buckets {
			p("| %s |", bucketText(bk.Start, r.Trend.Granularity))
			for _, n := range bk.Counts {
				p(" %s |", num(n))
			}
			p(" %s |\n", num(bk.Total))
		}
		p("\n")

		p("## Breakdowns\n\n")
		for _, bd := range r.Breakdowns {
			p("### %s\n\n| %s | Failures | Share | Calls | Failure rate | %s | Change | Mostly |\n|---|--:|--:|--:|--:|--:|--:|---|\n",
				dimensionHeading[bd.Dimension], dimensionTitle[bd.Dimension], r.PreviousPeriod.Label)
			for _, row := range bd.Rows {
				p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", mdCell(row.Key), num(row.Failures), pct(row.Share), num(row.Calls),
					pctPtr(row.FailureRate), num(row.PreviousFailures), changeText(row.Change, row.Failures), topCategory(row.Categories))
			}
			if bd.OtherFailures > 0 {
				p("| _%d more_ | %s | | | | | | |\n", bd.Keys-len(bd.Rows), num(bd.OtherFailures))
			}
			p("\n")
		}

		p("## Top error messages\n\nMessages grouped by template (%d templates; %s of failures covered).\n\n", r.Templates.Distinct, pct(r.Templates.Coverage))
		for i, tm := range r.Templates.Top {
			p("%d. **%s** %s/%s, %s: %s\n", i+1, num(tm.Count), tm.Category, tm.Reason, changeText(tm.Change, tm.Count), mdCode(tm.Template))
			if showExample(tm.Template, tm.Example) {
				p("   <br>e.g. %s\n", mdCode(tm.Example))
			}
		}
		p("\n")
	}

	p("## New this period\n\n")
	switch {
	case !r.New.Compared:
		p("Not compared: the previous period holds no calls.\n\n")
	case len(r.New.Reasons)+len(r.New.Providers)+len(r.New.Templates) == 0:
		p("Nothing new: every reason, provider and message template was seen in %s.\n\n", r.PreviousPeriod.Label)
	default:
		for _, it := range r.New.Reasons {
			p("- reason **%s**: %s failures\n", it.Key, num(it.Count))
		}
		for _, it := range r.New.Providers {
			p("- provider **%s**: %s failures\n", mdText(it.Key), num(it.Count))
		}
		for i, it := range r.New.Templates {
			if i == maxNewTemplates {
				p("- and %d more new message templates (see the JSON report)\n", len(r.New.Templates)-i)
				break
			}
			p("- message %s (%s/%s): %s\n", mdCode(it.Template), it.Category, it.Reason, num(it.Count))
		}
		p("\n")
	}

	p("## Unknown failures\n\n")
	if r.Unknown.Count == 0 {
		p("Every failure matched a rule.\n\n")
	} else {
		p("%s (%s) matched no rule. Their top templates are candidates for new rules:\n\n", plural(r.Unknown.Count, "failure"), pct(r.Unknown.Share))
		for i, c := range r.Unknown.Templates {
			p("%d. **%s** %s", i+1, num(c.Count), mdCode(c.Template))
			if c.SuggestedContains != "" {
				p("<br>rule: %s", mdCode(fmt.Sprintf("text: {contains: [%q]}", c.SuggestedContains)))
			}
			p("\n")
		}
		p("\n")
	}
	if len(r.Notes) > 0 {
		p("## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", mdText(n))
		}
		p("\n")
	}
	return b.Flush()
}

// mdText escapes the characters that Markdown would take as markup.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "|", `\|`)

func mdText(s string) string { return mdEscaper.Replace(s) }

// mdCell is text in a table cell.
func mdCell(s string) string { return mdText(s) }

// mdCode is s as an inline code span (for lists, not table cells): the
// fence is longer than any backtick run inside.
func mdCode(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}
