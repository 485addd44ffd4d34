package classify

import (
	"crypto/sha256"
	"strings"
)

// Secret masking (CONTRACT section 4).
//
// A masked secret is replaced by a fingerprint that says "a secret was here"
// and still lets an operator tell keys apart without revealing them:
//
//	[MASKED:…wxyz]    the last four characters, for secrets of at least 16
//	                  bytes whose last four bytes are ASCII letters or digits
//	                  (four characters of a long random key reveal nothing);
//	[MASKED:#1a2b3c]  otherwise: the first 6 hex digits (24 bits) of the
//	                  SHA-256 of the secret. Short secrets are low-entropy,
//	                  so showing any of their characters would help guessing;
//	                  24 bits leave millions of candidates for any password
//	                  worth the name while still separating a handful of keys.
//
// The format is stable: dashboards and tests rely on it. A secret is
// fingerprinted as it appears in the text, so a password with JSON escapes
// inside a JSON string gets another hash than its decoded form (keys are
// letters and digits, and never differ). A value that already holds a
// fingerprint is never masked again: masking a secret inside a longer value
// changes that value's length and characters, so judging it again could
// mask what the first pass left, and masking must be idempotent.
//
// What counts as a secret:
//   - the value after a name that IsSecretKey accepts, followed by ':' or '='
//     (header dumps, JSON and Python dict reprs with " or ' quotes, also
//     escaped once or more as in JSON inside JSON strings: \" or \\\", Go
//     http.Header maps, query parameters, environment dumps); quoted keys
//     mask only quoted (string) values; Authorization-like values keep their
//     scheme ("Bearer [MASKED:…wxyz]"); unquoted plain words such as
//     "token: expired" are masked only when they look like a credential;
//   - bare "Bearer <token>" and "Basic <token>" when the token looks like a
//     credential;
//   - provider keys by prefix: sk-... (OpenAI, Stability, Anthropic),
//     r8_... (Replicate), hf_... (Hugging Face), AIza... (Google), with at
//     least 16 characters after the prefix including a digit or an
//     upper-case letter;
//   - JSON Web Tokens (eyJ... three dot-separated base64url segments);
//   - the password in URL user info (scheme://user:password@host).

// maskPrefix opens every fingerprint.
const maskPrefix = "[MASKED:"

