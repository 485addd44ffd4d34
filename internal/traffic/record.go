package traffic

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// appendRecord writes g.c as one JSON record in the canonical spellings of
// CONTRACT section 1, or (ECSRate of the time) in ECS spellings, nested or
// with dotted keys, and plants a leaked credential LeakRate of the time.
func (g *Generator) appendRecord(dst []byte) []byte {
	c := &g.c
	t := c.t
	f := c.fail

	status := t.okStatus
	var errText, body []byte
	var errType string
	if f != nil {
		if !f.ok {
			status = f.status
		}
		errText = g.expand(g.errBuf[:0], f.err)
		g.errBuf = errText[:0] // keep the grown buffer
		errType = f.errType
		body = g.expand(g.bodyBuf[:0], f.body)
	} else if t.okBody != "" {
		body = g.expand(g.bodyBuf[:0], t.okBody)
	}
	g.bodyBuf = body[:0]
	g.label.ECS = g.rng.Float64() < g.cfg.ECSRate
	var leakField, leakValue string
	if t.keyID != "" && g.rng.Float64() < g.cfg.LeakRate {
		g.label.Leak = true
		errText, leakField, leakValue = g.leak(errText)
	}
	if !g.label.ECS && len(errType) > 0 && t.svc.lang != goLang && g.rng.IntN(2) == 0 {
		// Python and Node loggers often print "Type: message".
		g.prefixBuf = append(append(append(g.prefixBuf[:0], errType...), ": "...), errText...)
		errText = g.prefixBuf
	}
	u := g.expand(g.urlBuf[:0], t.url)
	g.urlBuf = u[:0]
	ts := c.ts.UTC()

	w := objWriter{b: append(dst, '{')}
	if g.label.ECS {
		g.appendECS(&w, ts, status, u, errText, errType, body)
	} else {
		g.appendCanonical(&w, ts, status, u, errText, body)
	}
	if leakField != "" {
		w.key(leakField)
		if strings.HasPrefix(leakValue, "{") {
			w.raw(leakValue)
		} else {
			w.str(leakValue)
		}
	}
	return append(w.b, '}')
}

// appendCanonical writes the canonical spellings, with the occasional
// alternative a real fleet of loggers produces.
func (g *Generator) appendCanonical(w *objWriter, ts time.Time, status int, u, errText, body []byte) {
	c := &g.c
	t := c.t
	switch x := g.rng.IntN(20); {
	case x == 0:
		w.key("ts")
		w.b = strconv.AppendInt(w.b, ts.UnixMilli(), 10)
	case x == 1:
		w.key("time")
		w.b = strconv.AppendFloat(w.b, float64(ts.UnixMilli())/1000, 'f', 3, 64)
	case x == 2:
		w.key("timestamp")
		w.strBytes(ts.In(cet).AppendFormat(g.tmp[:0], "2006-01-02T15:04:05.000-07:00"))
	default:
		w.key("@timestamp")
		w.strBytes(ts.AppendFormat(g.tmp[:0], "2006-01-02T15:04:05.000Z07:00"))
	}
	w.key("service")
	w.str(t.svc.name)
	if g.rng.IntN(20) != 0 { // else derived from the URL
		w.key("provider")
		w.str(t.provider)
	}
	w.key("request_id")
	w.str(c.requestID)
	w.key("method")
	w.str(t.method)
	w.key(pick(g.rng.IntN(10) == 0, "endpoint", "url"))
	w.strBytes(u)
	if status != 0 || g.rng.IntN(5) == 0 {
		w.key(pick(g.rng.IntN(10) == 0, "status_code", "status"))
		w.b = strconv.AppendInt(w.b, int64(status), 10)
	}
	w.key(pick(g.rng.IntN(7) == 0, "duration_ms", "latency_ms"))
	w.b = strconv.AppendFloat(w.b, c.latency, 'f', -1, 64)
	w.key("attempt")
	w.b = strconv.AppendInt(w.b, int64(c.attempt), 10)
	if t.keyID != "" {
		w.key("api_key_id")
		w.str(t.keyID)
	}
	if len(errText) > 0 {
		k := "error"
		switch x := g.rng.IntN(10); {
		case x == 0:
			k = "err"
		case x == 1 && t.svc.lang == pyLang:
			k = "exception"
		}
		w.key(k)
		w.strBytes(errText)
	}
	if len(body) > 0 {
		w.key(pick(g.rng.IntN(10) == 0, "body", "response_body"))
		if body[0] == '{' && g.rng.IntN(5) == 0 && json.Valid(body) {
			w.rawBytes(body) // some loggers store the parsed object
		} else {
			w.strBytes(body)
		}
	}
	if g.rng.IntN(2) == 0 {
		w.key("env")
		w.str("prod")
	}
}

