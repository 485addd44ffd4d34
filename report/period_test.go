package report

import (
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestWeek(t *testing.T) {
	for _, tc := range []struct {
		spec, tz, from, to, prevLabel, prevFrom string
	}{
		{"2026-W47", "UTC", "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z", "2026-W46", "2026-11-09T00:00:00Z"},
		{"2026W47", "UTC", "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z", "2026-W46", "2026-11-09T00:00:00Z"},
		{"2026-W01", "UTC", "2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z", "2025-W52", "2025-12-22T00:00:00Z"},
		{"2026-W53", "UTC", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z", "2026-W52", "2026-12-21T00:00:00Z"},
		// The week of the end of daylight saving time lasts 169 hours.
		{"2026-W44", "Europe/Berlin", "2026-10-26T00:00:00+01:00", "2026-11-02T00:00:00+01:00", "2026-W43", "2026-10-19T00:00:00+02:00"},
		{"2026-W13", "Europe/Berlin", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00", "2026-W12", "2026-03-16T00:00:00+01:00"},
	} {
		p, err := Week(tc.spec, mustLoc(t, tc.tz))
		if err != nil {
			t.Errorf("Week(%s): %v", tc.spec, err)
			continue
		}
		prev := p.Previous()
		if got := p.From.Format(time.RFC3339); got != tc.from {
			t.Errorf("Week(%s).From = %s, want %s", tc.spec, got, tc.from)
		}
		if got := p.To.Format(time.RFC3339); got != tc.to {
			t.Errorf("Week(%s).To = %s, want %s", tc.spec, got, tc.to)
		}
		if prev.Label != tc.prevLabel || prev.From.Format(time.RFC3339) != tc.prevFrom || !prev.To.Equal(p.From) {
			t.Errorf("Week(%s).Previous() = %s %s..%s, want %s from %s to %s", tc.spec, prev.Label, prev.From, prev.To, tc.prevLabel, tc.prevFrom, p.From)
		}
		if n := len(p.Buckets()); n != 7 {
			t.Errorf("Week(%s) has %d daily buckets, want 7", tc.spec, n)
		}
	}
}

func TestWeekErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"2026-W54": "2026 has no week 54",
		"2026-W00": "2026 has no week 0",
		"2027-W53": "2027 has no week 53",
		"W47":      "want an ISO week",
		"2026-47":  "want an ISO week",
	} {
		if _, err := Week(spec, time.UTC); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Week(%q) = %v, want an error with %q", spec, err, want)
		}
	}
}

func TestLastCompleteWeek(t *testing.T) {
	for _, tc := range []struct {
		now, tz, want string
	}{
		{"2026-11-26T09:00:00Z", "UTC", "2026-W47"},
		{"2026-11-23T00:00:00Z", "UTC", "2026-W47"},           // Monday midnight: W47 has just ended
		{"2026-11-22T23:59:59Z", "UTC", "2026-W46"},           // still Sunday of W47
		{"2026-11-22T23:30:00Z", "Europe/Berlin", "2026-W47"}, // already Monday in Berlin
		{"2026-01-01T12:00:00Z", "UTC", "2025-W52"},
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		if got := LastCompleteWeek(now, mustLoc(t, tc.tz)).Label; got != tc.want {
			t.Errorf("LastCompleteWeek(%s, %s) = %s, want %s", tc.now, tc.tz, got, tc.want)
		}
	}
}

func TestRange(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	for _, tc := range []struct {
		from, to    string
		granularity Granularity
		buckets     int
		prevFrom    string
	}{
		{"2026-11-01", "2026-12-01", Daily, 30, "2026-10-02T00:00:00+02:00"},
		{"2026-11-17", "2026-11-19", Hourly, 48, "2026-11-15T00:00:00+01:00"},
		{"2026-11-17T06:00:00Z", "2026-11-17T18:00:00Z", Hourly, 12, "2026-11-16T19:00:00+01:00"},
		{"2026-10-24", "2026-10-26", Hourly, 49, "2026-10-22T00:00:00+02:00"},              // 25-hour Sunday
		{"2026-11-16T12:00:00+01:00", "2026-11-19", Daily, 3, "2026-11-14T00:00:00+01:00"}, // 60 hours before
	} {
		p, err := Range(tc.from, tc.to, berlin)
		if err != nil {
			t.Errorf("Range(%s, %s): %v", tc.from, tc.to, err)
			continue
		}
		if g, n := p.Granularity(), len(p.Buckets()); g != tc.granularity || n != tc.buckets {
			t.Errorf("Range(%s, %s): %d %s buckets, want %d %s", tc.from, tc.to, n, g, tc.buckets, tc.granularity)
		}
		if got := p.Previous().From.Format(time.RFC3339); got != tc.prevFrom {
			t.Errorf("Range(%s, %s).Previous().From = %s, want %s", tc.from, tc.to, got, tc.prevFrom)
		}
	}
	for _, tc := range []struct{ from, to, label, prev string }{
		{"2026-11-16", "2026-11-23", "2026-11-16 – 2026-11-22", "2026-11-09 – 2026-11-15"},
		{"2026-11-17", "2026-11-18", "2026-11-17", "2026-11-16"},
		{"2026-11-17T06:00:00+01:00", "2026-11-17T18:00:00+01:00", "2026-11-17 06:00 CET – 2026-11-17 18:00 CET", "2026-11-16 18:00 CET – 2026-11-17 06:00 CET"},
	} {
		p, err := Range(tc.from, tc.to, berlin)
		if err != nil {
			t.Fatal(err)
		}
		if p.Label != tc.label || p.Previous().Label != tc.prev {
			t.Errorf("Range(%s, %s) is labelled %q after %q, want %q after %q", tc.from, tc.to, p.Label, p.Previous().Label, tc.label, tc.prev)
		}
	}
	for _, bad := range [][2]string{{"2026-11-19", "2026-11-17"}, {"yesterday", "2026-11-17"}, {"2025-01-01", "2026-11-17"}} {
		if _, err := Range(bad[0], bad[1], berlin); err == nil {
			t.Errorf("Range(%s, %s) succeeded, want an error", bad[0], bad[1])
		}
	}
}
