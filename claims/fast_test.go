package claims

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/racedetect"
)

// TestParseAllocations pins Parse's cost on an Auth0-shaped token: the
// Claims and one copy of the input, however many strings and custom
// claims it holds (ParseString: the Claims alone); a string or []string
// custom claim then reads without allocating beyond its result slice.
func TestParseAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	c, err := Parse(benchPayload)
	require.NoError(t, err)
	assert.Equal(t, 2.0, testing.AllocsPerRun(100, func() { _, _ = Parse(benchPayload) }))
	src := string(benchPayload)
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _, _ = ParseString(src) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = Get[string](c, "https://example.com/email") }))
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _, _ = Get[[]string](c, "https://example.com/roles") }))
}

// FuzzDecodeFast holds Get's fast paths to the general decoder: whatever
// they decode, json.Unmarshal decodes to the same value.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range []string{`"a"`, `""`, `"a\"b"`, `[]`, `[ ]`, `["a","b"]`, "[ \"a\" ,\n\"b\" ]", `["a",1]`, `[["a"]]`, `null`, `1`, `["a\u0062"]`, `["a",]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !jsontext.Value(raw).IsValid() || strings.TrimSpace(raw) != raw {
			return // Parse hands Get only valid JSON values, without surrounding space
		}
		if s, ok := decodeFast[string](raw); ok {
			var want string
			require.NoError(t, json.Unmarshal([]byte(raw), &want), raw)
			require.Equal(t, want, s, raw)
		}
		if s, ok := decodeFast[[]string](raw); ok {
			var want []string
			require.NoError(t, json.Unmarshal([]byte(raw), &want), raw)
			require.Equal(t, want, s, raw)
			require.NotNil(t, s, raw)
		}
	})
}

// Parsed and cloned claims share nothing a handler can write: slices are
// cut to their length, so an append copies, and a clone's elements are
// its own.
func TestSlicesShareNothingWritable(t *testing.T) {
	c, err := Parse(benchPayload)
	require.NoError(t, err)
	for _, s := range [][]string{c.Audience, c.Scopes, c.Permissions} {
		assert.Equal(t, len(s), cap(s))
	}
	scopes := slices.Clone(c.Scopes)
	_ = append(c.Audience, "x")
	assert.Equal(t, scopes, c.Scopes, "an append to Audience wrote into Scopes")

	d := c.Clone()
	d.Audience[0], d.Scopes[0], d.Permissions[0] = "x", "y", "z"
	assert.NotEqual(t, "x", c.Audience[0])
	assert.NotEqual(t, "y", c.Scopes[0])
	assert.NotEqual(t, "z", c.Permissions[0])
	e := d.Clone()
	assert.Equal(t, d.Audience, e.Audience)
	v, err := Get[string](e, "https://example.com/email")
	require.NoError(t, err)
	assert.Equal(t, "jane.doe@example.com", v)

	// More strings than the arrays hold spill to the heap, correctly.
	many := `{"aud":["a","b","c","d","e","f","g","h","i","j"],"scope":"s1 s2 s3 s4 s5 s6 s7 s8","permissions":["p1","p2"],"c1":1,"c2":2,"c3":3,"c4":4,"c5":5}`
	c, err = Parse([]byte(many))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, c.Audience)
	assert.Equal(t, []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"}, c.Scopes)
	assert.Equal(t, []string{"p1", "p2"}, c.Permissions)
	assert.Equal(t, []string{"c1", "c2", "c3", "c4", "c5"}, c.CustomNames())
	d = c.Clone()
	d.Scopes[7] = "x"
	assert.Equal(t, "s8", c.Scopes[7])
	assert.Equal(t, c.CustomNames(), d.CustomNames())
}