// cet is the zone of the loggers that write local time with an offset.
var cet = time.FixedZone("CET", 3600)

// appendECS writes the Elastic Common Schema spellings, as nested objects
// or (a third of the time) as dotted keys.
func (g *Generator) appendECS(w *objWriter, ts time.Time, status int, u, errText []byte, errType string, body []byte) {
	c := &g.c
	t := c.t
	dotted := g.rng.IntN(3) == 0
	w.key("@timestamp")
	w.strBytes(ts.AppendFormat(g.tmp[:0], "2006-01-02T15:04:05.000Z07:00"))
	o := ecsWriter{w: w, dotted: dotted}
	o.str("service", "name", t.svc.name)
	o.str("labels", "provider", t.provider)
	if t.keyID != "" {
		o.str("labels", "api_key_id", t.keyID)
	}
	if g.rng.IntN(3) == 0 {
		o.str("trace", "id", c.requestID)
	} else {
		o.str("http.request", "id", c.requestID)
	}
	o.str("http.request", "method", t.method)
	if status != 0 {
		o.num("http.response", "status_code", int64(status))
	}
	if len(body) > 0 {
		o.strBytes("http.response.body", "content", body)
	}
	o.strBytes("url", "full", u)
	o.num("event", "duration", int64(c.latency*1e6))
	if len(errText) > 0 {
		o.strBytes("error", "message", errText)
		if len(errType) > 0 {
			o.str("error", "type", errType)
		}
	}
	o.close()
	w.key("retry")
	w.b = strconv.AppendInt(w.b, int64(c.attempt), 10)
}

// leak plants the call's credential: in a request-header dump appended to
// the error text, or as an extra field a careless logger added. It returns
// the new error text and the extra field, if any.
func (g *Generator) leak(errText []byte) (text []byte, field, value string) {
	t := g.c.t
	secret := g.secrets[t.keyID]
	hName, hValue := "Authorization", "Bearer "+secret
	switch t.provider {
	case "replicate":
		if g.rng.IntN(2) == 0 {
			hValue = "Token " + secret
		}
	case "azure-openai":
		hName, hValue = "api-key", secret
	case "google":
		hName, hValue = "x-goog-api-key", secret
	}
	if g.c.fail != nil && g.c.fail.reason == "proxy_error" && len(errText) > 0 {
		return append(errText, " (proxy http://svc-imagegen:"+proxyPassword+"@proxy-02.corp.example:3128)"...), "", ""
	}
	switch k := g.rng.IntN(4); {
	case k < 2 && len(errText) > 0:
		switch t.svc.lang {
		case pyLang:
			errText = append(errText, " | request headers: {'User-Agent': 'python-requests/2.32.3', 'Accept-Encoding': 'gzip, deflate', 'Accept': '*/*', 'Connection': 'keep-alive', '"+hName+"': '"+hValue+"', 'Content-Type': 'application/json'}"...)
		case goLang:
			errText = append(errText, "; request headers: map["+hName+":["+hValue+"] Content-Type:[application/json] User-Agent:["+t.svc.name+"/1.8.2]]"...)
		default:
			errText = append(errText, ` config.headers: {"Accept":"application/json, text/plain, */*","Content-Type":"application/json","`+hName+`":"`+hValue+`","User-Agent":"axios/1.7.9"}`...)
		}
		return errText, "", ""
	case k == 2:
		return errText, "request_headers", `{"` + hName + `":"` + hValue + `","Content-Type":"application/json"}`
	default:
		return errText, pick(t.provider == "replicate", "api_token", "api_key"), secret
	}
}

