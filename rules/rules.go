package rules

import (
	"fmt"
	"strconv"
)

// RuleSet is a validated set of rules, ready to be compiled by a classifier.
type RuleSet struct {
	// Rules are in precedence order: priority descending, then load order.
	Rules []Rule
	// Version identifies the rule files that produced the set:
	// "sha256:" and the first 12 hex digits of a SHA-256 over the base name
	// and contents of every file in load order.
	Version string
}

// Rule maps a failure that its Match condition accepts to a category,
// reason and remediation hint.
type Rule struct {
	ID          string
	Remediation string
	Category    Category
	Reason      string
	// Retryable is resolved: the rule's own value, else DefaultRetryable.
	Retryable bool
	Priority  int
	Match     Condition
	// Pos is where the rule starts, for error messages and explanations.
	Pos Position
}

// Position is a place in a rule or rule test file. Line and Column count
// from 1; 0 means unknown.
type Position struct {
	File         string
	Line, Column int
}

// String formats p as file:line:col, leaving out the parts that are unknown.
func (p Position) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Column == 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Condition is one match condition. Every field that is set must hold (the
// fields are ANDed); a zero field does not constrain. All literals are
// lower-case, and regexes are written for lower-cased text.
type Condition struct {
	// Status holds when the status is in any of the ranges; {0,0} means no
	// response (status absent or 0).
	Status []StatusRange
	// Error matches the client-side error text, Body the response body,
	// Text both, URL the endpoint URL.
	Error, Body, Text, URL *TextMatch
	Field                  *FieldMatch
	// Provider, Host and Method hold when any element matches. A Host that
	// starts with "." matches by suffix, others exactly.
	Provider, Host, Method []string
	// All holds when every condition holds, Any when one does, Not when
	// its condition does not.
	All, Any []Condition
	Not      *Condition
}

// StatusRange is an inclusive range of HTTP status codes; {0,0} stands for
// "no response".
type StatusRange struct{ Lo, Hi int }

// TextMatch holds when the text contains any of Contains or matches Regex.
// Contains is lower-case; Regex is valid RE2 without upper-case letters.
type TextMatch struct {
	Contains []string
	Regex    string
}

// FieldMatch tests the value at a gjson Path in the record or, when InBody,
// in the response body parsed as JSON (also when the body is a string
// holding JSON). Equals compares the whole value, Contains and Regex work
// as in TextMatch; any of them matching is enough. Exists, when set,
// requires the field to be present (true) or absent (false).
type FieldMatch struct {
	Path             string
	InBody           bool
	Equals, Contains []string
	Regex            string
	Exists           *bool
}

// Error is one problem in a rule or rule test file. Its text is
// `file:line:col: rule "id": message`; Subject is empty for problems that
// belong to no rule or test.
type Error struct {
	Pos Position
	// Subject names the rule or test: `rule "id"`, or `rule 3` (counting
	// from 1 in its file) when the id is missing.
	Subject string
	Msg     string
}

// Error formats e as file:line:col: subject: message.
func (e *Error) Error() string {
	if e.Subject == "" {
		return e.Pos.String() + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Subject + ": " + e.Msg
}
