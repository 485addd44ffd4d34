package classify

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// field names one value of the input record (CONTRACT section 1).
type field uint8

const (
	fNone field = iota
	fTimestamp
	fService
	fProvider
	fRequestID
	fMethod
	fURL
	fURLDomain
	fURLPath
	fStatus
	fLatencyMS
	fDurationNS
	fError
	fErrorType
	fBody
	fAttempt
	fAPIKeyID
	nFields
)

// pathInfo says what a key path of the input means. A path can be a leaf
// (a value of field f, where a lower rank wins over the other spellings of
// the same value) and a container (an object whose members are looked up as
// path + "." + key), or both: "url" is a string or an ECS object.
type pathInfo struct {
	f         field
	rank      int8
	container bool
}

// paths maps every accepted spelling, dotted as in ECS, to its meaning.
// Nested objects are walked with the same table, so {"http":{"response":
// {"status_code":500}}} and {"http.response.status_code":500} both land on
// fStatus.
var paths = map[string]pathInfo{
	"@timestamp": {f: fTimestamp, rank: 0},
	"timestamp":  {f: fTimestamp, rank: 1},
	"ts":         {f: fTimestamp, rank: 2},
	"time":       {f: fTimestamp, rank: 3},

	"service":      {f: fService, rank: 0, container: true},
	"service.name": {f: fService, rank: 1},

	"provider":          {f: fProvider, rank: 0},
	"labels":            {container: true},
	"labels.provider":   {f: fProvider, rank: 1},
	"api_key_id":        {f: fAPIKeyID, rank: 0},
	"labels.api_key_id": {f: fAPIKeyID, rank: 1},

	"request_id":      {f: fRequestID, rank: 0},
	"http":            {container: true},
	"http.request":    {container: true},
	"http.request.id": {f: fRequestID, rank: 1},
	"trace":           {container: true},
	"trace.id":        {f: fRequestID, rank: 2},

	"method":              {f: fMethod, rank: 0},
	"http.request.method": {f: fMethod, rank: 1},

	"url":        {f: fURL, rank: 0, container: true},
	"url.full":   {f: fURL, rank: 1},
	"endpoint":   {f: fURL, rank: 2},
	"url.domain": {f: fURLDomain},
	"url.path":   {f: fURLPath},

	"status":                    {f: fStatus, rank: 0},
	"status_code":               {f: fStatus, rank: 1},
	"http.response":             {container: true},
	"http.response.status_code": {f: fStatus, rank: 2},

	"latency_ms":     {f: fLatencyMS, rank: 0},
	"duration_ms":    {f: fLatencyMS, rank: 1},
	"event":          {container: true},
	"event.duration": {f: fDurationNS},

	"error":         {f: fError, rank: 0, container: true},
	"error.message": {f: fError, rank: 1},
	"err":           {f: fError, rank: 2},
	"exception":     {f: fError, rank: 3},
	"error.type":    {f: fErrorType},

	"response_body":              {f: fBody, rank: 0},
	"http.response.body":         {f: fBody, rank: 1, container: true},
	"http.response.body.content": {f: fBody, rank: 1},
	"body":                       {f: fBody, rank: 2},

	"attempt": {f: fAttempt, rank: 0},
	"retry":   {f: fAttempt, rank: 1},
}

// pathTable is paths as a perfect hash on the length and the first and
// last bytes of a key: a look-up is one hash and one string comparison,
// several times cheaper than the map for the dozen keys of a record. The
// hash has no collisions among the paths (checked when the table is built).
var pathTable = func() (t [512]pathEntry) {
	for p, info := range paths {
		h := pathHash(p)
		if t[h].path != "" {
			panic("classify: paths " + t[h].path + " and " + p + " share a hash")
		}
		t[h] = pathEntry{p, info}
	}
	return t
}()

// pathEntry is one entry of pathTable.
type pathEntry struct {
	path string
	info pathInfo
}

// pathHash hashes a key for pathTable.
func pathHash(p string) int {
	if p == "" {
		return 0
	}
	return (len(p)*31 + int(p[0])*7 + int(p[len(p)-1])) & 511
}

// lookupPath returns what a key path means, as paths[p] does.
func lookupPath(p string) (pathInfo, bool) {
	if e := &pathTable[pathHash(p)]; e.path == p && p != "" {
		return e.info, true
	}
	return pathInfo{}, false
}

// nErrorRanks is the number of spellings of the error text; all of them
// take part in matching.
const nErrorRanks = 4

// extra is an input field that the contract does not name; it is kept
// under raw in the output document.
type extra struct {
	key string
	val gjson.Result
}

