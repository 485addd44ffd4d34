package rules

import (
	"slices"
	"testing"
)

func TestTaxonomy(t *testing.T) {
	// Counts per category from CONTRACT section 2.
	want := map[Category]int{CategoryAuth: 5, CategoryNetwork: 8, CategoryPayload: 6, CategoryServer: 5, CategoryUnknown: 1}
	if got := Categories(); !slices.Equal(got, []Category{CategoryAuth, CategoryNetwork, CategoryPayload, CategoryServer, CategoryUnknown}) {
		t.Errorf("Categories() = %v", got)
	}
	seen := map[string]bool{}
	for _, c := range Categories() {
		reasons := Reasons(c)
		if len(reasons) != want[c] {
			t.Errorf("%s has %d reasons, want %d", c, len(reasons), want[c])
		}
		for _, r := range reasons {
			if seen[r] {
				t.Errorf("reason %s appears twice", r)
			}
			seen[r] = true
			if got, ok := ReasonCategory(r); !ok || got != c {
				t.Errorf("ReasonCategory(%s) = %s, %v; want %s", r, got, ok, c)
			}
		}
	}
	if Reasons("nope") != nil {
		t.Error(`Reasons("nope") != nil`)
	}
	if _, ok := ReasonCategory("nope"); ok {
		t.Error(`ReasonCategory("nope") is ok`)
	}
}

func TestDefaultRetryable(t *testing.T) {
	retryable := []string{
		"dns_failure", "connection_refused", "connection_reset", "timeout", "unreachable",
		"internal_error", "bad_gateway", "unavailable", "gateway_timeout", "rate_limited",
	}
	for _, c := range Categories() {
		for _, r := range Reasons(c) {
			if got, want := DefaultRetryable(c, r), slices.Contains(retryable, r); got != want {
				t.Errorf("DefaultRetryable(%s, %s) = %v, want %v", c, r, got, want)
			}
		}
	}
	if DefaultRetryable(CategoryAuth, "timeout") {
		t.Error("a reason of another category is retryable")
	}
}
