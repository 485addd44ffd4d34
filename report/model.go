package report

import "time"

// SchemaVersion is the version of the JSON report (doc.go describes it).
// It changes only when a key is removed or changes meaning; new keys may be
// added within a version.
const SchemaVersion = 1

// Categories is the taxonomy's categories in the order reports list them
// when counts tie, and the order of trend series.
var Categories = []string{"auth", "network", "payload", "server", "unknown"}

// Dimensions is the breakdowns of a report, in order.
var Dimensions = []string{"provider", "service", "endpoint", "api_key_id"}

// None is the key of calls that lack a breakdown's field.
const None = "(none)"

// Report is the weekly error report: the model every format renders, the
// same whichever source it was computed from.
type Report struct {
	SchemaVersion  int         `json:"schema_version"`
	Source         string      `json:"source"`
	GeneratedAt    time.Time   `json:"generated_at"`
	Period         PeriodInfo  `json:"period"`
	PreviousPeriod PeriodInfo  `json:"previous_period"`
	Totals         Totals      `json:"totals"`
	Categories     []Category  `json:"categories"`
	Breakdowns     []Breakdown `json:"breakdowns"`
	Trend          Trend       `json:"trend"`
	Templates      Templates   `json:"templates"`
	New            New         `json:"new"`
	Checklist      []Hint      `json:"checklist"`
	Unknown        Unknown     `json:"unknown"`
	Notes          []string    `json:"notes"`
}

// PeriodInfo is a period [from, to) as the report states it.
type PeriodInfo struct {
	Label       string      `json:"label"`
	From        time.Time   `json:"from"`
	To          time.Time   `json:"to"`
	TimeZone    string      `json:"time_zone"`
	Granularity Granularity `json:"granularity,omitempty"`
}

// Totals are the period's call and failure counts. FailureRate is null
// when the period has no indexed success (the rate would be meaningless).
// Changes are relative ((now - before) / before), null without a before.
type Totals struct {
	Calls             int64    `json:"calls"`
	Failures          int64    `json:"failures"`
	Successes         int64    `json:"successes"`
	FailureRate       *float64 `json:"failure_rate"`
	RetryableShare    *float64 `json:"retryable_share"`
	PreviousCalls     int64    `json:"previous_calls"`
	PreviousFailures  int64    `json:"previous_failures"`
	PreviousRate      *float64 `json:"previous_failure_rate"`
	CallsChange       *float64 `json:"calls_change"`
	FailuresChange    *float64 `json:"failures_change"`
	FailureRateChange *float64 `json:"failure_rate_change"`
}

// Category is one category of the taxonomy with its reasons.
type Category struct {
	Category       string   `json:"category"`
	Count          int64    `json:"count"`
	PreviousCount  int64    `json:"previous_count"`
	Share          float64  `json:"share"`
	Change         *float64 `json:"change"`
	RetryableShare *float64 `json:"retryable_share"`
	Reasons        []Reason `json:"reasons"`
}

// Reason is one reason of a category.
type Reason struct {
	Reason         string   `json:"reason"`
	Count          int64    `json:"count"`
	PreviousCount  int64    `json:"previous_count"`
	Share          float64  `json:"share"`
	Change         *float64 `json:"change"`
	RetryableShare *float64 `json:"retryable_share"`
}

// Breakdown is the failures by one dimension (provider, service, endpoint,
// api_key_id): the top rows by failures, and what the rest add up to.
type Breakdown struct {
	Dimension     string         `json:"dimension"`
	Rows          []BreakdownRow `json:"rows"`
	Keys          int            `json:"keys"`
	OtherFailures int64          `json:"other_failures"`
}

// BreakdownRow is one value of a dimension. Categories holds its failures
// by category (categories without failures are left out).
type BreakdownRow struct {
	Key              string           `json:"key"`
	Calls            int64            `json:"calls"`
	Failures         int64            `json:"failures"`
	FailureRate      *float64         `json:"failure_rate"`
	Share            float64          `json:"share"`
	PreviousFailures int64            `json:"previous_failures"`
	Change           *float64         `json:"change"`
	Categories       map[string]int64 `json:"categories"`
}

// Trend is the failures per category over the period.
type Trend struct {
	Granularity Granularity   `json:"granularity"`
	Categories  []string      `json:"categories"`
	Buckets     []TrendBucket `json:"buckets"`
}

// TrendBucket is the failures of one day or hour, from Start to the next
// bucket's start; Counts follows Trend.Categories.
type TrendBucket struct {
	Start  time.Time `json:"start"`
	Total  int64     `json:"total"`
	Counts []int64   `json:"counts"`
}

// Templates is the top error-message templates. Coverage is the share of
// failures whose message was read in full (see doc.go for the trade-off).
type Templates struct {
	Top      []Template `json:"top"`
	Distinct int        `json:"distinct"`
	Coverage float64    `json:"coverage"`
}

// Template is an error-message template with its count and an example.
type Template struct {
	Template      string   `json:"template"`
	Category      string   `json:"category"`
	Reason        string   `json:"reason"`
	Count         int64    `json:"count"`
	PreviousCount int64    `json:"previous_count"`
	Share         float64  `json:"share"`
	Change        *float64 `json:"change"`
	New           bool     `json:"new"`
	Example       string   `json:"example"`
}

// New lists what the period has and the previous period had not. It is
// empty, with Compared false, when the previous period holds no call.
type New struct {
	Compared  bool          `json:"compared"`
	Reasons   []NewItem     `json:"reasons"`
	Providers []NewItem     `json:"providers"`
	Templates []NewTemplate `json:"templates"`
}

// NewItem is a reason ("category/reason") or a provider new this period.
type NewItem struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// NewTemplate is a message template new this period.
type NewTemplate struct {
	Template string `json:"template"`
	Category string `json:"category"`
	Reason   string `json:"reason"`
	Count    int64  `json:"count"`
}

// Hint is one remediation hint of the rules with the failures it would
// address, and the reasons those failures had.
type Hint struct {
	Remediation string      `json:"remediation"`
	Count       int64       `json:"count"`
	Share       float64     `json:"share"`
	Reasons     []HintCause `json:"reasons"`
}

// HintCause is a category and reason a hint was given for.
type HintCause struct {
	Category string `json:"category"`
	Reason   string `json:"reason"`
	Count    int64  `json:"count"`
}

// Unknown is the failures no rule matched, with their top templates as
// candidates for new rules.
type Unknown struct {
	Count     int64           `json:"count"`
	Share     float64         `json:"share"`
	Templates []RuleCandidate `json:"templates"`
}

// RuleCandidate is a template of unmatched failures and the longest
// literal of it, lower-cased, to start a rule's `contains` with.
type RuleCandidate struct {
	Template          string `json:"template"`
	Count             int64  `json:"count"`
	Example           string `json:"example"`
	SuggestedContains string `json:"suggested_contains"`
}
