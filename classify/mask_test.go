package classify

import (
	"strings"
	"testing"

	"github.com/sdtriage/sdtriage/internal/cpuclock"
)

// Fake credentials in the shapes providers issue. Each ends differently so
// that a test sees which one a fingerprint came from.
const (
	openaiKey    = "sk-proj-Xq7LmN2pR8sT4vW6yZ1aB3cD5eF7gH9jK0lM2nP4qR6sOAI1"
	stabilityKey = "sk-Q2w3E4r5T6y7U8i9O0p1A2s3D4f5G6h7J8k9L0z1X2c3V4bSTAB"
	anthropicKey = "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-ANTH"
	replicateKey = "r8_Kd83hS0dLq92mXz7Cv4Bn6Mq1Wp5Er9Ty2REPL"
	hfKey        = "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123HUGG"
	jwtToken     = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsJWT9"
	googleKey    = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkGOOG1"
	basicCred    = "dXNlcjpwYXNzd29yZA==" // user:password, ends in "==", so hashed
)

func TestMaskString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Nothing to mask: the text comes back unchanged.
		{"plain error", `Post "https://api.stability.ai/v2beta/stable-image/generate/core": dial tcp: lookup api.stability.ai: no such host`, ""},
		{"ordinary words", "task-queue desk-top risk-based sk-learn hf_hub_download r8_x basic authentication Bearer token is missing AIzawhat", ""},
		{"google key in text", "API key not valid: " + googleKey + ".", "API key not valid: [MASKED:…OOG1]."},
		{"prose token", "invalid token: expired; secret: not found; key: value", ""},
		{"key names are not keys", `{"api_key_id":"prod-eu-1","token_type":"bearer","max_tokens":64}`, ""},
		{"provider already redacted", "Incorrect API key provided: sk-proj-****************************************abcd.", ""},
		{"json non-string", `{"password": null, "token": 12345, "secret": true}`, ""},
		{"placeholder", `Authorization: Bearer undefined`, ""},
		{"docs placeholder", "(i.e. Authorization: Bearer YOUR_KEY), or api_key=$OPENAI_API_KEY or {'x-api-key': '<your key>'}", ""},
		{"python kwarg", "Token is required (`token=True`), but no token found", ""},
		{"authorization prose", `{"errors":["authorization: missing required header"]}`, ""},
		{"go validator", "Key: 'GenerateRequest.Prompt' Error:Field validation for 'Prompt' failed on the 'required' tag", ""},
		{"url without secret", "https://api.replicate.com/v1/predictions?page=2&cursor=cD0yMDI0", ""},
		{"go lookup", "Get \"http://127.0.0.1:7860/sdapi/v1/txt2img\": dial tcp 127.0.0.1:7860: connect: connection refused", ""},

		// Error texts.
		{"openai key in error", "Incorrect API key provided: " + openaiKey + ". You can find your API key at https://platform.openai.com/account/api-keys.",
			"Incorrect API key provided: [MASKED:…OAI1]. You can find your API key at https://platform.openai.com/account/api-keys."},
		{"stability key in error", "stability: request with key " + stabilityKey + " failed",
			"stability: request with key [MASKED:…STAB] failed"},
		{"anthropic key", "key=" + anthropicKey, "key=[MASKED:…ANTH]"},
		{"replicate token scheme", "Authorization: Token " + replicateKey, "Authorization: Token [MASKED:…REPL]"},
		{"hf token in error", "401 Client Error for hf token " + hfKey + ": Unauthorized", "401 Client Error for hf token [MASKED:…HUGG]: Unauthorized"},
		{"bare bearer", "request failed (Bearer " + jwtToken + ")", "request failed (Bearer [MASKED:…JWT9])"},
		{"bare bearer short", "sent bearer abcdef123", "sent bearer [MASKED:#9f4c12]"},
		{"bare basic", "proxy said Basic " + basicCred + " is wrong", "proxy said Basic [MASKED:#bdfeae] is wrong"},
		{"jwt alone", "token expired: " + jwtToken, "token expired: [MASKED:…JWT9]"},
		{"weak key credential-shaped", "invalid token: abc123def456ghi", "invalid token: [MASKED:#5e4c40]"},
		{"weak key quoted credential", "password: 'hunter22x'", "password: '[MASKED:#13fd41]'"},
		{"authorization raw hex key", "Authorization: 68485ab05e73af51b9fa799c1e7f1c75", "Authorization: [MASKED:…1c75]"},

		// Header dumps.
		{"authorization header", "Authorization: Bearer " + openaiKey + "\r\nContent-Type: application/json",
			"Authorization: Bearer [MASKED:…OAI1]\r\nContent-Type: application/json"},
		{"authorization any case", "AUTHORIZATION:bearer short1", "AUTHORIZATION:bearer [MASKED:#5a964c]"},
		{"authorization no scheme", "authorization: " + stabilityKey, "authorization: [MASKED:…STAB]"},
		{"x-api-key header", "x-api-key: abc\nAccept: image/png", "x-api-key: [MASKED:#ba7816]\nAccept: image/png"},
		{"proxy-authorization basic", "Proxy-Authorization: Basic " + basicCred, "Proxy-Authorization: Basic [MASKED:#bdfeae]"},
		{"cookie line", "Cookie: session=abc; csrftoken=def\nHost: x", "Cookie: [MASKED:#431c37]\nHost: x"},
		{"go header map", "map[Authorization:[Bearer " + openaiKey + "] Content-Type:[application/json]]",
			"map[Authorization:[Bearer [MASKED:…OAI1]] Content-Type:[application/json]]"},

		// JSON bodies, plain and escaped inside a JSON string.
		{"json api_key", `{"api_key":"abc123","prompt":"a cat"}`, `{"api_key":"[MASKED:#6ca13d]","prompt":"a cat"}`},
		{"json password spaced", `{"user": "bob", "password" : "p@ss \"w\" rd"}`, `{"user": "bob", "password" : "[MASKED:#29dc5f]"}`},
		{"json apiKey", `{"apiKey": "` + hfKey + `"}`, `{"apiKey": "[MASKED:…HUGG]"}`},
		{"json client_secret", `{"client_secret":"s3cr3t-value-1234567"}`, `{"client_secret":"[MASKED:…4567]"}`},
		{"json authorization", `{"headers":{"Authorization":"Bearer ` + openaiKey + `"}}`, `{"headers":{"Authorization":"Bearer [MASKED:…OAI1]"}}`},
		{"escaped json", `{"body":"{\"token\":\"abc\",\"n\":1}"}`, `{"body":"{\"token\":\"[MASKED:#ba7816]\",\"n\":1}"}`},
		{"truncated json value", `{"secret":"abcdef`, `{"secret":"[MASKED:#bef57e]`},
		{"escaped quote in escaped json", `{\"password\":\"p\\\"w\"}`, `{\"password\":\"[MASKED:#56389f]\"}`},
		{"json in a message in a json string", `{"body":"{\"message\":\"{\\\"apiKey\\\":\\\"abc123\\\"}\"}"}`,
			`{"body":"{\"message\":\"{\\\"apiKey\\\":\\\"[MASKED:#6ca13d]\\\"}\"}"}`},
		{"escaped three times", `\\\\\\\"token\\\\\\\": \\\\\\\"abc\\\\\\\\\\\\\\\"x\\\\\\\"`,
			`\\\\\\\"token\\\\\\\": \\\\\\\"[MASKED:#fc9037]\\\\\\\"`},
		{"escaped value ends with its string", `{"e":"{\"key\":\"abc"}`, `{"e":"{\"key\":\"[MASKED:#ba7816]"}`},
		{"python repr of escaped json", `'{\\"token\\": \\"abc\\"}'`, `'{\\"token\\": \\"[MASKED:#ba7816]\\"}'`},

		// Python and JavaScript dict reprs.
		{"python dict", `{'Authorization': 'Bearer ` + openaiKey + `', 'x-api-key': 'k1'}`,
			`{'Authorization': 'Bearer [MASKED:…OAI1]', 'x-api-key': '[MASKED:#6ab9f1]'}`},
		{"js object", `{ headers: { Authorization: "Basic ` + basicCred + `" } }`, `{ headers: { Authorization: "Basic [MASKED:#bdfeae]" } }`},

		// URLs and query strings.
		{"query key", "https://generativelanguage.googleapis.com/v1/models?key=" + googleKey + "&alt=json",
			"https://generativelanguage.googleapis.com/v1/models?key=[MASKED:…OOG1]&alt=json"},
		{"query api_key and token", "/v1/x?api_key=abc&token=def&n=1", "/v1/x?api_key=[MASKED:#ba7816]&token=[MASKED:#cb8379]&n=1"},
		{"query access_token apikey", "?access_token=" + hfKey + "&apikey=zzz", "?access_token=[MASKED:…HUGG]&apikey=[MASKED:#17f165]"},
		{"query sig", "https://acct.blob.core.windows.net/c/i.png?sv=2024&sig=AbC%2Fdef%3D", "https://acct.blob.core.windows.net/c/i.png?sv=2024&sig=[MASKED:#414619]"},
		{"json-escaped ampersand", `"url":"https://x/y?key=abc\u0026n=1"`, `"url":"https://x/y?key=[MASKED:#ba7816]\u0026n=1"`},
		{"url userinfo", "proxyconnect tcp: dial http://alice:Pa55word@proxy.corp:3128", "proxyconnect tcp: dial http://alice:[MASKED:#39f48f]@proxy.corp:3128"},
		{"env dump", "STABILITY_API_KEY=" + stabilityKey + " REPLICATE_API_TOKEN=" + replicateKey,
			"STABILITY_API_KEY=[MASKED:…STAB] REPLICATE_API_TOKEN=[MASKED:…REPL]"},

		// Several secrets in one text.
		{"several", replicateKey + " " + hfKey + " " + stabilityKey, "[MASKED:…REPL] [MASKED:…HUGG] [MASKED:…STAB]"},

		// A value left alone whose text holds a secret keeps it masked on
		// a second pass (found by FuzzMask).
		{"unclosed value holding a pair", `KeY:\"ApiKeY:a`, `KeY:\"ApiKeY:[MASKED:#ca9781]`},
		{"word holding a url password", "token: http://uu:a;bcdefghijklmnop12@h", "token: http://uu:[MASKED:…op12]@h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = tt.in
			}
			got := MaskString(tt.in)
			if got != want {
				t.Errorf("MaskString(%q)\n got %q\nwant %q", tt.in, got, want)
			}
			if again := MaskString(got); again != got {
				t.Errorf("not idempotent: MaskString(%q) = %q", got, again)
			}
			if app := string(AppendMasked([]byte("pre:"), tt.in)); app != "pre:"+want {
				t.Errorf("AppendMasked = %q, want %q", app, "pre:"+want)
			}
		})
	}
}

