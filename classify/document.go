package classify

import (
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// maxBody is how much of the response body the document keeps.
const maxBody = 8 << 10

// AppendDocument classifies rec and appends its Elasticsearch document
// (CONTRACT section 3) to dst, as one line of JSON without the newline.
// Objects are nested as ECS has them, keys come in a fixed order, and every
// free-text value (URL, error, body, labels, extra fields) has its secrets
// masked (section 4). On error dst is returned unchanged.
func (c *Classifier) AppendDocument(dst []byte, rec []byte, src Source, ingested time.Time) ([]byte, Result, error) {
	x := c.pool.Get().(*scratch)
	defer c.pool.Put(x)
	o, err := c.run(x, rec, nil)
	if err != nil {
		return dst, Result{}, err
	}
	res := c.result(x, o)
	return c.appendDocument(dst, x, o, res, src, ingested), res, nil
}

// appendDocument renders the document of the record extracted into x.
// Keys are written with their quotes and colon, and the members that never
// change are written as one piece.
func (c *Classifier) appendDocument(dst []byte, x *scratch, o outcome, res Result, src Source, ingested time.Time) []byte {
	r := &x.rec
	w := docWriter{b: append(dst, '{')}
	w.key(`"@timestamp":`)
	switch {
	case res.Timestamp.IsZero():
		w.b = x.appendIngested(w.b, ingested)
	case r.ts.Type == gjson.String && isCanonicalRFC3339(r.ts.Str):
		w.b = append(w.b, '"')
		w.b = append(w.b, r.ts.Str...) // as appendRFC3339 would write it
		w.b = append(w.b, '"')
	default:
		w.time(res.Timestamp)
	}

	switch {
	case res.Failure:
		w.b = append(w.b, `,"event":{"kind":"event","dataset":"sdtriage.api_call","outcome":"failure"`...)
	case res.Unusable:
		w.b = append(w.b, `,"event":{"kind":"event","dataset":"sdtriage.api_call","outcome":"unknown"`...)
	default:
		w.b = append(w.b, `,"event":{"kind":"event","dataset":"sdtriage.api_call","outcome":"success"`...)
	}
	if ns, ok := r.duration(); ok {
		w.int(`"duration":`, ns)
	}
	w.b = append(w.b, `,"ingested":`...)
	w.b = x.appendIngested(w.b, ingested)
	w.close()

	if r.service != "" {
		w.b = append(w.b, `,"service":{"name":`...)
		w.maskedValue(x, r.service, 0)
		w.close()
	}

	if r.method != "" || r.requestID != "" || r.status != 0 || r.has(fBody) {
		w.open(`"http":`)
		if r.method != "" || r.requestID != "" {
			w.open(`"request":`)
			w.plain(`"method":`, r.method)
			w.masked(x, `"id":`, r.requestID, 0)
			w.close()
		}
		if r.status != 0 || r.has(fBody) {
			w.open(`"response":`)
			if r.status != 0 {
				w.int(`"status_code":`, int64(r.status))
			}
			if r.has(fBody) {
				w.open(`"body":`)
				w.masked(x, `"content":`, r.bodyText(), maxBody)
				w.close()
			}
			w.close()
		}
		w.close()
	}

	if r.url != "" || x.host != "" || x.path != "" {
		w.open(`"url":`)
		w.masked(x, `"full":`, r.url, 0)
		w.plain(`"domain":`, x.host)
		w.masked(x, `"path":`, x.path, 0)
		w.close()
	}

	if msg := r.errorText(); msg != "" || r.errType != "" {
		w.open(`"error":`)
		w.masked(x, `"message":`, msg, 0)
		w.masked(x, `"type":`, r.errType, 0)
		w.close()
	}

	if x.provider != "" || r.apiKeyID != "" || r.has(fAttempt) {
		w.open(`"labels":`)
		w.plain(`"provider":`, x.provider)
		w.masked(x, `"api_key_id":`, r.apiKeyID, 0)
		if r.has(fAttempt) {
			w.int(`"attempt":`, r.attempt)
		}
		w.close()
	}

	if res.Failure {
		w.b = append(w.b, `,"classification":{"category":`...)
		w.b = appendJSONString(w.b, string(res.Category))
		w.str(`"reason":`, res.Reason)
		if res.RuleID != "" {
			w.str(`"rule_id":`, res.RuleID)
		}
		w.str(`"remediation":`, c.remediation(o))
		w.b = append(w.b, `,"retryable":`...)
		w.b = strconv.AppendBool(w.b, res.Retryable)
		w.str(`"ruleset":`, c.version)
		w.close()
	}

	w.b = append(w.b, `,"kafka":{"topic":`...)
	w.b = appendJSONString(w.b, src.Topic)
	w.int(`"partition":`, int64(src.Partition))
	w.int(`"offset":`, src.Offset)
	w.close()

	if len(r.extras) > 0 {
		w.open(`"raw":`)
		for _, e := range r.extras {
			w.extra(x, e)
		}
		w.close()
	}
	w.close()
	return w.b
}

// appendIngested appends the ingest time as a JSON string. The pipeline
// passes the same time for a whole chunk of records, so its text is kept.
func (x *scratch) appendIngested(dst []byte, t time.Time) []byte {
	if t != x.ingested || x.ingestedText == nil {
		x.ingested = t
		x.ingestedText = appendRFC3339(append(x.ingestedText[:0], '"'), t.UTC())
		x.ingestedText = append(x.ingestedText, '"')
	}
	return append(dst, x.ingestedText...)
}

// docWriter appends a JSON object member by member. Keys are given with
// their quotes and colon (`"name":`) and need no escaping; a member gets a
// comma before it unless it opens its object.
type docWriter struct {
	b []byte
}

// key writes the separator and the key of the next member.
func (w *docWriter) key(k string) {
	if w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, k...)
}

