package classify

import (
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

// maxDepth bounds the nesting of arrays and objects in a record.
const maxDepth = 1000

// objectScanner validates a JSON object and hands over its members in the
// same pass: one pass instead of gjson.Valid followed by gjson.ForEach, and
// strings with escapes are unescaped into a reused arena instead of new
// allocations. Its user walks the objects it cares about member by member
// (object) and takes every other value whole (value).
type objectScanner struct {
	s     string
	i     int
	arena []byte // unescaped strings and joined paths of the current record
}

// reset starts on s; the strings handed out for the previous one become
// invalid.
func (p *objectScanner) reset(s string) {
	p.s, p.i, p.arena = s, 0, p.arena[:0]
}

// document validates the text as one JSON object, with optional
// surrounding whitespace, calling member as object does. It reports false,
// possibly after some calls, when the text is not a valid JSON object.
func (p *objectScanner) document(member func(key string) bool) bool {
	p.space()
	if !p.object(0, member) {
		return false
	}
	p.space()
	return p.i == len(p.s)
}

// object reads the object that comes next, at nesting depth, calling
// member for each member in order with the scanner at its value: member
// reads the value (value or object) and reports whether it was valid. The
// keys it gets are valid until the next reset.
func (p *objectScanner) object(depth int, member func(key string) bool) bool {
	if depth >= maxDepth || !p.byte('{') {
		return false
	}
	p.space()
	if p.byte('}') {
		return true
	}
	for {
		p.space()
		_, key, ok := p.string()
		if !ok {
			return false
		}
		p.space()
		if !p.byte(':') {
			return false
		}
		p.space()
		if !member(key) {
			return false
		}
		p.space()
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
	}
}

// peek returns the next byte, 0 at the end.
func (p *objectScanner) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// join returns prefix + "." + key, kept in the arena until the next reset.
func (p *objectScanner) join(prefix, key string) string {
	mark := len(p.arena)
	p.arena = append(p.arena, prefix...)
	p.arena = append(p.arena, '.')
	p.arena = append(p.arena, key...)
	return unsafe.String(&p.arena[mark], len(p.arena)-mark)
}

// space skips whitespace.
func (p *objectScanner) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// byte consumes c if it comes next.
func (p *objectScanner) byte(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// value reads the value that comes next, at nesting depth, as a
// gjson.Result; a string's Str is unescaped.
func (p *objectScanner) value(depth int) (gjson.Result, bool) {
	if p.i >= len(p.s) {
		return gjson.Result{}, false
	}
	start := p.i
	switch c := p.s[p.i]; {
	case c == '"':
		raw, str, ok := p.string()
		return gjson.Result{Type: gjson.String, Raw: raw, Str: str, Index: start}, ok
	case c == '{' || c == '[':
		if !skipValue(p.s, &p.i, depth) {
			return gjson.Result{}, false
		}
		return gjson.Result{Type: gjson.JSON, Raw: p.s[start:p.i], Index: start}, true
	case c == 't' || c == 'f' || c == 'n':
		if !skipValue(p.s, &p.i, depth) {
			return gjson.Result{}, false
		}
		t := gjson.True
		if c == 'f' {
			t = gjson.False
		} else if c == 'n' {
			t = gjson.Null
		}
		return gjson.Result{Type: t, Raw: p.s[start:p.i], Index: start}, true
	default:
		if !skipValue(p.s, &p.i, depth) {
			return gjson.Result{}, false
		}
		raw := p.s[start:p.i]
		return gjson.Result{Type: gjson.Number, Raw: raw, Num: parseNumber(raw), Index: start}, true
	}
}

// string reads the string that comes next: raw with its quotes, and str
// unescaped. It validates and unescapes in one pass: plain content is
// skipped eight bytes at a time, and only a string with escapes is copied
// (into the arena), run by run.
func (p *objectScanner) string() (raw, str string, ok bool) {
	start := p.i
	if start >= len(p.s) || p.s[start] != '"' {
		return "", "", false
	}
	s := p.s
	mark := -1       // where the unescaped copy starts in the arena, once an escape is seen
	run := start + 1 // start of the content not copied yet
	for j := plainEnd(s, start+1); j < len(s); j = plainEnd(s, j) {
		switch c := s[j]; {
		case c == '"':
			p.i = j + 1
			raw = s[start:p.i]
			if mark < 0 {
				return raw, raw[1 : len(raw)-1], true
			}
			p.arena = append(p.arena, s[run:j]...)
			b := p.arena[mark:]
			return raw, unsafe.String(unsafe.SliceData(b), len(b)), true
		case c < 0x20:
			return "", "", false
		default: // a backslash
			if mark < 0 {
				mark = len(p.arena)
			}
			p.arena = append(p.arena, s[run:j]...)
			n, ok := p.unescape(s, j)
			if !ok {
				return "", "", false
			}
			j += n
			run = j
		}
	}
	return "", "", false
}

// unescape appends to the arena what the escape at s[j] (a backslash)
// stands for and returns its length; ok is false for an invalid escape. A
// \u escape of a high surrogate followed by one of a low surrogate is one
// character; a lone surrogate becomes U+FFFD, as in encoding/json.
func (p *objectScanner) unescape(s string, j int) (n int, ok bool) {
	if j+1 >= len(s) {
		return 0, false
	}
	switch e := s[j+1]; e {
	case '"', '\\', '/':
		p.arena = append(p.arena, e)
	case 'b':
		p.arena = append(p.arena, '\b')
	case 'f':
		p.arena = append(p.arena, '\f')
	case 'n':
		p.arena = append(p.arena, '\n')
	case 'r':
		p.arena = append(p.arena, '\r')
	case 't':
		p.arena = append(p.arena, '\t')
	case 'u':
		if j+6 > len(s) || !isHex4(s[j+2:j+6]) {
			return 0, false
		}
		r := rune(hex4(s[j+2 : j+6]))
		n = 6
		if utf16.IsSurrogate(r) {
			r2 := utf8.RuneError
			if j+12 <= len(s) && s[j+6] == '\\' && s[j+7] == 'u' && isHex4(s[j+8:j+12]) {
				r2 = utf16.DecodeRune(r, rune(hex4(s[j+8:j+12])))
			}
			if r2 != utf8.RuneError {
				n = 12
			}
			r = r2
		}
		p.arena = utf8.AppendRune(p.arena, r)
		return n, true
	default:
		return 0, false
	}
	return 2, true
}

// parseNumber converts a valid JSON number. Numbers of up to 15 digits
// with or without a fraction, nearly all numbers in a log record, take a
// fast path; others go through strconv (a range error gives ±Inf, which the
// callers reject).
func parseNumber(raw string) float64 {
	digits := raw
	if raw[0] == '-' {
		digits = raw[1:]
	}
	if len(digits) > 16 {
		f, _ := strconv.ParseFloat(raw, 64)
		return f
	}
	n, point := int64(0), -1
	for k := 0; k < len(digits); k++ {
		switch c := digits[k]; {
		case isDigit(c):
			n = n*10 + int64(c-'0')
		case c == '.':
			point = k
		default: // an exponent
			f, _ := strconv.ParseFloat(raw, 64)
			return f
		}
	}
	if point < 0 && len(digits) > 15 {
		f, _ := strconv.ParseFloat(raw, 64)
		return f
	}
	// n < 10^15 and the power of ten are exact, so the quotient is the
	// correctly rounded value, as strconv's own exact path computes it.
	f := float64(n)
	if point >= 0 {
		f /= pow10[len(digits)-1-point]
	}
	if raw[0] == '-' {
		return -f
	}
	return f
}

// pow10 holds the powers of ten that float64 represents exactly and that
// parseNumber divides by.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// skipValue validates the JSON value at s[*i:] and moves *i past it.
func skipValue(s string, i *int, depth int) bool {
	if *i >= len(s) {
		return false
	}
	switch c := s[*i]; c {
	case '"':
		_, ok := skipString(s, i)
		return ok
	case '{', '[':
		if depth >= maxDepth {
			return false
		}
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		*i++
		skipSpace(s, i)
		if *i < len(s) && s[*i] == close {
			*i++
			return true
		}
		for {
			skipSpace(s, i)
			if c == '{' {
				if *i >= len(s) || s[*i] != '"' {
					return false
				}
				if _, ok := skipString(s, i); !ok {
					return false
				}
				skipSpace(s, i)
				if *i >= len(s) || s[*i] != ':' {
					return false
				}
				*i++
				skipSpace(s, i)
			}
			if !skipValue(s, i, depth+1) {
				return false
			}
			skipSpace(s, i)
			if *i >= len(s) {
				return false
			}
			switch s[*i] {
			case ',':
				*i++
			case close:
				*i++
				return true
			default:
				return false
			}
		}
	case 't':
		return skipLiteral(s, i, "true")
	case 'f':
		return skipLiteral(s, i, "false")
	case 'n':
		return skipLiteral(s, i, "null")
	}
	return skipNumber(s, i)
}

// skipSpace skips whitespace.
func skipSpace(s string, i *int) {
	for *i < len(s) {
		switch s[*i] {
		case ' ', '\t', '\n', '\r':
			*i++
		default:
			return
		}
	}
}

// skipLiteral consumes lit.
func skipLiteral(s string, i *int, lit string) bool {
	if len(s)-*i < len(lit) || s[*i:*i+len(lit)] != lit {
		return false
	}
	*i += len(lit)
	return true
}

// skipNumber consumes -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func skipNumber(s string, i *int) bool {
	j := *i
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && '1' <= s[j] && s[j] <= '9':
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	default:
		return false
	}
	if j < len(s) && s[j] == '.' {
		j++
		if j >= len(s) || !isDigit(s[j]) {
			return false
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j >= len(s) || !isDigit(s[j]) {
			return false
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	*i = j
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipString consumes the string at s[*i] (which is '"') and reports
// whether it has escapes. Plain content is skipped eight bytes at a time,
// straight to the first byte that needs a look.
func skipString(s string, i *int) (escaped, ok bool) {
	for j := plainEnd(s, *i+1); j < len(s); j = plainEnd(s, j) {
		switch c := s[j]; {
		case c == '"':
			*i = j + 1
			return escaped, true
		case c < 0x20:
			return false, false
		default: // a backslash
			escaped = true
			if j+1 >= len(s) {
				return false, false
			}
			switch s[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(s) || !isHex4(s[j+2:j+6]) {
					return false, false
				}
				j += 6
			default:
				return false, false
			}
		}
	}
	return false, false
}

// Word-at-a-time tests on 8 bytes (the classic SWAR bit tricks).
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// load64 reads s[i:i+8] as a little-endian word on any platform (the
// compiler makes it one load where words are little-endian); i+8 must be
// <= len(s).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// zeroBytes has the high bit of the lowest zero byte of x set, and maybe
// of higher bytes (bytes above a zero byte can be flagged falsely).
func zeroBytes(x uint64) uint64 { return (x - ones) &^ x & highs }

// stringSpecial is zeroBytes for the bytes below 0x20, '"' and '\\': the
// lowest flagged byte is the first one that ends a run of plain content.
func stringSpecial(x uint64) uint64 {
	return (x-0x20*ones)&^x&highs | zeroBytes(x^('"'*ones)) | zeroBytes(x^('\\'*ones))
}

// hasStringSpecial reports whether a byte of x is below 0x20, '"' or '\\'.
func hasStringSpecial(x uint64) bool { return stringSpecial(x) != 0 }

// plainEnd returns the index of the first byte at or after j that ends a
// run of plain string content (see strSpecial), or len(s). Plain content
// is skipped eight bytes at a time.
func plainEnd(s string, j int) int {
	for ; j+8 <= len(s); j += 8 {
		if m := stringSpecial(load64(s, j)); m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
	}
	for j < len(s) && !strSpecial[s[j]] {
		j++
	}
	return j
}

// strSpecial marks the bytes that end a run of plain string content.
var strSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// isHex4 reports whether s is four hex digits.
func isHex4(s string) bool {
	for k := 0; k < 4; k++ {
		c := s[k]
		if !isDigit(c) && !('a' <= c && c <= 'f') && !('A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// hex4 decodes four hex digits.
func hex4(s string) int {
	n := 0
	for k := 0; k < 4; k++ {
		c := s[k]
		switch {
		case isDigit(c):
			n = n<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		default:
			n = n<<4 | int(c-'A'+10)
		}
	}
	return n
}