// record is one input record after extraction. Strings point into the
// input (or into the scanner's arena when escaped); a record is reused
// from a pool and only valid during one call.
type record struct {
	rank [nFields]int8 // rank+1 of the spelling that set each field; 0 = unset

	ts        gjson.Result
	service   string
	provider  string
	requestID string
	method    string
	url       string
	urlDomain string
	urlPath   string
	status    int
	latencyMS float64
	durNS     int64
	errs      [nErrorRanks]string // error text by spelling, see paths
	errType   string
	body      gjson.Result
	attempt   int64
	apiKeyID  string
	extras    []extra
	// top holds the top-level members whose key is in topKeys: the ones
	// field look-ups in the record ask for. topLens has bit len(k)%64 set
	// for each of them, which rules out most keys without a comparison.
	top     []extra
	topKeys []string
	topLens uint64

	scanner objectScanner
	// bodyScan reads the members of a JSON body (eachBodyMember).
	bodyScan objectScanner
}

// reset clears r for reuse, keeping its buffers.
func (r *record) reset() {
	extras, top, topKeys, topLens, scanner, bodyScan := r.extras[:0], r.top[:0], r.topKeys, r.topLens, r.scanner, r.bodyScan
	*r = record{extras: extras, top: top, topKeys: topKeys, topLens: topLens, scanner: scanner, bodyScan: bodyScan}
}

// has reports whether f was found in the record.
func (r *record) has(f field) bool { return r.rank[f] != 0 }

// parse fills r from the JSON object in json with one pass, which also
// validates it. It reports false when json is not a valid JSON object.
func (r *record) parse(json string) bool {
	p := &r.scanner
	p.reset(json)
	return p.document(func(key string) bool {
		start := p.i
		if !r.member("", key, 0) {
			return false
		}
		if r.topLens&(1<<(len(key)&63)) != 0 && slices.Contains(r.topKeys, key) {
			// An object may have been walked member by member; anything
			// else is read again as one value.
			raw := p.s[start:p.i]
			val := gjson.Result{Type: gjson.JSON, Raw: raw, Index: start}
			if raw[0] != '{' {
				p.i = start
				val, _ = p.value(0)
			}
			r.top = append(r.top, extra{key: key, val: val})
		}
		return true
	})
}

// members reads the object that comes next, at path prefix and nesting
// depth.
func (r *record) members(prefix string, depth int) bool {
	return r.scanner.object(depth, func(key string) bool { return r.member(prefix, key, depth) })
}

// member reads the value of the member key of the object at path prefix
// ("" for the top level): it stores the field the path names, walks an
// object at a container path, and keeps everything else as an extra, so
// that nothing is lost. Values of an unexpected type are extras too.
func (r *record) member(prefix, key string, depth int) bool {
	p := &r.scanner
	path := key
	if prefix != "" {
		path = p.join(prefix, key)
	}
	info, known := lookupPath(path)
	if known && info.container && p.peek() == '{' {
		if info.f != fBody {
			return r.members(path, depth+1)
		}
		// An http.response.body object without ECS's "content" is the body.
		start, content := p.i, false
		if !p.object(depth+1, func(key string) bool {
			content = content || key == "content"
			return skipValue(p.s, &p.i, depth+1)
		}) {
			return false
		}
		p.i = start
		if content {
			return r.members(path, depth+1)
		}
	}
	val, ok := p.value(depth)
	if !ok {
		return false
	}
	if !known || info.f == fNone || !r.set(info, &val) {
		r.extras = append(r.extras, extra{key: path, val: val})
	}
	return true
}

// eachBodyMember calls fn with each top-level member of doc, a JSON object
// (the body), until fn returns false or doc stops being valid JSON. The
// strings fn gets are valid until the next call.
func (r *record) eachBodyMember(doc string, fn func(key string, val gjson.Result) bool) {
	p := &r.bodyScan
	p.reset(doc)
	p.document(func(key string) bool {
		val, ok := p.value(0)
		return ok && fn(key, val)
	})
}

// set stores val as field info.f unless a better-ranked spelling already
// did. It reports false when val has a type the field cannot take.
func (r *record) set(info pathInfo, val *gjson.Result) bool {
	f := info.f
	if f == fError {
		// Every spelling of the error text is kept: rules match all of them.
		switch val.Type {
		case gjson.String, gjson.Number, gjson.JSON:
			if r.errs[info.rank] == "" {
				r.errs[info.rank] = val.String()
			}
			r.rank[f] = 1
			return true
		case gjson.Null:
			return true
		}
		return false
	}
	if r.rank[f] != 0 && r.rank[f] <= info.rank+1 {
		return true
	}
	switch f {
	case fTimestamp:
		if val.Type != gjson.String && val.Type != gjson.Number {
			return false
		}
		r.ts = *val
	case fStatus:
		n, ok := intValue(*val)
		if !ok {
			return false
		}
		r.status = int(n)
	case fLatencyMS, fDurationNS:
		x, ok := numValue(*val)
		if !ok {
			return false
		}
		if f == fLatencyMS {
			r.latencyMS = x
		} else {
			r.durNS = int64(x)
		}
	case fAttempt:
		n, ok := intValue(*val)
		if !ok {
			return false
		}
		r.attempt = n
	case fBody:
		switch val.Type {
		case gjson.String, gjson.JSON:
			r.body = *val
		case gjson.Null:
			return true
		default:
			return false
		}
	default:
		var s string
		switch val.Type {
		case gjson.String, gjson.Number:
			s = val.String()
		case gjson.Null:
			return true
		default:
			return false
		}
		switch f {
		case fService:
			r.service = s
		case fProvider:
			r.provider = s
		case fRequestID:
			r.requestID = s
		case fMethod:
			r.method = s
		case fURL:
			r.url = s
		case fURLDomain:
			r.urlDomain = s
		case fURLPath:
			r.urlPath = s
		case fErrorType:
			r.errType = s
		case fAPIKeyID:
			r.apiKeyID = s
		}
	}
	r.rank[f] = info.rank + 1
	return true
}

