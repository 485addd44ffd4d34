package report

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Period is a half-open interval of time [From, To) in a time zone, the unit
// a report covers.
type Period struct {
	From, To time.Time
	// Label names the period for people: "2026-W47", or "2026-11-16 – 2026-11-23".
	Label string
}

// Granularity is the width of a trend bucket.
type Granularity string

// Trend granularities: hourly for periods of two days or less, daily otherwise.
const (
	Hourly Granularity = "hour"
	Daily  Granularity = "day"
)

// maxBuckets bounds the trend of a long --from/--to period.
const maxBuckets = 400

var weekSpec = regexp.MustCompile(`^(\d{4})-?W(\d{2})$`)

// Week returns ISO week spec ("2026-W47" or "2026W47") in loc: Monday
// 00:00 to the next Monday 00:00, local time.
func Week(spec string, loc *time.Location) (Period, error) {
	m := weekSpec.FindStringSubmatch(spec)
	if m == nil {
		return Period{}, fmt.Errorf("week %q: want an ISO week such as 2026-W47", spec)
	}
	year, _ := strconv.Atoi(m[1])
	week, _ := strconv.Atoi(m[2])
	// Week 1 is the week holding 4 January.
	jan4 := time.Date(year, time.January, 4, 0, 0, 0, 0, loc)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday())+6)%7)).AddDate(0, 0, 7*(week-1))
	if y, w := monday.ISOWeek(); week < 1 || y != year || w != week {
		return Period{}, fmt.Errorf("week %q: %d has no week %d", spec, year, week)
	}
	return weekPeriod(monday), nil
}

// LastCompleteWeek returns the ISO week in loc before the one holding now.
func LastCompleteWeek(now time.Time, loc *time.Location) Period {
	t := now.In(loc)
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	thisMonday := midnight.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
	return weekPeriod(thisMonday.AddDate(0, 0, -7))
}

func weekPeriod(monday time.Time) Period {
	y, w := monday.ISOWeek()
	return Period{From: monday, To: monday.AddDate(0, 0, 7), Label: fmt.Sprintf("%04d-W%02d", y, w)}
}

// Range returns the period from..to (to exclusive). Each bound is RFC 3339
// or a date YYYY-MM-DD, which means midnight in loc.
func Range(from, to string, loc *time.Location) (Period, error) {
	f, err := parseBound(from, loc)
	if err != nil {
		return Period{}, fmt.Errorf("--from: %w", err)
	}
	t, err := parseBound(to, loc)
	if err != nil {
		return Period{}, fmt.Errorf("--to: %w", err)
	}
	if !t.After(f) {
		return Period{}, fmt.Errorf("--to %s is not after --from %s", to, from)
	}
	p := Period{From: f, To: t}
	if n := len(p.Buckets()); n > maxBuckets {
		return Period{}, fmt.Errorf("period %s to %s has %d daily buckets; at most %d", from, to, n, maxBuckets)
	}
	p.Label = p.rangeLabel()
	return p, nil
}

func parseBound(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	return t.In(loc), nil
}

// midnights reports whether both bounds fall on midnight in their zone,
// so that the period is a whole number of calendar days.
func (p Period) midnights() bool {
	isMidnight := func(t time.Time) bool {
		return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	}
	return isMidnight(p.From) && isMidnight(p.To)
}

// days returns the number of calendar days of a period of whole days.
func (p Period) days() int {
	n := 0
	for d := p.From; d.Before(p.To); d = d.AddDate(0, 0, 1) {
		n++
	}
	return n
}

// rangeLabel names a period of whole days by its first and last day
// (2026-11-16 – 2026-11-22, or one date), else by its bounds.
func (p Period) rangeLabel() string {
	if p.midnights() {
		last := p.To.AddDate(0, 0, -1)
		if !last.After(p.From) {
			return p.From.Format("2006-01-02")
		}
		return p.From.Format("2006-01-02") + " – " + last.Format("2006-01-02")
	}
	return p.From.Format("2006-01-02 15:04 MST") + " – " + p.To.Format("2006-01-02 15:04 MST")
}

// Previous returns the period of the same length just before p: the
// previous ISO week for a week, the same number of calendar days for whole
// days (so a daylight saving change does not shift midnight), else the same
// duration.
func (p Period) Previous() Period {
	var q Period
	if p.midnights() {
		q = Period{From: p.From.AddDate(0, 0, -p.days()), To: p.From}
	} else {
		q = Period{From: p.From.Add(-p.To.Sub(p.From)), To: p.From}
	}
	if weekSpec.MatchString(p.Label) {
		q.Label = weekPeriod(q.From).Label
	} else {
		q.Label = q.rangeLabel()
	}
	return q
}

// Granularity returns Hourly for periods of two days or less (two
// calendar days even when one has 25 hours), else Daily.
func (p Period) Granularity() Granularity {
	if p.To.Sub(p.From) <= 48*time.Hour || (p.midnights() && p.days() <= 2) {
		return Hourly
	}
	return Daily
}

// Buckets returns the start of each trend bucket; bucket i ends where
// bucket i+1 starts, the last at p.To. Daily buckets start at local
// midnight (the first at p.From); hourly ones every hour from p.From.
func (p Period) Buckets() []time.Time {
	var out []time.Time
	if p.Granularity() == Hourly {
		for t := p.From; t.Before(p.To); t = t.Add(time.Hour) {
			out = append(out, t)
		}
		return out
	}
	out = append(out, p.From)
	f := p.From
	for d := time.Date(f.Year(), f.Month(), f.Day()+1, 0, 0, 0, 0, f.Location()); d.Before(p.To); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
		if len(out) > maxBuckets {
			break
		}
	}
	return out
}

// contains reports whether t (truncated to milliseconds, as Elasticsearch
// stores dates) falls in p.
func (p Period) contains(ms int64) bool {
	return ms >= p.From.UnixMilli() && ms < p.To.UnixMilli()
}