// expand appends template tmpl with its {placeholders} filled in for g.c.
// Braces that do not enclose a known placeholder name are copied, so JSON
// templates need no escaping.
func (g *Generator) expand(dst []byte, tmpl string) []byte {
	c := &g.c
	t := c.t
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return append(dst, tmpl...)
		}
		dst = append(dst, tmpl[:i]...)
		tmpl = tmpl[i:]
		j := 1
		for j < len(tmpl) && (tmpl[j] >= 'a' && tmpl[j] <= 'z' || tmpl[j] >= '0' && tmpl[j] <= '9' || tmpl[j] == ':') {
			j++
		}
		if j == 1 || j >= len(tmpl) || tmpl[j] != '}' {
			dst = append(dst, '{')
			tmpl = tmpl[1:]
			continue
		}
		name := tmpl[1:j]
		tmpl = tmpl[j+1:]
		switch name {
		case "url":
			dst = g.expand(dst, t.url)
		case "host":
			dst = append(dst, t.host...)
		case "port":
			dst = append(dst, t.port...)
		case "path":
			dst = g.expand(dst, t.path)
		case "ip":
			dst = append(dst, t.ip...)
		case "lip":
			dst = append(dst, t.localIP...)
		case "lport":
			dst = strconv.AppendInt(dst, int64(c.lport), 10)
		case "model":
			dst = append(dst, t.model...)
		case "key":
			dst = append(dst, g.secrets[t.keyID]...)
		case "keytail":
			s := g.secrets[t.keyID]
			dst = append(dst, s[len(s)-4:]...)
		case "org":
			dst = append(dst, g.orgs[t.keyID]...)
		case "gomethod":
			dst = append(dst, t.method[0])
			dst = append(dst, strings.ToLower(t.method[1:])...)
		case "pool":
			dst = append(dst, pick(t.https, "HTTPSConnectionPool", "HTTPConnectionPool")...)
		case "conncls":
			dst = append(dst, pick(t.https, "HTTPSConnection", "HTTPConnection")...)
		case "pid":
			dst = append(dst, c.pid[:]...)
		case "uuid":
			dst = append(dst, c.uuid[:]...)
		case "id32":
			dst = append(dst, c.id32[:]...)
		case "id8":
			dst = append(dst, c.id8[:]...)
		case "rid":
			dst = append(dst, c.requestID...)
		case "ray":
			dst = append(dst, c.ray[:]...)
		case "ptr":
			dst = append(dst, c.ptr[:]...)
		case "sig":
			dst = append(dst, c.id32[:20]...)
			dst = append(dst, "%2BQ"...)
			dst = append(dst, c.pid[:18]...)
			dst = append(dst, "%3D"...)
		case "n":
			dst = strconv.AppendInt(dst, int64(c.n), 10)
		case "n3":
			dst = strconv.AppendInt(dst, int64(c.n3), 10)
		case "n5":
			dst = strconv.AppendInt(dst, int64(c.n5), 10)
		case "secs":
			dst = strconv.AppendFloat(dst, c.secs, 'f', -1, 64)
		case "timeout":
			dst = strconv.AppendInt(dst, int64(c.timeoutSecs), 10)
		case "timeoutms":
			dst = strconv.AppendInt(dst, int64(c.timeoutSecs)*1000, 10)
		case "date":
			dst = c.ts.UTC().AppendFormat(dst, "2006-01-02 15:04:05 UTC")
		case "isodate":
			dst = c.ts.UTC().AppendFormat(dst, time.RFC3339)
		case "epoch":
			dst = strconv.AppendInt(dst, c.ts.Unix(), 10)
		case "code":
			dst = append(dst, g.page.code...)
		case "text", "cftitle":
			dst = append(dst, g.page.text...)
		case "cfcode":
			dst = append(dst, g.page.code...)
		default:
			page, code, ok := strings.Cut(name, ":")
			text := statusTexts[page+":"+code]
			if !ok || text == "" {
				dst = append(dst, '{')
				dst = append(dst, name...)
				dst = append(dst, '}')
				continue
			}
			g.page.code, g.page.text = code, text
			switch page {
			case "nginx":
				dst = g.expand(dst, nginxPage)
			case "alb":
				dst = g.expand(dst, albPage)
			case "cloudflare":
				dst = g.expand(dst, cloudflarePage)
			}
		}
	}
}

