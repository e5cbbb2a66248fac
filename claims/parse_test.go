package claims_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		check   func(t *testing.T, c *claims.Claims)
	}{
		{"registered claims", auth0Payload, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, "https://tenant.eu.auth0.com/", c.Issuer)
			assert.Equal(t, "auth0|5f7c8ec7c33c6c004bbafe82", c.Subject)
			assert.Equal(t, []string{"https://api.example.com", "https://tenant.eu.auth0.com/userinfo"}, c.Audience)
			assert.Equal(t, time.Unix(1764097845, 0).UTC(), c.IssuedAt)
			assert.Equal(t, time.Unix(1764184245, 0).UTC(), c.ExpiresAt)
			assert.True(t, c.NotBefore.IsZero(), "absent nbf is the zero time")
			assert.Equal(t, "nH3Vx1aAbCdEfGhIjKlMnOpQrStUvWx", c.AuthorizedParty)
			assert.Equal(t, []string{"openid", "profile", "read:contacts", "write:contacts"}, c.Scopes)
			assert.Equal(t, []string{"read:contacts", "write:contacts", "admin:all"}, c.Permissions)
			assert.Equal(t, "org_a1b2c3", c.OrgID)
		}},
		{"RFC 9068 claims", `{"client_id":"c1","jti":"j1","nbf":5,"org_name":"acme","gty":"client-credentials"}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, "c1", c.ClientID)
			assert.Equal(t, "j1", c.ID)
			assert.Equal(t, time.Unix(5, 0).UTC(), c.NotBefore)
			assert.Equal(t, "acme", c.OrgName)
			assert.Equal(t, "client-credentials", c.GrantType)
		}},
		{"aud as a string", `{"aud":"https://api.example.com"}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, []string{"https://api.example.com"}, c.Audience)
		}},
		{"aud as an array of one", `{"aud":["a"]}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, []string{"a"}, c.Audience)
		}},
		{"aud as an empty array", `{"aud":[]}`, func(t *testing.T, c *claims.Claims) {
			assert.Empty(t, c.Audience)
			assert.False(t, c.HasAudience(""))
		}},
		{"aud absent", `{}`, func(t *testing.T, c *claims.Claims) {
			assert.Empty(t, c.Audience)
		}},
		{"scope split on single spaces", `{"scope":"a b:c  d "}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, []string{"a", "b:c", "d"}, c.Scopes, "runs of spaces tolerated, no empty scopes")
		}},
		{"scope: only spaces separate", "{\"scope\":\"a\\tb\"}", func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, []string{"a\tb"}, c.Scopes, "a tab is not a separator (RFC 6749 section 3.3)")
		}},
		{"empty scope", `{"scope":""}`, func(t *testing.T, c *claims.Claims) {
			assert.Empty(t, c.Scopes)
		}},
		{"empty permissions", `{"permissions":[]}`, func(t *testing.T, c *claims.Claims) {
			assert.Empty(t, c.Permissions)
		}},
		{"fractional NumericDate (RFC 7519 section 2 allows it)", `{"exp":1764184245.25,"iat":0.5}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, time.Unix(1764184245, 250_000_000).UTC(), c.ExpiresAt)
			assert.Equal(t, time.Unix(0, 500_000_000).UTC(), c.IssuedAt)
		}},
		{"exponent NumericDate", `{"exp":1.7641842450E9}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, time.Unix(1764184245, 0).UTC(), c.ExpiresAt)
		}},
		{"NumericDate zero is the epoch, not absent", `{"exp":0}`, func(t *testing.T, c *claims.Claims) {
			assert.False(t, c.ExpiresAt.IsZero())
			assert.Equal(t, time.Unix(0, 0).UTC(), c.ExpiresAt)
		}},
		{"negative zero is zero", `{"exp":-0}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, time.Unix(0, 0).UTC(), c.ExpiresAt)
		}},
		{"largest NumericDate: 9999-12-31T23:59:59Z", `{"exp":253402300799}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, 9999, c.ExpiresAt.Year())
		}},
		{"escapes in values", `{"sub":"a\"b\u00e9\ud83d\ude00"}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, "a\"bé😀", c.Subject)
		}},
		{"escaped custom name", `{"https:\/\/example.com\/x":1}`, func(t *testing.T, c *claims.Claims) {
			raw, ok := c.Raw("https://example.com/x")
			require.True(t, ok)
			assert.Equal(t, "1", string(raw))
		}},
		{"whitespace around the object", " \t\r\n{\"sub\":\"s\"}\n ", func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, "s", c.Subject)
		}},
		{"same name in nested objects is no duplicate", `{"a":{"x":1},"b":{"x":2}}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, []string{"a", "b"}, c.CustomNames())
		}},
		{"cnf.jkt (RFC 9449 section 6.1)", `{"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", c.Confirmation.JKT)
			assert.True(t, c.Confirmation.Present)
			assert.Empty(t, c.CustomNames(), "cnf is registered, not custom")
		}},
		{"cnf with another confirmation method beside jkt", `{"cnf":{"x5t#S256":"abc","jkt":"k","jwk":{"kty":"EC"}}}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, "k", c.Confirmation.JKT)
		}},
		{"cnf without jkt (mutual TLS) is still a binding", `{"cnf":{"x5t#S256":"abc"}}`, func(t *testing.T, c *claims.Claims) {
			assert.Empty(t, c.Confirmation.JKT)
			assert.True(t, c.Confirmation.Present)
		}},
		{"empty cnf is still a binding", `{"cnf":{}}`, func(t *testing.T, c *claims.Claims) {
			assert.True(t, c.Confirmation.Present)
		}},
		{"escaped jkt value", `{"cnf":{"jkt":"a\u002db"}}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, "a-b", c.Confirmation.JKT)
		}},
		{"no cnf", `{}`, func(t *testing.T, c *claims.Claims) {
			assert.Empty(t, c.Confirmation.JKT)
			assert.False(t, c.Confirmation.Present)
		}},
		{"custom claim whose name contains a registered one", `{"https://example.com/exp":"x","expires":1}`, func(t *testing.T, c *claims.Claims) {
			assert.Equal(t, []string{"expires", "https://example.com/exp"}, c.CustomNames())
			assert.True(t, c.ExpiresAt.IsZero())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := claims.Parse([]byte(tt.payload))
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

// TestParseRefuses lists every refusal of Parse. reason is the exact,
// input-free reason after "claims: invalid claims set: ".
func TestParseRefuses(t *testing.T) {
	const (
		notObject   = "not a JSON object"
		duplicate   = "duplicate member name"
		caseVariant = "a member name is a letter-case variant of a registered claim"
		badUTF8     = "invalid UTF-8"
		syntax      = "malformed JSON"
		wrongType   = "a registered claim has the wrong type"
		dateType    = "a numeric date is not a JSON number"
		dateRange   = "a numeric date is out of range"
		audType     = "aud is neither a string nor an array of strings"
		cnfType     = "cnf is not a JSON object, or its jkt is not a non-empty string"
	)
	tests := []struct {
		name    string
		payload string
		reason  string
	}{
		// Not a JSON object.
		{"array", `[{"sub":"s"}]`, notObject},
		{"string", `"sub"`, notObject},
		{"number", `1764184245`, notObject},
		{"null", `null`, notObject},
		{"true", `true`, notObject},
		{"empty input", ``, syntax},
		{"only whitespace", "  \n", syntax},
		{"truncated object", `{"sub":"s"`, syntax},
		{"trailing comma", `{"sub":"s",}`, syntax},
		{"single quotes", `{'sub':'s'}`, syntax},
		{"trailing garbage", `{"sub":"s"}x`, syntax},
		{"two objects", `{"sub":"s"}{"sub":"t"}`, syntax},
		{"NaN", `{"exp":NaN}`, syntax},
		{"leading zero number", `{"exp":01}`, syntax},
		{"UTF-8 BOM", "\ufeff{}", syntax},
		{"comment", `{"sub":"s" /* c */}`, syntax},
		{"deep nesting", `{"x":` + strings.Repeat("[", 10_001) + strings.Repeat("]", 10_001) + `}`, syntax},

		// Duplicate names, at any depth and in any spelling.
		{"duplicate iss", `{"iss":"https://good/","iss":"https://evil/"}`, duplicate},
		{"duplicate aud", `{"aud":"a","aud":"b"}`, duplicate},
		{"duplicate exp", `{"exp":1,"exp":9999999999}`, duplicate},
		{"duplicate custom", `{"x":1,"x":1}`, duplicate},
		{"duplicate nested", `{"x":{"role":"user","role":"admin"}}`, duplicate},
		{"duplicate in array element", `{"x":[{"a":1,"a":2}]}`, duplicate},
		{"duplicate through an escape", `{"iss":"a","\u0069ss":"b"}`, duplicate},

		// Letter-case variants of registered names.
		{"EXP alone", `{"EXP":9999999999}`, caseVariant},
		{"Exp beside exp", `{"exp":1,"Exp":9999999999}`, caseVariant},
		{"ISS", `{"ISS":"https://good/"}`, caseVariant},
		{"Aud", `{"Aud":"a"}`, caseVariant},
		{"SCOPE", `{"SCOPE":"admin"}`, caseVariant},
		{"Client_ID", `{"Client_ID":"c"}`, caseVariant},
		{"PERMISSIONS", `{"PERMISSIONS":["admin"]}`, caseVariant},
		{"long s folds to s (sub)", `{"ſub":"x"}`, caseVariant},
		{"escaped long s (scope)", `{"\u017fcope":"admin"}`, caseVariant},

		// Invalid UTF-8 and lone surrogates.
		{"invalid byte in value", "{\"sub\":\"\xff\"}", badUTF8},
		{"invalid byte in name", "{\"\xc3\x28\":1}", badUTF8},
		{"overlong encoding", "{\"sub\":\"\xc0\xaf\"}", badUTF8},
		{"encoded surrogate", "{\"sub\":\"\xed\xa0\x80\"}", badUTF8},
		{"lone high surrogate", `{"sub":"\ud800"}`, badUTF8},
		{"lone low surrogate", `{"sub":"\udfff"}`, badUTF8},
		{"reversed pair", `{"x":"\udc00\ud800"}`, badUTF8},
		{"lone surrogate in name", `{"\ud800":1}`, badUTF8},

		// Registered claims of the wrong type.
		{"iss array", `{"iss":["https://good/"]}`, wrongType},
		{"iss number", `{"iss":1}`, wrongType},
		{"iss null", `{"iss":null}`, wrongType},
		{"sub object", `{"sub":{}}`, wrongType},
		{"jti number", `{"jti":1}`, wrongType},
		{"azp bool", `{"azp":true}`, wrongType},
		{"client_id array", `{"client_id":["c"]}`, wrongType},
		{"scope array", `{"scope":["read","write"]}`, wrongType},
		{"scope null", `{"scope":null}`, wrongType},
		{"permissions string", `{"permissions":"admin"}`, wrongType},
		{"permissions of numbers", `{"permissions":[1]}`, wrongType},
		{"permissions null", `{"permissions":null}`, wrongType},
		{"org_id number", `{"org_id":1}`, wrongType},
		{"org_name array", `{"org_name":[]}`, wrongType},
		{"gty number", `{"gty":1}`, wrongType},
		{"aud number", `{"aud":1}`, audType},
		{"aud object", `{"aud":{"a":1}}`, audType},
		{"aud null", `{"aud":null}`, audType},
		{"aud with a null", `{"aud":["a",null]}`, audType},
		{"aud with a number", `{"aud":["a",1]}`, audType},
		{"aud nested array", `{"aud":[["a"]]}`, audType},

		// cnf: an object whose jkt is a non-empty string, so that a bound
		// token never passes for an unbound one.
		{"cnf string", `{"cnf":"k"}`, cnfType},
		{"cnf null", `{"cnf":null}`, cnfType},
		{"cnf array", `{"cnf":[{"jkt":"k"}]}`, cnfType},
		{"jkt empty", `{"cnf":{"jkt":""}}`, cnfType},
		{"jkt null", `{"cnf":{"jkt":null}}`, cnfType},
		{"jkt number", `{"cnf":{"jkt":1}}`, cnfType},
		{"jkt object", `{"cnf":{"jkt":{"k":1}}}`, cnfType},
		{"duplicate jkt", `{"cnf":{"jkt":"a","jkt":"b"}}`, duplicate},
		{"duplicate cnf", `{"cnf":{"jkt":"a"},"cnf":{}}`, duplicate},
		{"JKT", `{"cnf":{"JKT":"k"}}`, caseVariant},
		{"Jkt beside jkt", `{"cnf":{"jkt":"a","Jkt":"b"}}`, caseVariant},
		{"escaped jkt name", `{"cnf":{"\u006akt":"k"}}`, caseVariant},
		{"CNF", `{"CNF":{"jkt":"k"}}`, caseVariant},
		{"cnf invalid UTF-8", "{\"cnf\":{\"x\":\"\xff\"}}", badUTF8},

		// NumericDate: a JSON number from 0 to 9999-12-31T23:59:59Z.
		{"exp as a string", `{"exp":"1764184245"}`, dateType},
		{"nbf as a string", `{"nbf":"0"}`, dateType},
		{"iat as a date string", `{"iat":"2026-01-01T00:00:00Z"}`, dateType},
		{"exp null", `{"exp":null}`, dateType},
		{"exp bool", `{"exp":true}`, dateType},
		{"exp array", `{"exp":[1]}`, dateType},
		{"exp object", `{"exp":{"$date":1}}`, dateType},
		{"exp negative", `{"exp":-1}`, dateRange},
		{"exp tiny negative", `{"exp":-0.5}`, dateRange},
		{"exp 1e300", `{"exp":1e300}`, dateRange},
		{"exp beyond float64", `{"exp":1e400}`, dateRange},
		{"exp past int64", `{"exp":9223372036854775808}`, dateRange},
		{"exp year 10000", `{"exp":253402300800}`, dateRange},
		{"exp just past the maximum", `{"exp":253402300799.5}`, dateRange},
		{"nbf 1e300", `{"nbf":1e300}`, dateRange},
		{"iat negative", `{"iat":-1764184245}`, dateRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := claims.Parse([]byte(tt.payload))
			require.Error(t, err)
			assert.Nil(t, c)
			require.ErrorIs(t, err, claims.ErrInvalid)
			assert.NotErrorIs(t, err, claims.ErrMissing)
			assert.NotErrorIs(t, err, claims.ErrType)
			assert.EqualError(t, err, "claims: invalid claims set: "+tt.reason)
		})
	}
}

// TestParseErrorsDoNotQuoteInput: Parse's errors end up in logs and in
// WWW-Authenticate headers; they must never carry attacker-chosen text.
func TestParseErrorsDoNotQuoteInput(t *testing.T) {
	const marker = "SECRET-MARKER-7f3a"
	for _, payload := range []string{
		`{"` + marker + `":1,"` + marker + `":2}`,
		`{"iss":"` + marker + `","iss":"x"}`,
		`{"iss":["` + marker + `"]}`,
		`{"exp":"` + marker + `"}`,
		`{"` + marker + `":"` + "\xff" + `"}`,
		`{"aud":[1,"` + marker + `"]}`,
		`{"sub":"` + marker + `"} trailing ` + marker,
		`["` + marker + `"]`,
		`"` + marker + `"`,
		`{"` + marker,
	} {
		_, err := claims.Parse([]byte(payload))
		require.ErrorIs(t, err, claims.ErrInvalid)
		assert.NotContains(t, err.Error(), marker)
		assert.NotContains(t, err.Error(), "7f3a")
	}
}

// TestParseKeepsCustomClaimsIntact checks that the custom claims of one
// Parse call are not overwritten by a later one (Parse reuses decoders).
func TestParseKeepsCustomClaimsIntact(t *testing.T) {
	first := mustParse(t, `{"x":"first-value","y":[1,2,3]}`)
	for range 100 {
		mustParse(t, `{"x":"other-value-that-is-longer","y":[4,5,6,7,8,9]}`)
	}
	raw, ok := first.Raw("x")
	require.True(t, ok)
	assert.Equal(t, `"first-value"`, string(raw))
	raw, _ = first.Raw("y")
	assert.Equal(t, `[1,2,3]`, string(raw))
}

func TestParseConcurrent(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				v := strings.Repeat(string(rune('a'+g)), 1+i%17)
				c, err := claims.Parse([]byte(`{"sub":"` + v + `","x":"` + v + `"}`))
				if !assert.NoError(t, err) {
					return
				}
				raw, _ := c.Raw("x")
				assert.Equal(t, `"`+v+`"`, string(raw))
				assert.Equal(t, v, c.Subject)
			}
		}()
	}
	for range 4 {
		<-done
	}
}
