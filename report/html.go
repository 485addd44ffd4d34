package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

//go:embed report.html.tmpl
var htmlSource string

// categoryColors are the chart colours of the categories (readable on
// white and in greyscale print, in the order of Categories).
var categoryColors = map[string]string{
	"auth": "#7c3aed", "network": "#0369a1", "payload": "#d97706", "server": "#dc2626", "unknown": "#6b7280",
}

func categoryColor(c string) string {
	if v, ok := categoryColors[c]; ok {
		return v
	}
	return categoryColors["unknown"]
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": num, "pct": pct, "pctPtr": pctPtr, "changeText": changeText, "pointsText": pointsText,
	"owner": owner, "topCategory": topCategory, "periodText": periodText, "headline": headline,
	"dimensionTitle": func(d string) string { return dimensionTitle[d] },
	"color":          categoryColor,
	"trendChart":     trendChart,
	"categoryChart":  categoryChart,
	"changeClass": func(c *float64) string {
		switch {
		case c == nil || math.Abs(*c) < 0.0005:
			return ""
		case *c > 0:
			return "up"
		}
		return "down"
	},
	"add":              func(a, b int) int { return a + b },
	"sub":              func(a, b int) int { return a - b },
	"maxNew":           func() int { return maxNewTemplates },
	"plural":           plural,
	"dimensionHeading": func(d string) string { return dimensionHeading[d] },
	"causes": func(h Hint) string {
		var s []string
		for _, c := range h.Reasons {
			s = append(s, c.Category+"/"+c.Reason)
		}
		return strings.Join(s, ", ")
	},
	"ruleText":    func(s string) string { return fmt.Sprintf("text: {contains: [%q]}", s) },
	"more":        func(b Breakdown) int { return b.Keys - len(b.Rows) },
	"showExample": showExample,
}).Parse(htmlSource))

// HTML writes r as one self-contained HTML page: inline CSS and SVG charts,
// nothing loaded from the network; it prints on A4.
func HTML(w io.Writer, r *Report) error {
	return htmlTemplate.Execute(w, r)
}

// niceStep rounds m/4 up to 1, 2 or 5 times a power of ten: the step of
// a chart axis with four gridlines above zero.
func niceStep(m int64) int64 {
	if m <= 4 {
		return 1
	}
	q := float64(m) / 4
	p := math.Pow(10, math.Floor(math.Log10(q)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= q {
			return int64(f * p)
		}
	}
	return int64(10 * p)
}

// trendChart draws the trend as stacked bars per bucket and category.
func trendChart(t Trend) template.HTML {
	const w, h, left, right, top, bottom = 760.0, 230.0, 44.0, 8.0, 10.0, 34.0
	n := len(t.Buckets)
	if n == 0 {
		return ""
	}
	var max int64
	for _, b := range t.Buckets {
		max = int64(math.Max(float64(max), float64(b.Total)))
	}
	step := niceStep(max)
	ymax := 4 * step
	plotW, plotH := w-left-right, h-top-bottom
	slot := plotW / float64(n)
	bw := slot * 0.72
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="Failures per %s and category">`, w, h, t.Granularity)
	for i := 0; i <= 4; i++ {
		y := top + plotH - plotH*float64(i)/4
		fmt.Fprintf(&s, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" class="grid"/><text x="%g" y="%.1f" class="axis" text-anchor="end">%s</text>`,
			left, y, w-right, y, left-6, y+3.5, num(step*int64(i)))
	}
	labelEvery := 1
	if n > 14 {
		labelEvery = int(math.Ceil(float64(n) / 12))
	}
	for i, b := range t.Buckets {
		x := left + slot*float64(i) + (slot-bw)/2
		y := top + plotH
		for j, c := range t.Categories {
			v := b.Counts[j]
			if v == 0 {
				continue
			}
			bh := plotH * float64(v) / float64(ymax)
			y -= bh
			fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				x, y, bw, bh, categoryColor(c), template.HTMLEscapeString(bucketText(b.Start, t.Granularity)), c, num(v))
		}
		if i%labelEvery == 0 {
			label := b.Start.Format("Mon 2")
			if t.Granularity == Hourly {
				label = b.Start.Format("15h")
			}
			fmt.Fprintf(&s, `<text x="%.1f" y="%g" class="axis" text-anchor="middle">%s</text>`, x+bw/2, h-bottom+16, template.HTMLEscapeString(label))
		}
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// categoryChart draws each category's failures against the previous period.
func categoryChart(r *Report) template.HTML {
	cats := r.Categories
	if len(cats) == 0 {
		return ""
	}
	const w, left, right, row = 760.0, 90.0, 70.0, 34.0
	h := row*float64(len(cats)) + 8
	var max int64
	for _, c := range cats {
		max = int64(math.Max(float64(max), math.Max(float64(c.Count), float64(c.PreviousCount))))
	}
	if max == 0 {
		max = 1
	}
	plotW := w - left - right
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="Failures per category, this period and the previous one">`, w, h)
	for i, c := range cats {
		y := 4 + row*float64(i)
		cw := plotW * float64(c.Count) / float64(max)
		pw := plotW * float64(c.PreviousCount) / float64(max)
		fmt.Fprintf(&s, `<text x="%g" y="%.1f" class="label" text-anchor="end">%s</text>`, left-8, y+15, template.HTMLEscapeString(c.Category))
		fmt.Fprintf(&s, `<rect x="%g" y="%.1f" width="%.1f" height="16" fill="%s"/>`, left, y+3, cw, categoryColor(c.Category))
		fmt.Fprintf(&s, `<rect x="%g" y="%.1f" width="%.1f" height="6" fill="%s" opacity="0.35"/>`, left, y+21, pw, categoryColor(c.Category))
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" class="value">%s</text>`, left+cw+6, y+15, num(c.Count))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}