// intValue reads an integer given as a JSON number or a numeric string.
func intValue(v gjson.Result) (int64, bool) {
	x, ok := numValue(v)
	if !ok || x != math.Trunc(x) || math.Abs(x) > 1<<53 {
		return 0, false
	}
	return int64(x), true
}

// numValue reads a number given as a JSON number or a numeric string.
func numValue(v gjson.Result) (float64, bool) {
	switch v.Type {
	case gjson.Number:
		return v.Num, !math.IsNaN(v.Num) && !math.IsInf(v.Num, 0)
	case gjson.String:
		x, err := strconv.ParseFloat(strings.TrimSpace(v.Str), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return x, true
	}
	return 0, false
}

// errorText returns the error message for the document: the best-ranked
// spelling that is not empty.
func (r *record) errorText() string {
	for _, s := range r.errs {
		if s != "" {
			return s
		}
	}
	return ""
}

// hasError reports whether the record carries a client-side error: a
// message or at least an error type.
func (r *record) hasError() bool { return r.errType != "" || r.errorText() != "" }

// bodyText returns the response body as text: a string body as it is, an
// object body as its JSON.
func (r *record) bodyText() string {
	if r.body.Type == gjson.String {
		return r.body.Str
	}
	return r.body.Raw
}

// bodyJSON returns the response body when it is JSON: an object or array,
// or a string holding one. It returns "" otherwise.
func (r *record) bodyJSON() string {
	s := r.bodyText()
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return s[i:]
		}
		return ""
	}
	return ""
}

// duration returns the call's latency in nanoseconds; ok is false when the
// record has none.
func (r *record) duration() (ns int64, ok bool) {
	switch {
	case r.has(fLatencyMS):
		return int64(r.latencyMS * 1e6), true
	case r.has(fDurationNS):
		return r.durNS, true
	}
	return 0, false
}

// timestamp parses the record's time: RFC 3339 (also with a space for the
// T and without a zone, taken as UTC), or epoch seconds, milliseconds,
// microseconds or nanoseconds as a number or numeric string, told apart by
// magnitude. It returns the zero time when there is none or it does not
// parse.
func (r *record) timestamp() time.Time {
	if !r.has(fTimestamp) {
		return time.Time{}
	}
	if r.ts.Type == gjson.String {
		s := strings.TrimSpace(r.ts.Str)
		if t, ok := parseRFC3339(s); ok {
			return t
		}
		if x, err := strconv.ParseFloat(s, 64); err == nil {
			return epoch(x)
		}
		return time.Time{}
	}
	return epoch(r.ts.Num)
}

// epoch converts a Unix time in seconds, milliseconds, microseconds or
// nanoseconds to a UTC time. Values before 1970 or past year 2286 in
// seconds are rejected as implausible.
func epoch(x float64) time.Time {
	switch {
	case math.IsNaN(x) || x <= 0:
		return time.Time{}
	case x < 1e10: // seconds until 2286
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC()
	case x < 1e13:
		return time.UnixMilli(int64(x)).UTC()
	case x < 1e16:
		return time.UnixMicro(int64(x)).UTC()
	case x < 1e19:
		return time.Unix(0, int64(x)).UTC()
	}
	return time.Time{}
}

// parseRFC3339 parses YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm] without
// allocating (time.Parse allocates a zone for every numeric offset). A
// missing zone means UTC.
func parseRFC3339(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	min, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 ||
		hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, false
	}
	s = s[19:]
	nsec := 0
	if len(s) > 0 && (s[0] == '.' || s[0] == ',') {
		i := 1
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if i <= 9 {
				nsec = nsec*10 + int(s[i]-'0')
			}
		}
		if i == 1 {
			return time.Time{}, false
		}
		for n := i; n <= 9; n++ {
			nsec *= 10
		}
		s = s[i:]
	}
	offset := 0
	switch {
	case s == "" || s == "Z" || s == "z":
	case len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':':
		oh, ok1 := digits(s[1:3])
		om, ok2 := digits(s[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if s[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // 31 February and alike
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// digits parses a short run of decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
