package claims_test

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/go-json-experiment/json/jsontext"
)

// parseReasons are every reason Parse may give: a refusal outside this set
// could be quoting its input.
var parseReasons = []string{
	"not a JSON object",
	"duplicate member name",
	"a member name is a letter-case variant of a registered claim",
	"invalid UTF-8",
	"malformed JSON",
	"a registered claim has the wrong type",
	"a numeric date is not a JSON number",
	"a numeric date is out of range",
	"aud is neither a string nor an array of strings",
	"cnf is not a JSON object, or its jkt is not a non-empty string",
}

var registeredNames = []string{
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
	"azp", "client_id", "scope", "permissions", "org_id", "org_name", "gty", "cnf",
}

// FuzzParseClaims checks that Parse never panics, that every refusal is
// one of its fixed reasons, and that whatever it accepts is a strict
// (RFC 7493) JSON object whose registered claims another decoder
// (encoding/json) reads the same way, and survives a round trip.
func FuzzParseClaims(f *testing.F) {
	for _, s := range []string{
		auth0Payload,
		`{}`,
		`{"aud":"a","scope":"a  b","exp":1.5,"nbf":0,"iat":253402300799}`,
		`{"aud":["a","b"],"permissions":[],"client_id":"c","jti":"j"}`,
		`{"iss":"a","iss":"b"}`,
		`{"EXP":1}`,
		`{"\u0065xp":1}`,
		`{"exp":"1"}`,
		`{"exp":1e300}`,
		`{"x":"\ud800"}`,
		"{\"x\":\"\xff\"}",
		`{"x":{"a":1,"a":2}}`,
		`[[[[[[[[[[]]]]]]]]]]`,
		`null`,
		`{"a":1} {"b":2}`,
		`{"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I","x5t#S256":"x"}}`,
		`{"cnf":{"jkt":""}}`,
		`{"cnf":{"JKT":"k"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		input := slices.Clone(data)
		c, err := claims.Parse(data)
		if string(data) != string(input) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			if c != nil {
				t.Fatal("Claims and an error")
			}
			if !errorsIsInvalid(err) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			reason, ok := strings.CutPrefix(err.Error(), "claims: invalid claims set: ")
			if !ok || !slices.Contains(parseReasons, reason) {
				t.Fatalf("unexpected error text %q", err)
			}
			return
		}
		if !jsontext.Value(data).IsValid() || jsontext.Value(data).Kind() != '{' {
			t.Fatalf("accepted input that is not one strict JSON object: %q", data)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("encoding/json refuses what Parse accepted: %v", err)
		}
		checkAgainst(t, c, m)

		// Round trip: encode what Parse read and parse it again.
		again, err := claims.Parse(reencode(t, c))
		if err != nil {
			t.Fatalf("re-encoded claims refused: %v", err)
		}
		sameClaims(t, c, again)
	})
}

func errorsIsInvalid(err error) bool {
	for e := err; e != nil; {
		if e == claims.ErrInvalid {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// checkAgainst compares c with the members m that encoding/json read.
func checkAgainst(t *testing.T, c *claims.Claims, m map[string]json.RawMessage) {
	t.Helper()
	str := func(name, got string) {
		raw, ok := m[name]
		if !ok {
			if got != "" {
				t.Fatalf("%s: %q without the claim", name, got)
			}
			return
		}
		var want string
		if err := json.Unmarshal(raw, &want); err != nil || want != got {
			t.Fatalf("%s: Parse read %q, encoding/json %s", name, got, raw)
		}
	}
	str("iss", c.Issuer)
	str("sub", c.Subject)
	str("jti", c.ID)
	str("azp", c.AuthorizedParty)
	str("client_id", c.ClientID)
	str("org_id", c.OrgID)
	str("org_name", c.OrgName)
	str("gty", c.GrantType)

	if _, ok := m["cnf"]; ok != c.Confirmation.Present {
		t.Fatalf("cnf present %v, Confirmation.Present %v", ok, c.Confirmation.Present)
	}
	if raw, ok := m["cnf"]; ok {
		var cnf map[string]json.RawMessage
		if err := json.Unmarshal(raw, &cnf); err != nil || cnf == nil {
			t.Fatalf("cnf accepted as %s", raw)
		}
		if jraw, ok := cnf["jkt"]; ok {
			var jkt string
			if err := json.Unmarshal(jraw, &jkt); err != nil || jkt == "" || jkt != c.Confirmation.JKT {
				t.Fatalf("cnf.jkt: Parse read %q, encoding/json %s", c.Confirmation.JKT, jraw)
			}
		} else if c.Confirmation.JKT != "" {
			t.Fatalf("cnf.jkt %q without the member", c.Confirmation.JKT)
		}
		for name := range cnf {
			if name != "jkt" && strings.EqualFold(name, "jkt") {
				t.Fatalf("case variant %q of jkt accepted", name)
			}
		}
	} else if c.Confirmation.JKT != "" {
		t.Fatal("cnf.jkt without the claim")
	}

	if raw, ok := m["aud"]; ok {
		var one string
		var many []string
		switch {
		case json.Unmarshal(raw, &one) == nil:
			if !slices.Equal(c.Audience, []string{one}) {
				t.Fatalf("aud: %q vs %s", c.Audience, raw)
			}
		case json.Unmarshal(raw, &many) == nil && many != nil:
			if !slices.Equal(c.Audience, many) {
				t.Fatalf("aud: %q vs %s", c.Audience, raw)
			}
		default:
			t.Fatalf("aud accepted as %s", raw)
		}
	} else if len(c.Audience) != 0 {
		t.Fatal("aud without the claim")
	}
	if raw, ok := m["scope"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || !slices.Equal(c.Scopes, splitSpaces(s)) {
			t.Fatalf("scope: %q vs %s", c.Scopes, raw)
		}
	}
	for _, sc := range c.Scopes {
		if sc == "" || strings.Contains(sc, " ") {
			t.Fatalf("scope token %q", sc)
		}
	}
	for name, got := range map[string]time.Time{"exp": c.ExpiresAt, "nbf": c.NotBefore, "iat": c.IssuedAt} {
		raw, ok := m[name]
		if !ok {
			if !got.IsZero() {
				t.Fatalf("%s without the claim", name)
			}
			continue
		}
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%s accepted as %s", name, raw)
		}
		if f < 0 || f > 253402300799 || math.IsNaN(f) {
			t.Fatalf("%s out of range accepted: %s", name, raw)
		}
		secs := float64(got.Unix()) + float64(got.Nanosecond())/1e9
		if d := secs - f; math.Abs(d) > 1e-6*math.Max(1, f/1e9) {
			t.Fatalf("%s: %v vs %s", name, got, raw)
		}
	}
	// Custom claims are exactly the other members, none a case variant.
	var custom []string
	for name := range m {
		if !slices.Contains(registeredNames, name) {
			custom = append(custom, name)
		}
		for _, r := range registeredNames {
			if name != r && strings.EqualFold(name, r) {
				t.Fatalf("case variant %q accepted", name)
			}
		}
	}
	slices.Sort(custom)
	if !slices.Equal(custom, c.CustomNames()) {
		t.Fatalf("custom names %q, want %q", c.CustomNames(), custom)
	}
	for _, name := range custom {
		raw, _ := c.Raw(name)
		if !jsontext.Value(raw).IsValid() {
			t.Fatalf("custom claim %q is not valid JSON", name)
		}
	}
}

func splitSpaces(s string) []string {
	var out []string
	for _, tok := range strings.Split(s, " ") {
		if tok != "" {
			out = append(out, tok)
		}
	}
	return out
}

// reencode writes c back as a claims set.
func reencode(t *testing.T, c *claims.Claims) []byte {
	t.Helper()
	m := map[string]any{}
	for _, name := range c.CustomNames() {
		raw, _ := c.Raw(name)
		m[name] = json.RawMessage(raw)
	}
	set := func(name, v string) {
		if v != "" {
			m[name] = v
		}
	}
	set("iss", c.Issuer)
	set("sub", c.Subject)
	set("jti", c.ID)
	set("azp", c.AuthorizedParty)
	set("client_id", c.ClientID)
	set("org_id", c.OrgID)
	set("org_name", c.OrgName)
	set("gty", c.GrantType)
	set("scope", strings.Join(c.Scopes, " "))
	if c.Audience != nil {
		m["aud"] = c.Audience
	}
	if c.Permissions != nil {
		m["permissions"] = c.Permissions
	}
	if c.Confirmation.Present {
		cnf := map[string]string{}
		if c.Confirmation.JKT != "" {
			cnf["jkt"] = c.Confirmation.JKT
		}
		m["cnf"] = cnf
	}
	for name, d := range map[string]time.Time{"exp": c.ExpiresAt, "nbf": c.NotBefore, "iat": c.IssuedAt} {
		if !d.IsZero() {
			m[name] = json.Number(secondsText(d))
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("re-encoding: %v", err)
	}
	return b
}

// secondsText formats d as a JSON number of seconds since the epoch, with
// its nanoseconds as a decimal fraction.
func secondsText(d time.Time) string {
	text := strconv.FormatInt(d.Unix(), 10)
	if ns := d.Nanosecond(); ns != 0 {
		text += "." + strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
	}
	return text
}

func sameClaims(t *testing.T, a, b *claims.Claims) {
	t.Helper()
	switch {
	case a.Issuer != b.Issuer, a.Subject != b.Subject, a.ID != b.ID,
		a.AuthorizedParty != b.AuthorizedParty, a.ClientID != b.ClientID,
		a.OrgID != b.OrgID, a.OrgName != b.OrgName, a.GrantType != b.GrantType,
		a.Confirmation != b.Confirmation,
		!slices.Equal(a.Audience, b.Audience), !slices.Equal(a.Scopes, b.Scopes),
		!slices.Equal(a.Permissions, b.Permissions),
		!slices.Equal(a.CustomNames(), b.CustomNames()):
		t.Fatalf("round trip changed the claims:\n%+v\n%+v", a, b)
	}
	for _, p := range [][2]time.Time{{a.ExpiresAt, b.ExpiresAt}, {a.NotBefore, b.NotBefore}, {a.IssuedAt, b.IssuedAt}} {
		if d := p[0].Sub(p[1]); d > time.Microsecond || d < -time.Microsecond {
			t.Fatalf("round trip changed a date: %v vs %v", p[0], p[1])
		}
	}
}
