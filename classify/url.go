package classify

import "strings"

// splitURL returns the host (without port or user info), the port and the
// path of a URL such as "https://user@api.openai.com:443/v1/images?x=1".
// It does not allocate and accepts URLs without a scheme
// ("localhost:7860/sdapi/v1/txt2img") and bare paths ("/prompt").
func splitURL(u string) (host, port, path string) {
	rest := u
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	} else if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
	} else if strings.HasPrefix(rest, "/") {
		return "", "", trimQuery(rest)
	}
	authority := rest
	if i := indexPathStart(rest); i >= 0 {
		authority, rest = rest[:i], rest[i:]
	} else {
		rest = ""
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	host = authority
	if strings.HasPrefix(authority, "[") { // IPv6 literal
		if i := strings.IndexByte(authority, ']'); i >= 0 {
			host = authority[1:i]
			if strings.HasPrefix(authority[i+1:], ":") {
				port = authority[i+2:]
			}
		}
	} else if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i+1:]
	}
	path = trimQuery(rest)
	if path != "" && path[0] != '/' {
		path = ""
	}
	return host, port, path
}

// trimQuery cuts the query and fragment off a path.
func trimQuery(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] == '?' || p[i] == '#' {
			return p[:i]
		}
	}
	return p
}

// indexPathStart returns the index of the first '/', '?' or '#', the end
// of a URL's authority, or -1. (strings.IndexAny builds a set per call.)
func indexPathStart(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '/' || c == '?' || c == '#' {
			return i
		}
	}
	return -1
}

// providerFromURL derives the canonical provider from the endpoint's host
// and path ("Canonical providers" in the design); "" when unknown. host
// must be lower-case.
func providerFromURL(host, port, path string) string {
	switch host {
	case "api.stability.ai":
		return "stability"
	case "api.replicate.com", "replicate.delivery", "replicate.com":
		return "replicate"
	case "api-inference.huggingface.co", "router.huggingface.co", "huggingface.co":
		return "huggingface"
	case "api.openai.com":
		return "openai"
	}
	switch {
	case strings.HasSuffix(host, ".replicate.delivery"):
		return "replicate"
	case strings.HasSuffix(host, ".endpoints.huggingface.cloud"):
		return "huggingface"
	case strings.HasSuffix(host, ".openai.azure.com"):
		return "openai"
	case strings.HasPrefix(path, "/sdapi/"):
		return "automatic1111"
	case path == "/api/prompt" || strings.HasPrefix(path, "/api/prompt/"):
		return "comfyui"
	case port == "8188" && isComfyPath(path):
		return "comfyui"
	}
	return ""
}

// isComfyPath reports whether path is one of ComfyUI's queueing endpoints.
func isComfyPath(path string) bool {
	for _, p := range [...]string{"/prompt", "/history", "/queue"} {
		if strings.HasPrefix(path, p) && (len(path) == len(p) || path[len(p)] == '/') {
			return true
		}
	}
	return false
}

// lowerASCII returns s with ASCII letters lower-cased; it allocates only
// when s has an upper-case letter.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
