package report

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Message templates.
//
// Error messages that differ only in ids, numbers, hosts, addresses, hashes
// or masked secrets are one problem. MessageTemplate replaces those parts with
// placeholders so that such messages are counted together:
//
//	<secret> a masked credential ([MASKED:…wxyz], sk-proj-****2qxd)
//	<url>    a URL             <email> an e-mail address
//	<uuid>   a UUID            <time>  an RFC 3339 timestamp
//	<ip>     an IPv4 address   <host>  a host name under a common top-level domain
//	<hex>    a hash or hex id  <id>    a random-looking token of letters and digits
//	<n>      a number (also inside units: 120000ms -> <n>ms, 1024x1024 -> <n>x<n>)
//
// The text is then folded to single spaces and cut at maxTemplateRunes.

// maxTemplateRunes and maxExampleRunes bound what a report prints of a message.
const (
	maxTemplateRunes = 160
	maxExampleRunes  = 300
)

// templateRules apply in order; a rule's regexp runs only on text that
// holds its literal trigger, which keeps templating cheap.
var templateRules = []struct {
	trigger     string
	re          *regexp.Regexp
	placeholder string
}{
	{"[MASKED:", regexp.MustCompile(`\[MASKED:[^\]]*\]`), "<secret>"},
	{"****", regexp.MustCompile(`[\w-]*\*{4,}\w*`), "<secret>"},
	{"://", regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>()\[\]{},]*[^\s"'<>()\[\]{},.:;!?]`), "<url>"},
	{"@", regexp.MustCompile(`[\w.+-]+@[\w-]+(?:\.[\w-]+)+`), "<email>"},
	{"-", regexp.MustCompile(`\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`), "<uuid>"},
	{":", regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?`), "<time>"},
	{".", regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}\b`), "<ip>"},
}

// hostLike finds dotted names; those whose last label is a common
// top-level domain are host names (requests.exceptions.ReadTimeout is not).
var hostLike = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)

var topLevelDomains = map[string]bool{}

func init() {
	for _, d := range strings.Fields("com net org io ai co dev app cloud internal local lan svc info biz tech run site xyz us uk de fr nl jp cn in eu") {
		topLevelDomains[d] = true
	}
}

func host(name string) string {
	if topLevelDomains[strings.ToLower(name[strings.LastIndexByte(name, '.')+1:])] {
		return "<host>"
	}
	return name
}

// alnum finds the runs of ASCII letters and digits left between the
// placeholders, for the hash, id and number rules.
var alnum = regexp.MustCompile(`[A-Za-z0-9]+`)

// MessageTemplate returns msg with its variable parts replaced by placeholders.
func MessageTemplate(msg string) string {
	s := msg
	for _, r := range templateRules {
		if strings.Contains(s, r.trigger) {
			s = r.re.ReplaceAllString(s, r.placeholder)
		}
	}
	if strings.Contains(s, ".") {
		s = hostLike.ReplaceAllStringFunc(s, host)
	}
	s = alnum.ReplaceAllStringFunc(s, templateWord)
	return cut(strings.Join(strings.Fields(s), " "), maxTemplateRunes)
}

// templateWord templates one run of letters and digits.
func templateWord(w string) string {
	letters, digits, changes, hex := 0, 0, 0, true
	for i := 0; i < len(w); i++ {
		c := w[i]
		if i > 0 && isDigit(c) != isDigit(w[i-1]) {
			changes++
		}
		switch {
		case isDigit(c):
			digits++
		default:
			letters++
			if (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
				hex = false
			}
		}
	}
	switch {
	case len(w) >= 8 && digits > 0 && letters > 0 && hex:
		return "<hex>"
	case len(w) >= 8 && digits >= 2 && letters >= 2 && changes >= 2:
		return "<id>" // letters and digits mixed: not a number with a unit (120000ms)
	case digits == 0:
		return w
	}
	// Numbers: a digit run at the start of the word, or after an "x"
	// between digits (1024x1024); digits after letters stay (v1, x509).
	var b strings.Builder
	for i := 0; i < len(w); {
		if isDigit(w[i]) && (i == 0 || (w[i-1] == 'x' && i >= 2 && isDigit(w[i-2]))) {
			for i < len(w) && isDigit(w[i]) {
				i++
			}
			b.WriteString("<n>")
			continue
		}
		b.WriteByte(w[i])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// cut shortens s to at most n runes, marking the cut with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// example folds whitespace in a message shown as an example and cuts it.
func example(msg string) string {
	return cut(strings.Join(strings.Fields(msg), " "), maxExampleRunes)
}

var (
	htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	htmlH1    = regexp.MustCompile(`(?is)<h1[^>]*>(.*?)</h1>`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
)

// bodyMessagePaths are where JSON error bodies of the providers put their
// message, most specific first: OpenAI and Azure (error.message), FastAPI
// validation (detail.0.msg), Replicate and Stability (detail, message,
// errors), Hugging Face and predictions (error as a string).
var bodyMessagePaths = []string{
	"error.message", "detail.0.msg", "detail", "message", "error", "errors.0.message", "errors.0",
	"title", "error.code", "name", "status",
}

// BodyMessage returns the error message a provider's response body holds:
// a JSON body's message field, an HTML page's title (or first heading), or
// the text itself. It returns "" for an empty body.
func BodyMessage(body string) string {
	s := strings.TrimSpace(body)
	switch {
	case s == "":
		return ""
	case s[0] == '{' && gjson.Valid(s):
		for _, p := range bodyMessagePaths {
			if v := gjson.Get(s, p); v.Type == gjson.String && strings.TrimSpace(v.Str) != "" {
				return strings.TrimSpace(v.Str)
			}
		}
		return s
	case s[0] == '<':
		for _, re := range []*regexp.Regexp{htmlTitle, htmlH1} {
			if m := re.FindStringSubmatch(s); m != nil {
				if t := strings.TrimSpace(html.UnescapeString(htmlTag.ReplaceAllString(m[1], " "))); t != "" {
					return t
				}
			}
		}
		return strings.TrimSpace(html.UnescapeString(htmlTag.ReplaceAllString(s, " ")))
	}
	return s
}
