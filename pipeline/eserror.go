package pipeline

import "github.com/tidwall/gjson"

// errorTypeReason extracts error.type and error.reason from an Elasticsearch
// error response; for a body that is not one, the type is empty and the
// reason is the start of the body.
func errorTypeReason(body []byte) (typ, reason string) {
	e := gjson.GetBytes(body, "error")
	if e.Type == gjson.String {
		return "", e.String()
	}
	if e.IsObject() {
		return e.Get("type").String(), e.Get("reason").String()
	}
	const max = 200
	if len(body) > max {
		body = body[:max]
	}
	return "", string(body)
}

// errorSummary renders an Elasticsearch error response as "type: reason".
func errorSummary(body []byte) string {
	typ, reason := errorTypeReason(body)
	if typ == "" {
		return reason
	}
	return typ + ": " + reason
}