// FuzzParseFast holds Parse's fast path to the strict decoder: whatever it
// accepts, the strict decoder accepts and decodes to the same Claims.
func FuzzParseFast(f *testing.F) {
	for _, s := range []string{
		string(benchPayload),
		`{
	"iss": "https://tenant.eu.auth0.com/",
	"aud": ["https://api.example.com", "https://tenant.eu.auth0.com/userinfo"],
	"iat": 1764097845,
	"https://example.com/roles": ["admin", "editor"],
	"https://example.com/profile": {"team": "blue", "level": 3},
	"https://example.com/null": null
}`,
		`{}`, ` { } `, `{"aud":"a"}`, `{"aud":[]}`, `{"aud":["a" , "b"]}`, `{"scope":"  a b  "}`,
		`{"exp":0}`, `{"exp":01}`, `{"exp":1.5}`, `{"exp":1e3}`, `{"exp":-1}`, `{"exp":253402300800}`, `{"exp":1234567890123}`,
		`{"iss":"a","iss":"a"}`, `{"EXP":1}`, `{"Iss":"x"}`, `{"x":1,"x":2}`,
		`{"x":-0.5e+10}`, `{"x":-}`, `{"x":1.}`, `{"x":.5}`, `{"x":true}`, `{"x":nul}`, `{"x":truex}`, `{"x":[]}`, `{"x":["a",]}`,
		`{"x":{"a":1}}`, `{"x":[1]}`, `{"x":"\u00e9"}`, "{\"x\":\"caf\xc3\xa9\"}", "{\"x\":\"\xff\"}", "{\"x\":\"\xed\xa0\x80\"}",
		"{\"x\":\"a\x7fb\"}", "{\"x\":\"a\tb\"}", `{"x":1}x`, `{"x":1} {}`, `{"a":1,}`, `{,}`, `[]`, `"x"`,
		`{"permissions":["a","b"],"aud":["c"],"scope":"d e","c1":1,"c2":2,"c3":3,"c4":4,"c5":"5"}`,
		`{"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`, `{"cnf":{}}`, `{"cnf": { "jkt" : "a" } }`,
		`{"cnf":{"jkt":""}}`, `{"cnf":{"jkt":1}}`, `{"cnf":{"JKT":"a"}}`, `{"cnf":{"jkt":"a","x5t#S256":"b"}}`,
		`{"cnf":{"jkt":"a","jkt":"b"}}`, `{"cnf":"a"}`, `{"cnf":null}`, `{"cnf":{"jkt":"a"},"cnf":{}}`, `{"CNF":{"jkt":"a"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast := new(Claims)
		p := parser{src: string(data), room: fast.strBuf[:]}
		fast.custom = fast.customBuf[:0]
		if !p.fast(fast) {
			return
		}
		strict := new(Claims)
		q := parser{src: string(data), room: strict.strBuf[:]}
		strict.custom = strict.customBuf[:0]
		require.NoError(t, q.strict(strict), "the fast path took what the strict decoder refuses: %q", data)
		require.Equal(t, strict, fast, "%q", data)
	})
}

// TestFastPathConfirmation: a DPoP-bound token's cnf takes the fast path,
// and its binding is never lost; other shapes go to the strict decoder.
func TestFastPathConfirmation(t *testing.T) {
	for _, tc := range []struct {
		src  string
		fast bool
		want Confirmation
	}{
		{`{"sub":"a","cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`, true, Confirmation{JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", Present: true}},
		{`{"sub":"a","cnf":{}}`, true, Confirmation{Present: true}},
		{`{"sub":"a","cnf":{"x5t#S256":"b"}}`, false, Confirmation{Present: true}},
		{`{"sub":"a","cnf":{"jkt":"a","x5t#S256":"b"}}`, false, Confirmation{JKT: "a", Present: true}},
	} {
		c := new(Claims)
		p := parser{src: tc.src, room: c.strBuf[:]}
		c.custom = c.customBuf[:0]
		assert.Equal(t, tc.fast, p.fast(c), tc.src)
		got, err := Parse([]byte(tc.src))
		require.NoError(t, err, tc.src)
		assert.Equal(t, tc.want, got.Confirmation, tc.src)
		_, isCustom := got.Raw("cnf")
		assert.False(t, isCustom, tc.src)
	}
}

// TestFastPathDuplicates: the fast path gives up on a repeated member name
// wherever it comes, whether or not the name filter has seen a name like
// it, so that the strict decoder refuses it.
func TestFastPathDuplicates(t *testing.T) {
	members := [][2]string{{"iss", `"i"`}, {"sub", `"s"`}, {"jti", `"j"`}, {"azp", `"a"`}, {"gty", `"g"`},
		{"org_id", `"o"`}, {"scope", `"r w"`}, {"permissions", `["p"]`}, {"exp", "2"}, {"iat", "1"},
		{"https://example.com/roles", `["admin"]`}, {"https://example.com/rules", "1"}, {"a", "1"}, {"b", "1"},
		{"", "1"}, {"x1", "1"}, {"x2", "1"}, {"y1", "1"}, {"z", "null"}}
	var b strings.Builder
	b.WriteString("{")
	for i, m := range members {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", m[0], m[1])
	}
	all := b.String()
	c := new(Claims)
	p := parser{src: all + "}", room: c.strBuf[:]}
	c.custom = c.customBuf[:0]
	require.True(t, p.fast(c), "without a duplicate, the fast path takes it")
	for _, dup := range members {
		src := fmt.Sprintf("%s,%q:%s}", all, dup[0], dup[1])
		c := new(Claims)
		p := parser{src: src, room: c.strBuf[:]}
		c.custom = c.customBuf[:0]
		assert.False(t, p.fast(c), "duplicate %q", dup[0])
		_, err := Parse([]byte(src))
		assert.ErrorIs(t, err, ErrInvalid, "duplicate %q", dup[0])
	}
}

func TestMaxRegisteredLen(t *testing.T) {
	longest := 0
	for _, r := range registered {
		longest = max(longest, len(r))
	}
	if longest != maxRegisteredLen {
		t.Fatalf("maxRegisteredLen is %d, the longest registered name has %d bytes", maxRegisteredLen, longest)
	}
}

// ParseString decides as Parse, and its strings are cut from its input.
func TestParseStringSharesItsInput(t *testing.T) {
	src := string(benchPayload)
	c, err := ParseString(src)
	require.NoError(t, err)
	want, err := Parse(benchPayload)
	require.NoError(t, err)
	assert.Equal(t, want, c)
	assert.True(t, strings.Contains(src, c.Subject) && unsafe.StringData(c.Subject) == unsafe.StringData(src[strings.Index(src, c.Subject):]),
		"sub is a substring of the input")
	_, err = ParseString(`{"iss":"a","iss":"b"}`)
	assert.ErrorIs(t, err, ErrInvalid)
}