// MaskString returns s with every credential-looking value replaced by a
// short non-reversible fingerprint. It returns s itself, without allocating,
// when nothing needs masking.
func MaskString(s string) string {
	start, end := nextSecret(s, 0)
	if start < 0 {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	return string(appendMaskedFrom(b, s, start, end))
}

// AppendMasked appends the masked form of s to dst. It does not allocate
// when nothing needs masking and dst has room for s.
func AppendMasked(dst []byte, s string) []byte {
	start, end := nextSecret(s, 0)
	if start < 0 {
		return append(dst, s...)
	}
	return appendMaskedFrom(dst, s, start, end)
}

// appendMaskedFrom appends s to dst with the secret at s[start:end] and every
// later one replaced by fingerprints.
func appendMaskedFrom(dst []byte, s string, start, end int) []byte {
	last := 0
	for start >= 0 {
		dst = append(dst, s[last:start]...)
		dst = appendFingerprint(dst, s[start:end])
		last = end
		start, end = nextSecret(s, end)
	}
	return append(dst, s[last:]...)
}

// MaskValue returns the fingerprint form of a whole secret value, as used for
// JSON fields that IsSecretKey accepts. An authorization scheme in front of
// the credential ("Bearer ...", "Basic ...") is kept; empty values,
// placeholders such as "null" or "undefined" and values that are already
// masked are returned unchanged.
func MaskValue(v string) string {
	cs := schemeEnd(v, 0, len(v))
	cred := v[cs:]
	if cred == "" || isPlaceholder(cred) || strings.HasPrefix(cred, maskPrefix) {
		return v
	}
	b := make([]byte, 0, cs+len(maskPrefix)+12)
	b = append(b, v[:cs]...)
	return string(appendFingerprint(b, cred))
}

// appendFingerprint appends the fingerprint of secret v to dst (format in
// the package comment above).
func appendFingerprint(dst []byte, v string) []byte {
	dst = append(dst, maskPrefix...)
	if n := len(v); n >= 16 && isAlnum(v[n-1]) && isAlnum(v[n-2]) && isAlnum(v[n-3]) && isAlnum(v[n-4]) {
		dst = append(dst, "…"...)
		dst = append(dst, v[n-4:]...)
	} else {
		sum := sha256.Sum256([]byte(v))
		const hexDigits = "0123456789abcdef"
		dst = append(dst, '#')
		for _, c := range sum[:3] {
			dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return append(dst, ']')
}

// keyClass says how strongly a field name signals a secret.
type keyClass uint8

const (
	keyNone keyClass = iota
	// keyWeak names are also plain English words ("token", "key"): an
	// unquoted word after "name:" is masked only if it looks like a credential.
	keyWeak
	// keyStrong names hold a credential whatever it looks like.
	keyStrong
	// keyAuth names hold "<scheme> <credential>": the scheme is kept.
	keyAuth
	// keyLine names hold a list of secrets up to the end of the line (cookies).
	keyLine
)

// IsSecretKey reports whether a JSON field, header, query parameter or
// variable name looks like it holds a credential: api_key, apiKey, x-api-key,
// authorization, token, access_token, secret, client_secret, password,
// passwd, cookie, sig and alike. Case, '-' and '_' are ignored, and for a
// dotted path only the last element counts. Names of credentials, such as
// api_key_id or token_type, are not secrets.
func IsSecretKey(name string) bool {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return classifyKey(name) != keyNone
}

// secretSuffixes are the endings of normalised (lower-case, letters and
// digits only) compound names that hold credentials.
var secretSuffixes = [...]string{
	"apikey", "token", "secret", "password", "passwd", "passphrase",
	"secretkey", "accesskey", "privatekey", "subscriptionkey", "signingkey",
	"authkey", "signature", "credentials", "credential",
}

// classifyKey returns the class of a field name (see keyClass).
func classifyKey(name string) keyClass {
	var buf [48]byte // the normalised tail of name, right-aligned
	n := 0
	for i := len(name) - 1; i >= 0 && n < len(buf); i-- {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '-' || c == '_' || c == ' ':
			continue
		default:
			return keyNone
		}
		n++
		buf[len(buf)-n] = c
		// Most names are rejected on their last three letters or digits,
		// before anything else is done.
		if n == 3 && !secretEnding(uint32(c)<<16|uint32(buf[len(buf)-2])<<8|uint32(buf[len(buf)-1])) {
			return keyNone
		}
	}
	if n < 3 {
		return keyNone
	}
	k := buf[len(buf)-n:]
	switch string(k) {
	case "authorization", "proxyauthorization":
		return keyAuth
	case "cookie", "setcookie":
		return keyLine
	case "key", "token", "secret", "password", "passwd", "pwd", "auth",
		"sig", "signature", "credential", "credentials":
		return keyWeak
	}
	for _, suf := range secretSuffixes {
		if len(k) >= len(suf) && string(k[len(k)-len(suf):]) == suf {
			return keyStrong
		}
	}
	return keyNone
}

// secretEnding reports whether the last three letters of a normalised
// name, packed as c1<<16 | c2<<8 | c3, end one of the secret names of
// classifyKey: "key", "ken" (token), "ret" (secret), "ord" (password),
// "swd", "pwd", "ase" (passphrase), "ure" (signature), "ial", "als"
// (credentials), "uth", "sig", "ion" (authorization), "kie" (cookie).
func secretEnding(t uint32) bool {
	switch t {
	case 'k'<<16 | 'e'<<8 | 'y', 'k'<<16 | 'e'<<8 | 'n', 'r'<<16 | 'e'<<8 | 't',
		'o'<<16 | 'r'<<8 | 'd', 's'<<16 | 'w'<<8 | 'd', 'p'<<16 | 'w'<<8 | 'd',
		'a'<<16 | 's'<<8 | 'e', 'u'<<16 | 'r'<<8 | 'e', 'i'<<16 | 'a'<<8 | 'l',
		'a'<<16 | 'l'<<8 | 's', 'u'<<16 | 't'<<8 | 'h', 's'<<16 | 'i'<<8 | 'g',
		'i'<<16 | 'o'<<8 | 'n', 'k'<<16 | 'i'<<8 | 'e':
		return true
	}
	return false
}

// anchorPairs marks the pairs of bytes (previous, current) at which a
// secret can be recognised: the separator after a secret-named key (':' or
// '=' after any byte), the prefix ends of provider keys ("k-" of "sk-",
// "8_" and "f_" of "r8_" and "hf_"), the second letter of "bearer" and
// "basic" after their first ("be", "ba" in any case), the "yJ" of a JWT's
// "eyJ" and the "Iz" of a Google API key's "AIza". Ordinary text has few
// of them, where it has many of the single bytes ('-', '_', 'b' in URLs,
// ids and hex), each a branch the processor guesses wrong. It is indexed
// by previous<<8 | current: 64 KB, of which ordinary text touches a few
// cache lines.
var anchorPairs = func() (t [1 << 16]bool) {
	set := func(prev, cur byte) { t[uint16(prev)<<8|uint16(cur)] = true }
	for prev := range 256 {
		set(byte(prev), ':')
		set(byte(prev), '=')
	}
	set('k', '-')
	set('8', '_')
	set('f', '_')
	for _, b := range "bB" {
		for _, c := range "eEaA" {
			set(byte(b), byte(c))
		}
	}
	set('y', 'J')
	set('I', 'z')
	return t
}()

// nextSecret returns the bounds of the first secret in s that starts at or
// after from, or -1, -1. Candidates are examined in order of the byte where
// each kind is recognised (the separator, the end of a key prefix, the 'b'
// of a scheme word, the 'J' of "eyJ", the 'z' of "AIza").
func nextSecret(s string, from int) (start, end int) {
	var prev byte
	if from > 0 && from <= len(s) {
		prev = s[from-1]
	}
	for i := from; i < len(s); i++ {
		c := s[i]
		p := uint16(prev)<<8 | uint16(c)
		prev = c
		if !anchorPairs[p] {
			continue
		}
		var ok bool
		switch c {
		case ':', '=':
			start, end, ok = keyValueSecret(s, i)
		case '-':
			if i >= 2 && s[i-2] == 's' {
				start, end, ok = prefixedKey(s, i-2, i+1)
			}
		case '_':
			if i >= 2 && (s[i-2] == 'r' && s[i-1] == '8' || s[i-2] == 'h' && s[i-1] == 'f') {
				start, end, ok = prefixedKey(s, i-2, i+1)
			}
		case 'e', 'E', 'a', 'A':
			// The scheme word starts at the 'b' before: examined only when
			// the 'b' is at or after from.
			if b := i - 1; b >= from {
				if len(s)-b > 6 && lowerIs(s[b:b+6], "bearer") {
					start, end, ok = schemeToken(s, b, b+6)
				} else if len(s)-b > 5 && lowerIs(s[b:b+5], "basic") {
					start, end, ok = schemeToken(s, b, b+5)
				}
			}
		case 'J':
			if i >= 2 && s[i-2] == 'e' {
				start, end, ok = jwt(s, i-2)
			}
		case 'z':
			if i >= 2 && s[i-2] == 'A' && i+1 < len(s) && s[i+1] == 'a' {
				start, end, ok = prefixedKey(s, i-2, i+2)
			}
		}
		if ok && start >= from {
			return start, end
		}
	}
	return -1, -1
}

// prefixedKey recognises a provider key such as sk-..., r8_..., hf_... that
// starts at p with its body at b.
func prefixedKey(s string, p, b int) (start, end int, ok bool) {
	if p > 0 && isAlnum(s[p-1]) {
		return 0, 0, false // "task-", "risk-based"
	}
	e := b
	strong := false
	for e < len(s) && isKeyChar(s[e]) {
		c := s[e]
		strong = strong || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z'
		e++
	}
	if e-b < 16 || !strong {
		return 0, 0, false // "sk-learn", "hf_hub_download"
	}
	return p, e, true
}

// schemeToken recognises a bare "Bearer <token>" or "Basic <token>" whose
// scheme word starts at p and ends at q.
func schemeToken(s string, p, q int) (start, end int, ok bool) {
	if p > 0 && isAlnum(s[p-1]) || q >= len(s) || s[q] != ' ' {
		return 0, 0, false
	}
	for q < len(s) && s[q] == ' ' {
		q++
	}
	e := q
	for e < len(s) && isToken68(s[e]) {
		e++
	}
	if !credentialShaped(s[q:e]) {
		return 0, 0, false // "Bearer token is missing"
	}
	return q, e, true
}

// jwt recognises a JSON Web Token (three base64url segments) starting at p.
func jwt(s string, p int) (start, end int, ok bool) {
	if p > 0 && isKeyChar(s[p-1]) {
		return 0, 0, false
	}
	e := p
	for seg := 0; seg < 3; seg++ {
		if seg > 0 {
			if e >= len(s) || s[e] != '.' {
				return 0, 0, false
			}
			e++
		}
		b := e
		for e < len(s) && isKeyChar(s[e]) {
			e++
		}
		if seg < 2 && e-b < 8 {
			return 0, 0, false
		}
	}
	return p, e, true
}

// keyValueSecret recognises "name: value" / "name=value" at separator i when
// the name is secret-like, in the quoting styles listed in the package
// comment, and the password of URL user info.
func keyValueSecret(s string, i int) (start, end int, ok bool) {
	if s[i] == ':' {
		if start, end, ok = userinfoPassword(s, i); ok {
			return start, end, ok
		}
	}
	// The name, right to left: spaces, an optional quote with any run of
	// escaping backslashes before it, the name.
	j := i
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	quotedKey := false
	if j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
		quotedKey = true
		j--
		for j > 0 && s[j-1] == '\\' {
			j--
		}
	}
	ne := j
	// Reject most names on their last three letters or digits before
	// reading them whole.
	var tail uint32
	n := 0
	for k := ne - 1; k >= 0 && n < 3 && isKeyChar(s[k]); k-- {
		if c := s[k]; c != '-' && c != '_' {
			tail |= uint32(c|0x20) << (8 * n) // lower case; digits keep their value
			n++
		}
	}
	if n < 3 || !secretEnding(tail) {
		return 0, 0, false
	}
	for j > 0 && isKeyChar(s[j-1]) {
		j--
	}
	class := classifyKey(s[j:ne])
	if class == keyNone {
		return 0, 0, false
	}

	// The value, left to right.
	k := i + 1
	for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
		k++
	}
	if k >= len(s) {
		return 0, 0, false
	}
	var vs, ve int // value content
	quotedValue := true
	q := k // the opening quote of a quoted value, after its escaping backslashes
	for q < len(s) && s[q] == '\\' {
		q++
	}
	switch c := s[k]; {
	case q < len(s) && (s[q] == '"' || s[q] == '\''):
		vs = q + 1
		ve = closingQuote(s, vs, s[q], q-k)
	case c == '[' && !quotedKey && !strings.HasPrefix(s[k:], maskPrefix):
		vs = k + 1 // Go's http.Header: map[Authorization:[Bearer ...]]
		ve = indexFrom(s, vs, "]")
	case quotedKey:
		return 0, 0, false // a JSON number, object, array, null...
	case class == keyLine:
		vs, ve = k, k
		for ve < len(s) && s[ve] != '\n' && s[ve] != '\r' && s[ve] != '"' && s[ve] != '\'' {
			ve++
		}
	default:
		quotedValue = false
		vs, ve = k, wordEnd(s, k)
		if class == keyAuth {
			if ve < len(s) && s[ve] == ' ' && isKnownScheme(s[vs:ve]) {
				// "Authorization: Bearer <credential>": mask the next word.
				vs = ve
				for vs < len(s) && s[vs] == ' ' {
					vs++
				}
				ve = wordEnd(s, vs)
			} else if !credentialShaped(s[vs:ve]) {
				return 0, 0, false // prose: "authorization: missing required header"
			}
		}
	}
	if quotedValue && class == keyAuth {
		vs = schemeEnd(s, vs, ve)
	}
	v := s[vs:ve]
	if v == "" || isPlaceholder(v) || strings.Contains(v, maskPrefix) {
		return 0, 0, false
	}
	if class == keyWeak && !quotedKey && s[i] == ':' && !credentialShaped(v) {
		return 0, 0, false // prose: "invalid token: expired", "Key: 'Request.Prompt'"
	}
	return vs, ve, true
}