// open starts an object as member k.
func (w *docWriter) open(k string) {
	w.key(k)
	w.b = append(w.b, '{')
}

// close ends the innermost object.
func (w *docWriter) close() {
	w.b = append(w.b, '}')
}

// str writes a member whose value needs no masking.
func (w *docWriter) str(k, v string) {
	w.key(k)
	w.b = appendJSONString(w.b, v)
}

// int writes a number member.
func (w *docWriter) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

// time writes a time as RFC 3339 in UTC, as time.RFC3339Nano formats it.
func (w *docWriter) time(t time.Time) {
	w.b = append(w.b, '"')
	w.b = appendRFC3339(w.b, t.UTC())
	w.b = append(w.b, '"')
}

// isCanonicalRFC3339 reports whether s, a time that parseRFC3339 accepts,
// is already written as appendRFC3339 writes it: "T", seconds below 60, a
// fraction of one to nine digits without trailing zeros or none, and "Z".
// Most records carry their time this way, and it is copied as it is.
func isCanonicalRFC3339(s string) bool {
	n := len(s)
	if n != 20 && (n < 22 || n > 30) || s[10] != 'T' || s[17] > '5' || s[n-1] != 'Z' {
		return false
	}
	if n == 20 {
		return true
	}
	if s[19] != '.' || s[n-2] == '0' {
		return false
	}
	for i := 20; i < n-1; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendRFC3339 appends t, which must be UTC, as time.RFC3339Nano does
// (fraction without trailing zeros, "Z"), several times faster than the
// general formatter. Years outside 0-9999 take the general path.
func appendRFC3339(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	hour, min, sec := t.Clock()
	dst = append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

// plain writes a string member that cannot hold a credential (a method,
// a host name without user info, a provider name); an empty v writes
// nothing.
func (w *docWriter) plain(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

// masked writes a string member with its secrets masked, cut to limit
// bytes (on a character boundary) when limit > 0; an empty v writes
// nothing.
func (w *docWriter) masked(x *scratch, k, v string, limit int) {
	if v == "" {
		return
	}
	w.key(k)
	w.maskedValue(x, v, limit)
}

// maskedValue writes v as a JSON string with its secrets masked.
func (w *docWriter) maskedValue(x *scratch, v string, limit int) {
	start, end := nextSecret(v, 0)
	if start < 0 && (limit <= 0 || len(v) <= limit) {
		w.b = appendJSONString(w.b, v) // nothing to mask or cut: no copy
		return
	}
	if start < 0 {
		x.docBuf = append(x.docBuf[:0], v...)
	} else {
		x.docBuf = appendMaskedFrom(x.docBuf[:0], v, start, end)
	}
	m := x.docBuf
	if limit > 0 && len(m) > limit {
		n := limit
		for n > 0 && !utf8.RuneStart(m[n]) {
			n--
		}
		m = m[:n]
	}
	w.b = appendJSONString(w.b, bytesString(m))
}

// extra writes an input field the contract does not name. A field whose
// name says it holds a credential is replaced by its fingerprint; strings
// are masked like any text; objects and arrays are masked as JSON text and
// kept as JSON when that stays valid.
func (w *docWriter) extra(x *scratch, e extra) {
	if w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = appendJSONString(w.b, e.key)
	w.b = append(w.b, ':')
	v := e.val
	switch {
	case IsSecretKey(e.key) && v.Type != gjson.Null:
		if v.Type == gjson.String {
			w.b = appendJSONString(w.b, MaskValue(v.Str))
		} else {
			w.b = appendJSONString(w.b, MaskValue(v.Raw))
		}
	case v.Type == gjson.String:
		w.maskedValue(x, v.Str, 0)
	case v.Type == gjson.JSON:
		x.docBuf = AppendMasked(x.docBuf[:0], v.Raw)
		if gjson.ValidBytes(x.docBuf) {
			w.b = append(w.b, x.docBuf...)
		} else {
			w.b = appendJSONString(w.b, bytesString(x.docBuf))
		}
	default: // numbers, true, false, null: valid JSON as they are
		w.b = append(w.b, v.Raw...)
	}
}

// jsonPlain marks the ASCII bytes that go into a JSON string as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s to dst as a JSON string. Quotes, backslashes
// and control characters are escaped, as are U+2028 and U+2029 for
// JavaScript consumers; invalid UTF-8 becomes U+FFFD. Runs of bytes that
// need no escape are copied at once.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			// Skip to the first byte that needs a look: special or not ASCII.
			x := load64(s, i)
			m := stringSpecial(x) | x&highs
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8 // still inside s
		}
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&15])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
