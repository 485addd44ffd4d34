// Package rules reads and validates classification rules and rule tests.
// It holds no runtime state: the classify package compiles a RuleSet.
//
// # Rule files
//
// A rule file is YAML with a list of rules under the key "rules":
//
//	rules:
//	  - id: openai.insufficient_quota      # required, unique across all files: [a-z0-9_.-]+
//	    category: auth                     # required: auth, network, payload or server
//	    reason: insufficient_credits       # required, a reason of that category
//	    remediation: >-                    # required: the step that fixes it
//	      Add credits or raise the spend limit on the OpenAI billing page;
//	      retrying will not help.
//	    retryable: false                   # optional, defaults from the taxonomy
//	    priority: 100                      # optional, default 0
//	    match:                             # required: one condition
//	      all:
//	        - status: [429]
//	        - any:
//	            - body: {contains: ["insufficient_quota", "exceeded your current quota"]}
//	            - field: {path: error.code, in: body, equals: [insufficient_quota]}
//
// The categories and reasons are those of the taxonomy (see Reasons);
// unknown/unmatched is reserved for failures that no rule matched.
// Retryable defaults to true for transient network failures (dns_failure,
// connection_refused, connection_reset, timeout, unreachable) and every
// server reason including rate_limited, and to false otherwise.
//
// # Conditions
//
// A condition is a mapping with one or more of these keys; all keys of one
// mapping must hold:
//
//	status: [401, "4xx", "500-599", none]   any of: a code, a class, a range; none = no response
//	error:  {contains: [...], regex: "..."} the client-side error text and error type
//	body:   {contains: [...], regex: "..."} the provider's response body as text
//	text:   {contains: [...], regex: "..."} error text and body together
//	url:    {contains: [...], regex: "..."} the endpoint URL
//	field:  {path: error.code, in: body, equals: [...], contains: [...], regex: "...", exists: true}
//	provider: [stability, openai]           any of the canonical provider names
//	host:   [api.openai.com, .openai.azure.com]  exact host, or suffix when it starts with "."
//	method: [POST]
//	all:    [condition, ...]                every condition holds
//	any:    [condition, ...]                at least one holds
//	not:    condition                       the condition does not hold
//
// In a text matcher, contains is a list of which any one must occur and
// regex is one RE2 pattern (https://golang.org/s/re2syntax); when both are
// given, either matching is enough. field reads a gjson path
// (https://github.com/tidwall/gjson/blob/master/SYNTAX.md) in the record
// (in: record, the default) or in the response body parsed as JSON
// (in: body), also when the body is a string holding JSON; equals compares
// the whole value, contains and regex work as above, and exists tests
// whether the field is present.
//
// All matching ignores case: the text is lower-cased before matching and
// the literals of contains and equals are lower-cased when the rules are
// loaded. Regexes are matched against lower-cased text, so they must be
// written in lower case: an upper-case letter outside an escape such as
// \S, \W or \pL is an error, because it could never match.
//
// # Precedence
//
// Rules are tried by priority, highest first. Rules of equal priority keep
// their load order: the default pack's files sorted by name, then the files
// of the --rules directory sorted by name, and within a file the order of
// the rules. The first rule that matches decides.
//
// # Validation
//
// Parse, ParseFile and Load report every problem of every file, not just
// the first, each as an *Error of the form
//
//	rules/auth.yaml:12:5: rule "auth.expired": unknown reason "expired" in category auth; known: missing_credentials, ...
//
// (or rule 3 when the rule has no id), saying what to do. They reject
// unknown keys, a missing or unknown category, unknown reasons and reasons
// of another category, duplicate ids (naming the first), regexes that do
// not compile or contain upper-case letters, empty remediation, a missing
// match, empty conditions and lists, bad status specs and a bad in. YAML
// aliases are not supported.
//
// # Rule tests
//
// A rule test file lists records and the classification each must get,
// like promtool test rules:
//
//	tests:
//	  - name: stability v2beta expired key
//	    record: {provider: stability, status: 401, response_body: '{"name":"unauthorized"}'}
//	    want: {category: auth, reason: expired_credentials}
//	  - name: openai quota, pasted log line
//	    record: '{"provider":"openai","status":429,"response_body":{"error":{"code":"insufficient_quota"}}}'
//	    want: {category: auth, reason: insufficient_credits, rule_id: openai.insufficient_quota}
//	  - name: plain success
//	    record: {status: 200, url: "https://api.stability.ai/v2beta/stable-image/generate/core"}
//	    want: {outcome: success}
//
// A record is a YAML mapping (converted to JSON: numbers stay numbers,
// strings strings) or a string holding one JSON object. want has outcome
// (failure, the default, or success), category and reason (required for a
// failure) and an optional rule_id. Names must be unique within a file.
package rules
