package report

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMessageTemplate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`Post "https://api.stability.ai/v2beta/stable-image/generate/core": read tcp 10.40.57.71:34802->104.18.13.241:443: read: connection reset by peer`,
			`Post "<url>": read tcp <ip>:<n>-><ip>:<n>: read: connection reset by peer`},
		{`HTTPConnectionPool(host='sd-webui.gpu.internal', port=7860): Read timed out. (read timeout=60)`,
			`HTTPConnectionPool(host='<host>', port=<n>): Read timed out. (read timeout=<n>)`},
		{`requests.exceptions.ReadTimeout: boom`, `requests.exceptions.ReadTimeout: boom`},
		{`Rate limit reached for gpt-image-1 in organization org-TTYK7NWQug2IE84RVvmrstNn on images per minute`,
			`Rate limit reached for gpt-image-<n> in organization org-<id> on images per minute`},
		{`prediction 3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f failed at 2026-11-17T10:00:00.123Z`, `prediction <uuid> failed at <time>`},
		{`Authorization: Bearer [MASKED:…wxyz] rejected`, `Authorization: Bearer <secret> rejected`},
		{`Incorrect API key provided: sk-proj-********************2qxd.`, `Incorrect API key provided: <secret>.`},
		{`timeout of 120000ms exceeded`, `timeout of <n>ms exceeded`},
		{`Invalid value: '1000x1000'. Supported values are: '1024x1024'`, `Invalid value: '<n>x<n>'. Supported values are: '<n>x<n>'`},
		{`x509: certificate signed by unknown authority (sha256 9f86d081884c7d65)`, `x509: certificate signed by unknown authority (sha256 <hex>)`},
		{`request req_3a248f06117048cc6a60414f658ffc4a to v1 failed`, `request req_<hex> to v1 failed`},
		{"mail ops@example.com\n\tnow", `mail <email> now`},
		{"", ""},
	} {
		if got := MessageTemplate(tc.in); got != tc.want {
			t.Errorf("MessageTemplate(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestMessageTemplateCuts(t *testing.T) {
	got := MessageTemplate(strings.Repeat("word ", 100))
	if n := utf8.RuneCountInString(got); n != maxTemplateRunes || !strings.HasSuffix(got, "…") {
		t.Errorf("long message: %d runes ending %q, want %d ending in an ellipsis", n, got[len(got)-5:], maxTemplateRunes)
	}
}

func TestBodyMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"error":{"message":"Rate limit reached","type":"requests"}}`, "Rate limit reached"},
		{`{"detail":[{"type":"missing","loc":["body","prompt"],"msg":"Field required"}]}`, "Field required"},
		{`{"title":"Unauthenticated","detail":"Invalid token.","status":401}`, "Invalid token."},
		{`{"error":"CUDA out of memory"}`, "CUDA out of memory"},
		{`{"id":"x","status":"failed","error":null,"logs":""}`, "failed"},
		{"<html>\r\n<head><title>502 Bad Gateway</title></head><body></body></html>", "502 Bad Gateway"},
		{"<html><body><h1>Access &amp; denied</h1></body></html>", "Access & denied"},
		{"500 Internal Server Error\n\nServer got itself in trouble", "500 Internal Server Error\n\nServer got itself in trouble"},
		{"  ", ""},
		{`{"unrelated":1}`, `{"unrelated":1}`},
	} {
		if got := BodyMessage(tc.in); got != tc.want {
			t.Errorf("BodyMessage(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEndpointKey(t *testing.T) {
	for _, tc := range []struct {
		domain, path string
		hasDomain    bool
		hasPath      bool
		want         string
	}{
		{"api.replicate.com", "/v1/predictions/3qmk4lu5bdrg80cjdxbrxnx6vm", true, true, "api.replicate.com/v1/predictions/{id}"},
		{"api.replicate.com", "/v1/predictions/3qmk4lu5bdrg80cjdxbrxnx6vm/cancel", true, true, "api.replicate.com/v1/predictions/{id}/cancel"},
		{"comfy.internal", "/history/9b2c54c4-61a6-4b6e-9d61-8f0b1c4f8a11", true, true, "comfy.internal/history/{uuid}"},
		{"api.stability.ai", "/v1/generation/stable-diffusion-xl-1024-v1-0/text-to-image", true, true, "api.stability.ai/v1/generation/stable-diffusion-xl-1024-v1-0/text-to-image"},
		{"h", "/jobs/12345", true, true, "h/jobs/{n}"},
		{"", "/sdapi/v1/txt2img", false, true, "/sdapi/v1/txt2img"},
		{"", "", false, false, None},
		{strings.Repeat("a", keywordLimit+1), "/x", true, true, "/x"},
	} {
		if got := endpointKey(tc.domain, tc.path, tc.hasDomain, tc.hasPath); got != tc.want {
			t.Errorf("endpointKey(%q, %q) = %q, want %q", cut(tc.domain, 20), tc.path, got, tc.want)
		}
	}
}

func TestSuggestContains(t *testing.T) {
	for in, want := range map[string]string{
		"TypeError: Cannot read properties of undefined (reading 'url')": "typeerror: cannot read properties of undefined (reading 'url')",
		"HTTP 418: I'm a teapot <n>":                                     "i'm a teapot",
		"<n> <host>":                                                     "",
	} {
		if got := suggestContains(in); got != want {
			t.Errorf("suggestContains(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzMessageTemplate(f *testing.F) {
	for _, s := range []string{`Post "https://a.b/c": EOF`, "10.0.0.1:80", "[MASKED:…abcd]", "<html><title>x</title>", "1024x1024"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := MessageTemplate(s)
		if utf8.RuneCountInString(got) > maxTemplateRunes {
			t.Errorf("template of %q has %d runes", s, utf8.RuneCountInString(got))
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("template of valid %q is not valid UTF-8: %q", s, got)
		}
		BodyMessage(s)
	})
}
