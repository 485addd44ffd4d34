package rules

// Category answers "whose side has to act" for a failure (CONTRACT section 2).
type Category string

// The categories of the taxonomy. CategoryUnknown is reserved for failures
// that no rule matched; rules cannot use it.
const (
	CategoryAuth    Category = "auth"
	CategoryNetwork Category = "network"
	CategoryPayload Category = "payload"
	CategoryServer  Category = "server"
	CategoryUnknown Category = "unknown"
)

// ReasonUnmatched is the reason of CategoryUnknown: a failure no rule matched.
const ReasonUnmatched = "unmatched"

// reasonInfo is one reason of the taxonomy with its default retryable flag.
type reasonInfo struct {
	name      string
	retryable bool
}

// taxonomy lists every category with its reasons, in the order of CONTRACT
// section 2; error messages list them in this order.
var taxonomy = []struct {
	category Category
	reasons  []reasonInfo
}{
	{CategoryAuth, []reasonInfo{
		{"missing_credentials", false},
		{"invalid_credentials", false},
		{"expired_credentials", false},
		{"insufficient_permissions", false},
		{"insufficient_credits", false},
	}},
	// Retrying the same request hits the same certificate, proxy or block,
	// so tls_error, proxy_error and firewall_blocked are not retryable.
	{CategoryNetwork, []reasonInfo{
		{"dns_failure", true},
		{"connection_refused", true},
		{"connection_reset", true},
		{"timeout", true},
		{"tls_error", false},
		{"proxy_error", false},
		{"firewall_blocked", false},
		{"unreachable", true},
	}},
	{CategoryPayload, []reasonInfo{
		{"malformed_json", false},
		{"missing_parameter", false},
		{"invalid_parameter", false},
		{"too_large", false},
		{"unsupported_media_type", false},
		{"content_policy", false},
	}},
	{CategoryServer, []reasonInfo{
		{"internal_error", true},
		{"bad_gateway", true},
		{"unavailable", true},
		{"gateway_timeout", true},
		{"rate_limited", true},
	}},
	{CategoryUnknown, []reasonInfo{
		{ReasonUnmatched, false},
	}},
}

// reasonIndex maps every reason to its category and default retryable flag.
var reasonIndex = func() map[string]reasonEntry {
	m := make(map[string]reasonEntry)
	for _, c := range taxonomy {
		for _, r := range c.reasons {
			m[r.name] = reasonEntry{c.category, r.retryable}
		}
	}
	return m
}()

// reasonEntry is what reasonIndex knows about a reason.
type reasonEntry struct {
	category  Category
	retryable bool
}

// Categories returns every category of the taxonomy, CategoryUnknown last.
func Categories() []Category {
	out := make([]Category, len(taxonomy))
	for i, c := range taxonomy {
		out[i] = c.category
	}
	return out
}

// Reasons returns the reasons of category c in taxonomy order, or nil when c
// is not a category.
func Reasons(c Category) []string {
	for _, t := range taxonomy {
		if t.category == c {
			out := make([]string, len(t.reasons))
			for i, r := range t.reasons {
				out[i] = r.name
			}
			return out
		}
	}
	return nil
}

// ReasonCategory returns the category a reason belongs to; reasons are
// unique across categories. ok is false for an unknown reason.
func ReasonCategory(reason string) (c Category, ok bool) {
	r, ok := reasonIndex[reason]
	return r.category, ok
}

// DefaultRetryable reports whether retrying the same request later can
// succeed for this reason: true for transient network failures and every
// server reason (rate_limited included), false for auth, payload, the
// network failures that repeat identically, and unknown. A reason that does
// not belong to category gives false.
func DefaultRetryable(category Category, reason string) bool {
	r, ok := reasonIndex[reason]
	return ok && r.category == category && r.retryable
}