// closingQuote returns where the content of a value opened by quote q after
// n escaping backslashes ends, searching from vs: at the backslashes that
// escape its closing quote, or at len(s). Each level of JSON string escaping
// turns the n backslashes before a quote into 2n+1 and writes each backslash
// of the text inside n+1 times, so a quote after r >= n backslashes closes
// the value when (r-n)/(n+1), the backslashes before it in the innermost
// text, is even: \"p\\\"w\" is p\\\"w. A quote after fewer than n
// backslashes closes it too: the enclosing string ended there.
func closingQuote(s string, vs int, q byte, n int) int {
	r := 0 // backslashes right before s[i]
	for i := vs; i < len(s); i++ {
		switch s[i] {
		case '\\':
			r++
			continue
		case q:
			if r < n {
				return i - r
			}
			if (r-n)%(2*(n+1)) == 0 {
				return i - n
			}
		}
		r = 0
	}
	return len(s)
}

// userinfoPassword recognises the password of "scheme://user:password@host"
// where i is the ':' after the user.
func userinfoPassword(s string, i int) (start, end int, ok bool) {
	e := i + 1
	for e < len(s) && isUserinfoChar(s[e]) {
		e++
	}
	if e == i+1 || e >= len(s) || s[e] != '@' || strings.HasPrefix(s[i+1:], maskPrefix) {
		return 0, 0, false
	}
	u := i
	for u > 0 && isUserinfoChar(s[u-1]) {
		u--
	}
	if u < 2 || s[u-1] != '/' || s[u-2] != '/' {
		return 0, 0, false
	}
	return i + 1, e, true
}

