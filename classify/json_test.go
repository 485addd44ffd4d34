package classify

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// scanObject runs the scanner over s, taking each top-level value whole.
func scanObject(s string, member func(key string, val gjson.Result)) bool {
	var p objectScanner
	p.reset(s)
	return p.document(func(key string) bool {
		v, ok := p.value(0)
		if ok {
			member(key, v)
		}
		return ok
	})
}

// scanMembers runs scanObject and renders the members as key=type:value.
func scanMembers(s string) (string, bool) {
	var out []string
	ok := scanObject(s, func(k string, v gjson.Result) {
		out = append(out, k+"="+v.Type.String()+":"+v.Str+v.Raw)
	})
	return strings.Join(out, " "), ok
}

func TestScanObject(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`{}`, "", true},
		{` { "a" : 1 , "b":"x\"y\u00e9\ud83d\ude00\ud800" ,"c":[1,{"d":null}],"e":true,"f":false,"g":null,"h":-1.5e+3} `,
			`a=Number:1 b=String:x"yé😀` + "\ufffd" + `"x\"y\u00e9\ud83d\ude00\ud800" c=JSON:[1,{"d":null}] e=True:true f=False:false g=Null:null h=Number:-1.5e+3`, true},
		{`{"k\u0041y":"v"}`, `kAy=String:v"v"`, true},
		{`{"a":"\ud800\u0041"}`, "a=String:\ufffdA" + `"\ud800\u0041"`, true},
		{`{"a":"\ud800\uzz41"}`, "", false},
		{`{"a":"x\`, "", false},
		{`[]`, "", false},
		{`{"a":1`, "a=Number:1", false},
		{`{"a":1,}`, "a=Number:1", false},
		{`{"a":01}`, "a=Number:0", false},
		{`{"a":1.}`, "", false},
		{`{"a":"\x"}`, "", false},
		{`{"a":"` + "\n" + `"}`, "", false},
		{`{"a":tru}`, "", false},
		{`{"a":[1 2]}`, "", false},
		{`{"a":{"b"}}`, "", false},
		{`{"a":1}}`, "a=Number:1", false},
		{`{"a":1} x`, "a=Number:1", false},
		{`{a:1}`, "", false},
		{strings.Repeat("[", maxDepth+2), "", false},
	}
	for _, tt := range tests {
		got, ok := scanMembers(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("scanObject(%q) = %q %t, want %q %t", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzScanObject checks the validator against encoding/json, and the
// members against gjson.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":"\u00e9"}],"c":-0.5e3}`, `{"a":"\ud800x"}`, `{"a":1 2}`, `[1]`, `{"a":"` + "\xff" + `"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var keys, vals []string
		ok := scanObject(s, func(k string, v gjson.Result) {
			keys = append(keys, k)
			vals = append(vals, v.String())
		})
		var obj map[string]json.RawMessage
		want := json.Valid([]byte(s)) && json.Unmarshal([]byte(s), &obj) == nil && obj != nil
		if ok != want {
			t.Fatalf("scanObject(%q) = %t, encoding/json says %t", s, ok, want)
		}
		if !ok {
			return
		}
		i := 0
		gjson.Parse(s).ForEach(func(k, v gjson.Result) bool {
			if i >= len(keys) || keys[i] != k.Str || vals[i] != v.String() {
				t.Fatalf("%q: member %d differs from gjson's %q=%q", s, i, k.Str, v.String())
			}
			i++
			return true
		})
		if i != len(keys) {
			t.Fatalf("%q: %d members, gjson %d", s, len(keys), i)
		}
	})
}

func TestParseNumber(t *testing.T) {
	check := func(raw string) {
		t.Helper()
		want, _ := strconv.ParseFloat(raw, 64)
		if got := parseNumber(raw); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseNumber(%s) = %v, want %v", raw, got, want)
		}
	}
	for _, raw := range []string{"0", "-0", "7", "-42", "1795169360960", "123456789012345", "1234567890123456",
		"1234567890123456789", "1.5", "-0.0", "0.1", "120.7", "8374.5", "0.000000000000001", "99999999999999.9",
		"9.99999999999999", "1.0000000000000001", "-2e3", "1.5E-3", "1E400"} {
		check(raw)
	}
	// Random decimals of up to 16 digits, with the point anywhere: the fast
	// path must round as strconv does.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		d := make([]byte, 1+rng.IntN(16))
		for i := range d {
			d[i] = byte('0' + rng.IntN(10))
		}
		raw := string(d)
		if p := rng.IntN(len(d) + 1); p > 0 && p < len(d) {
			raw = raw[:p] + "." + raw[p:]
		}
		if raw[0] == '0' && len(raw) > 1 && raw[1] != '.' {
			continue // not JSON
		}
		if rng.IntN(2) == 0 {
			raw = "-" + raw
		}
		check(raw)
	}
}

func TestHasStringSpecial(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			want := c < 0x20 || c == '"' || c == '\\'
			if got := hasStringSpecial(load64(string(b), 0)); got != want {
				t.Fatalf("byte %#x at %d: %t, want %t", c, pos, got, want)
			}
		}
	}
}