// statusTexts names the status lines of the pages of nginx, AWS load
// balancers and Cloudflare.
var statusTexts = map[string]string{
	"nginx:413":      "Request Entity Too Large",
	"nginx:502":      "Bad Gateway",
	"nginx:503":      "Service Temporarily Unavailable",
	"nginx:504":      "Gateway Time-out",
	"alb:502":        "Bad Gateway",
	"alb:504":        "Gateway Time-out",
	"cloudflare:520": "Web server is returning an unknown error",
	"cloudflare:521": "Web server is down",
	"cloudflare:522": "Connection timed out",
	"cloudflare:524": "A timeout occurred",
}

// pick returns a if cond, else b.
func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// objWriter appends the members of a JSON object.
type objWriter struct {
	b     []byte
	comma bool
}

func (w *objWriter) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = true
	w.b = appendJSONString(w.b, k)
	w.b = append(w.b, ':')
}

func (w *objWriter) str(s string)      { w.b = appendJSONString(w.b, []byte(s)) }
func (w *objWriter) strBytes(s []byte) { w.b = appendJSONString(w.b, s) }
func (w *objWriter) raw(s string)      { w.b = append(w.b, s...) }
func (w *objWriter) rawBytes(s []byte) { w.b = append(w.b, s...) }

// ecsWriter writes ECS fields given as (parent path, leaf) either as dotted
// keys or as nested objects. The fields of one parent are written one after
// the other, so a nested object is opened once.
type ecsWriter struct {
	w      *objWriter
	dotted bool
	open   []string // the nested objects currently open, outermost first
	commas []bool   // per open object: a member was written
}

// field writes the key of parent.leaf, opening and closing nested objects.
func (e *ecsWriter) field(parent, leaf string) {
	if e.dotted {
		e.w.key(parent + "." + leaf)
		return
	}
	segs := strings.Split(parent, ".")
	p := 0
	for p < len(e.open) && p < len(segs) && e.open[p] == segs[p] {
		p++
	}
	for len(e.open) > p {
		e.pop()
	}
	for _, s := range segs[p:] {
		e.key(s)
		e.w.b = append(e.w.b, '{')
		e.open = append(e.open, s)
		e.commas = append(e.commas, false)
	}
	e.key(leaf)
}

// key writes a member key in the innermost open object.
func (e *ecsWriter) key(k string) {
	if len(e.open) == 0 {
		e.w.key(k)
		return
	}
	if e.commas[len(e.commas)-1] {
		e.w.b = append(e.w.b, ',')
	}
	e.commas[len(e.commas)-1] = true
	e.w.b = appendJSONString(e.w.b, k)
	e.w.b = append(e.w.b, ':')
}

func (e *ecsWriter) pop() {
	e.w.b = append(e.w.b, '}')
	e.open = e.open[:len(e.open)-1]
	e.commas = e.commas[:len(e.commas)-1]
}

func (e *ecsWriter) str(parent, leaf, v string) {
	e.field(parent, leaf)
	e.w.str(v)
}

func (e *ecsWriter) strBytes(parent, leaf string, v []byte) {
	e.field(parent, leaf)
	e.w.strBytes(v)
}

func (e *ecsWriter) num(parent, leaf string, v int64) {
	e.field(parent, leaf)
	e.w.b = strconv.AppendInt(e.w.b, v, 10)
}

// close closes every open nested object.
func (e *ecsWriter) close() {
	for len(e.open) > 0 {
		e.pop()
	}
}