// TestMaskEveryKindEveryPosition plants each kind of credential in each
// place where logs carry one; none may survive, and the rest of the text
// must.
func TestMaskEveryKindEveryPosition(t *testing.T) {
	// Keys recognisable by their shape alone, and keys only their place
	// gives away (a Basic credential, an Azure key of 32 hex digits).
	shaped := map[string]string{
		"openai": openaiKey, "stability": stabilityKey, "anthropic": anthropicKey, "replicate": replicateKey,
		"huggingface": hfKey, "jwt": jwtToken, "google": googleKey,
	}
	unshaped := map[string]string{"basic": basicCred, "azure hex": "68485ab05e73af51b9fa799c1e7f1c75"}
	freeText := map[string]string{
		"error text": "request failed with %s: 401 Unauthorized",
		"body json":  `{"error":{"message":"Incorrect API key provided: %s","code":"invalid_api_key"}}`,
	}
	named := map[string]string{
		"json field":       `{"prompt":"a cat","api_key":"%s"}`,
		"escaped json":     `{"body":"{\"token\":\"%s\"}"}`,
		"json in message":  `{"response_body":"{\"error\":{\"message\":\"config {\\\"apiKey\\\":\\\"%s\\\"}\"}}"}`,
		"url query":        "https://api.example.com/v1/generate?api_key=%s&steps=30",
		"header dump":      "POST /v1/x HTTP/1.1\r\nAuthorization: Bearer %s\r\nAccept: */*\r\n",
		"x-api-key header": "x-api-key: %s\nAccept: image/png",
		"python dict":      "headers={'Content-Type': 'application/json', 'Authorization': 'Bearer %s'}",
		"go header map":    "map[Authorization:[Bearer %s] Content-Type:[application/json]]",
		"env dump":         "OPENAI_API_KEY=%s HOME=/root",
		"url password":     "dial http://svc:%s@proxy.corp:3128: connect: connection refused",
	}
	check := func(kinds, positions map[string]string) {
		for kn, key := range kinds {
			for pn, pos := range positions {
				got := MaskString(strings.Replace(pos, "%s", key, 1))
				if strings.Contains(got, key) || !strings.Contains(got, maskPrefix) {
					t.Errorf("%s in %s: %q", kn, pn, got)
				}
				before, after, _ := strings.Cut(pos, "%s")
				if !strings.HasPrefix(got, before) || !strings.HasSuffix(got, after) {
					t.Errorf("%s in %s: the text around the key changed: %q", kn, pn, got)
				}
			}
		}
	}
	check(shaped, freeText)
	check(shaped, named)
	check(unshaped, named)
}

func TestMaskValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{openaiKey, "[MASKED:…OAI1]"},
		{"hunter2", "[MASKED:#f52fbd]"},
		{"abcdefghijklmno=", "[MASKED:#f2cfb6]"}, // long, but ends in a non-alphanumeric
		{"abcdefghijklmnop", "[MASKED:…mnop]"},   // exactly 16
		{"abcdefghijklmno", "[MASKED:#41c776]"},  // 15: hashed
		{"Bearer " + openaiKey, "Bearer [MASKED:…OAI1]"},
		{"Basic " + basicCred, "Basic [MASKED:#bdfeae]"},
		{"Bearer", "[MASKED:#710e0d]"}, // a scheme alone is a value
		{"", ""},
		{"null", "null"},
		{"undefined", "undefined"},
		{"[MASKED:…OAI1]", "[MASKED:…OAI1]"},
		{"Bearer [MASKED:…OAI1]", "Bearer [MASKED:…OAI1]"},
	}
	for _, tt := range tests {
		if got := MaskValue(tt.in); got != tt.want {
			t.Errorf("MaskValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsSecretKey(t *testing.T) {
	secret := []string{
		"api_key", "apiKey", "api-key", "x-api-key", "X-API-Key", "authorization", "Proxy-Authorization",
		"token", "access_token", "refresh_token", "hf_token", "REPLICATE_API_TOKEN", "secret", "client_secret",
		"password", "passwd", "pwd", "db_password", "cookie", "Set-Cookie", "key", "sig", "X-Amz-Signature",
		"aws_secret_access_key", "Ocp-Apim-Subscription-Key", "headers.Authorization", "credentials",
	}
	notSecret := []string{
		"", "api_key_id", "token_type", "max_tokens", "tokens", "keys", "monkey", "idempotency-key", "cache_key",
		"prompt", "status", "labels.api_key_id", "author", "password_policy", "secretary", "x-request-id",
	}
	for _, k := range secret {
		if !IsSecretKey(k) {
			t.Errorf("IsSecretKey(%q) = false, want true", k)
		}
	}
	for _, k := range notSecret {
		if IsSecretKey(k) {
			t.Errorf("IsSecretKey(%q) = true, want false", k)
		}
	}
}

// plantedSecrets are the credentials FuzzMask plants; none may survive.
var plantedSecrets = []string{openaiKey, stabilityKey, anthropicKey, replicateKey, hfKey, jwtToken, googleKey}

func FuzzMask(f *testing.F) {
	f.Add("Authorization: Bearer xyz", 0)
	f.Add(`{"api_key":"abc","password":"p"}`, 1)
	f.Add("https://u:p@h/?key=v&token=t", 2)
	f.Add("map[X-Api-Key:[k]]", 3)
	f.Add(`{\"secret\":\"s\"}`, 4)
	f.Add(`{"m":"{\\\"apiKey\\\":\\\"p\\\\\\\"w\\\"}"}`, 6)
	f.Add("task-desk-top sk- r8_ hf_ eyJ AIza", 5)
	f.Fuzz(func(t *testing.T, s string, n int) {
		for _, from := range []int{0, int(uint(n) % uint(len(s)+1))} {
			start, end := nextSecret(s, from)
			if ws, we := nextSecretBytewise(s, from); start != ws || end != we {
				t.Fatalf("nextSecret(%q, %d) = %d, %d; byte by byte %d, %d", s, from, start, end, ws, we)
			}
		}
		got := MaskString(s)
		if again := MaskString(got); again != got {
			t.Fatalf("not idempotent:\n in  %q\n 1st %q\n 2nd %q", s, got, again)
		}
		if app := AppendMasked(nil, s); string(app) != got {
			t.Fatalf("AppendMasked = %q, MaskString = %q", app, got)
		}
		// A planted key, separated from the fuzzed text by spaces, never survives.
		key := plantedSecrets[uint(n)%uint(len(plantedSecrets))]
		cut := 0
		if len(s) > 0 {
			cut = int(uint(n) % uint(len(s)+1))
		}
		planted := s[:cut] + " " + key + " " + s[cut:]
		if m := MaskString(planted); strings.Contains(m, key) {
			t.Fatalf("planted secret survived:\n in  %q\n out %q", planted, m)
		}
	})
}

// nextSecretBytewise is nextSecret as it was before it looked at byte
// pairs: every byte that may end a secret's recognisable start is examined
// by itself. nextSecret must agree with it on every input.
func nextSecretBytewise(s string, from int) (start, end int) {
	for i := from; i < len(s); i++ {
		var ok bool
		switch s[i] {
		case ':', '=':
			start, end, ok = keyValueSecret(s, i)
		case '-':
			if i >= 2 && s[i-2] == 's' && s[i-1] == 'k' {
				start, end, ok = prefixedKey(s, i-2, i+1)
			}
		case '_':
			if i >= 2 && (s[i-2] == 'r' && s[i-1] == '8' || s[i-2] == 'h' && s[i-1] == 'f') {
				start, end, ok = prefixedKey(s, i-2, i+1)
			}
		case 'b', 'B':
			if len(s)-i > 6 && lowerIs(s[i:i+6], "bearer") {
				start, end, ok = schemeToken(s, i, i+6)
			} else if len(s)-i > 5 && lowerIs(s[i:i+5], "basic") {
				start, end, ok = schemeToken(s, i, i+5)
			}
		case 'J':
			if i >= 2 && s[i-2] == 'e' && s[i-1] == 'y' {
				start, end, ok = jwt(s, i-2)
			}
		case 'z':
			if i >= 2 && s[i-2] == 'A' && s[i-1] == 'I' && i+1 < len(s) && s[i+1] == 'a' {
				start, end, ok = prefixedKey(s, i-2, i+2)
			}
		}
		if ok && start >= from {
			return start, end
		}
	}
	return -1, -1
}

// TestNextSecretPairs checks nextSecret against the byte-by-byte scan on
// texts with every kind of secret, near misses, and secrets at the very
// start and end, from every starting offset.
func TestNextSecretPairs(t *testing.T) {
	texts := []string{
		"",
		"b", "Be", "bearer", "Bearer abcdefghijklmnop1234", "xBASIC dXNlcjpwYXNzd29yZA==",
		"Authorization: Bearer " + openaiKey, "token=" + hfKey + "&x=1",
		"sk-" + openaiKey[3:], openaiKey, replicateKey + " " + hfKey, "task-desk-top sk- r8_ hf_ eyJ AIza",
		jwtToken, "x" + jwtToken, googleKey, "AIza", "AIzb" + googleKey[4:],
		"https://user:p4ssw0rd@example.com/path?key=" + googleKey,
		`{"api_key":"abc","password":"p"}`, `{\"secret\":\"s\"}`, "map[X-Api-Key:[k]]",
		"b926a89d-e6ef-4a24-9661-b23edfcad8d5", "https://api.replicate.com/v1/models/black-forest-labs/flux-schnell/predictions",
		typicalError, "basic", "ba", "bearer ", "Bearer  " + openaiKey[3:] + "x",
	}
	for _, s := range texts {
		for from := 0; from <= len(s)+1; from++ {
			start, end := nextSecret(s, from)
			if ws, we := nextSecretBytewise(s, from); start != ws || end != we {
				t.Errorf("nextSecret(%q, %d) = %d, %d; byte by byte %d, %d", s, from, start, end, ws, we)
			}
		}
	}
}

// typicalError is a 200-byte client error text without secrets.
const typicalError = `Post "https://api.stability.ai/v2beta/stable-image/generate/sd3": ` +
	`dial tcp 104.18.20.212:443: i/o timeout (Client.Timeout exceeded while awaiting headers); ` +
	`service=storefront-thumbnails attempt=2 request_id=9f1c2e7a`

func BenchmarkMaskString(b *testing.B) {
	cases := []struct{ name, s string }{
		{"no_secret_200B", typicalError},
		{"json_body_no_secret", `{"name":"bad_request","errors":["height: must be a multiple of 64","steps: must be <= 50"],"id":"a1b2c3d4e5f6"}`},
		{"one_secret", "Incorrect API key provided: " + openaiKey + ". You can find your API key at https://platform.openai.com/account/api-keys."},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.s)))
			start, n := cpuclock.Now(), 0
			for ; b.Loop(); n++ {
				MaskString(c.s)
			}
			cpuclock.Report(b, start, n)
		})
	}
}

func BenchmarkAppendMasked(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalError)))
	buf := make([]byte, 0, 1024)
	start, n := cpuclock.Now(), 0
	for ; b.Loop(); n++ {
		buf = AppendMasked(buf[:0], typicalError)
	}
	cpuclock.Report(b, start, n)
}