// schemeEnd returns where the credential starts in v[vs:ve] when it begins
// with an authorization scheme followed by spaces, else vs.
func schemeEnd(v string, vs, ve int) int {
	w := vs
	for w < ve && v[w] != ' ' {
		w++
	}
	if w == ve || !isScheme(v[vs:w]) {
		return vs
	}
	for w < ve && v[w] == ' ' {
		w++
	}
	if w == ve {
		return vs
	}
	return w
}

// isKnownScheme reports whether w is a registered or common HTTP
// authorization scheme, any case.
func isKnownScheme(w string) bool {
	for _, sch := range [...]string{"bearer", "basic", "token", "digest", "key", "apikey", "bot", "negotiate",
		"ntlm", "hmac", "dpop", "ssws", "oauth", "aws4-hmac-sha256"} {
		if strings.EqualFold(w, sch) {
			return true
		}
	}
	return false
}

// isScheme reports whether w looks like an HTTP authorization scheme word
// (Bearer, Basic, Token, Key, Digest, ApiKey...).
func isScheme(w string) bool {
	if len(w) < 3 || len(w) > 16 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if c := w[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// wordEnd returns the end of the unquoted value word starting at k.
func wordEnd(s string, k int) int {
	for k < len(s) && !isWordDelim(s[k]) {
		k++
	}
	return k
}

// credentialShaped reports whether a plain word looks like a credential
// rather than prose: at least 8 characters with a digit, or at least 24.
func credentialShaped(v string) bool {
	if len(v) >= 24 {
		return true
	}
	if len(v) < 8 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if '0' <= v[i] && v[i] <= '9' {
			return true
		}
	}
	return false
}

// isPlaceholder reports whether v is a well-known stand-in for "no
// credential" or for a credential to be filled in, which is kept because it
// explains the failure: null, nil, None, undefined, true, false, YOUR_KEY,
// $OPENAI_API_KEY, <token>, {{API_KEY}}, ********.
func isPlaceholder(v string) bool {
	for _, p := range [...]string{"nil", "null", "none", "undefined", "true", "false", "<nil>"} {
		if strings.EqualFold(v, p) {
			return true
		}
	}
	if len(v) > 42 {
		return false
	}
	if len(v) > 2 && (v[0] == '<' && v[len(v)-1] == '>' || v[0] == '{' && v[len(v)-1] == '}') {
		return true // <your key>, {{API_KEY}}: nobody wraps a real key so
	}
	v = strings.TrimPrefix(v, "$")
	if v == "" {
		return false
	}
	stars, caps := true, true // ******** or YOUR_API_KEY: no digits, no lower case
	for i := 0; i < len(v); i++ {
		c := v[i]
		stars = stars && c == '*'
		caps = caps && ('A' <= c && c <= 'Z' || c == '_' || c == '-' || c == ' ')
	}
	return stars || caps
}

// indexFrom returns the index of sub in s at or after from, or len(s).
func indexFrom(s string, from int, sub string) int {
	if from >= len(s) {
		return len(s)
	}
	if i := strings.Index(s[from:], sub); i >= 0 {
		return from + i
	}
	return len(s)
}

// lowerIs reports whether the ASCII lower-case form of s equals lower.
func lowerIs(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		if s[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isKeyChar: the alphabet of provider keys, base64url and field names.
func isKeyChar(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

// isToken68 is RFC 7235's token68 alphabet (bearer and basic credentials).
func isToken68(c byte) bool {
	return isKeyChar(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '='
}

// isUserinfoChar: characters of a URL's user or password, without ':' and '@'.
func isUserinfoChar(c byte) bool {
	return isKeyChar(c) || c == '.' || c == '~' || c == '%' || c == '!' || c == '$' ||
		c == '*' || c == '+' || c == ';' || c == '='
}

// isWordDelim ends an unquoted value: whitespace, quotes, and the separators
// of query strings, lists and markup.
func isWordDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '\'', '\\', '&', '#', '<', '>', ',', ';', ')', ']', '}', '|', '`':
		return true
	}
	return false
}
