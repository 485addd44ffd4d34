package classify

import (
	"strings"

	"github.com/tidwall/gjson"
)

// verdict says whether a record is a failure and by which clause of
// CONTRACT section 1.
type verdict uint8

const (
	verdictSuccess    verdict = iota
	verdictUnusable           // none of the contract's fields: counted, not a call
	verdictStatus             // status 400 or more
	verdictNoResponse         // no status, but an error text
	verdictErrorText          // an error text alongside a status below 400
	verdictBody               // a 2xx (or absent) status whose body reports failure
)

// failure reports whether v is one of the failure verdicts.
func (v verdict) failure() bool { return v >= verdictStatus }

// String describes v for explanations.
func (v verdict) String() string {
	switch v {
	case verdictUnusable:
		return "success: the record has none of the fields of an API call"
	case verdictStatus:
		return "failure: status is 400 or more"
	case verdictNoResponse:
		return "failure: no status, but an error text"
	case verdictErrorText:
		return "failure: an error text alongside a status below 400"
	case verdictBody:
		return "failure: the body reports a failed job or an error"
	}
	return "success: no error status, error text or failure in the body"
}

// judge applies the failure definition of CONTRACT section 1. A status of
// 1xx or 3xx with an error text counts as a failure too (the contract names
// only 2xx): an error text means the client gave up. An error type without
// a message (Python's asyncio.TimeoutError prints as "") is an error text.
func (r *record) judge() verdict {
	switch {
	case r.status >= 400:
		return verdictStatus
	case r.hasError():
		if r.status == 0 {
			return verdictNoResponse
		}
		return verdictErrorText
	case (r.status == 0 || r.status/100 == 2) && r.bodyReportsFailure():
		return verdictBody
	}
	for f := fTimestamp; f < nFields; f++ {
		if r.has(f) {
			return verdictSuccess
		}
	}
	return verdictUnusable
}

// bodyReportsFailure reports whether a JSON body says the call failed
// although the HTTP status did not: a job or prediction whose status is
// failed or error (Replicate, Stability async results, ComfyUI's
// status_str, also in a /history entry keyed by prompt id), a non-empty
// "error" (OpenAI, Hugging Face) or a non-empty "errors" list. A canceled
// job is not a failure: someone chose to stop it, so there is nothing to
// triage.
func (r *record) bodyReportsFailure() bool {
	failed := false
	r.eachBodyMember(r.bodyJSON(), func(key string, val gjson.Result) bool {
		switch key {
		case "status", "state":
			if val.IsObject() {
				val = val.Get("status_str")
			}
			failed = val.Type == gjson.String && failedStatus(val.Str)
		case "error":
			failed = !empty(val)
		case "errors":
			failed = (val.IsArray() || val.IsObject()) && !empty(val)
		default:
			// ComfyUI's /history/{id}: {"<id>": {"status": {"status_str": "error"}}}.
			if val.IsObject() {
				if st := val.Get("status"); st.IsObject() {
					v := st.Get("status_str")
					failed = v.Type == gjson.String && failedStatus(v.Str)
				}
			}
		}
		return !failed
	})
	return failed
}

// failedStatus reports whether a job status word means failure.
func failedStatus(s string) bool {
	for _, w := range [...]string{"failed", "failure", "error", "errored"} {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

// empty reports whether a JSON value carries nothing: null, false, "",
// {} or [].
func empty(v gjson.Result) bool {
	switch v.Type {
	case gjson.Null, gjson.False:
		return true
	case gjson.String:
		return strings.TrimSpace(v.Str) == ""
	case gjson.JSON:
		has := false
		v.ForEach(func(_, _ gjson.Result) bool {
			has = true
			return false
		})
		return !has
	}
	return false
}
