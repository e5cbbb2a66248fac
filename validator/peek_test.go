package validator

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/apiguard/apiguard/claims"
)

var peekCases = []struct {
	payload string
	iss     string
	ok      bool
}{
	{`{"iss":"https://a/"}`, "https://a/", true},
	{` { "sub" : "x" , "iss" : "https://a/" } `, "https://a/", true},
	{`{"aud":["x","y"],"n":{"iss":"nested"},"s":"\"iss\":\"fake\"","iss":"real"}`, "real", true},
	{`{"a":[{"b":[1,{"iss":"deep"}]}],"iss":"top"}`, "top", true},
	{`{"iss":"a\u002fb"}`, "a/b", true},
	{`{"iss":"a\\"}`, `a\`, true},
	{`{"exp":1e10,"ok":true,"no":null,"iss":""}`, "", true},
	{`{"sub":"x"}`, "", false},
	{`{"iss":1}`, "", false},
	{`["iss","x"]`, "", false},
	{`{"iss"`, "", false},
	{`{"a":"unterminated`, "", false},
	{`{"a":[1,2}`, "", false},
	{``, "", false},
}

// TestPeekIssuerSkipsValues checks that values of every kind are skipped
// without being taken for members, besides TestPeekIssuer's cases.
func TestPeekIssuerSkipsValues(t *testing.T) {
	for _, tc := range peekCases {
		iss, ok := peekIssuer([]byte(tc.payload))
		assert.Equal(t, tc.ok, ok, tc.payload)
		assert.Equal(t, tc.iss, string(iss), tc.payload)
	}
}

// FuzzPeekIssuer holds peekIssuer to its promise: never a panic, and for
// every claims set that claims.Parse accepts, exactly the issuer Parse
// finds, so that the early issuer check never refuses a valid token.
func FuzzPeekIssuer(f *testing.F) {
	for _, tc := range peekCases {
		f.Add([]byte(tc.payload))
	}
	f.Add([]byte(`{"aud":["https://api"],"exp":1,"https://x/roles":["a"],"iat":1,"iss":"https://t/","sub":"u"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		iss, ok := peekIssuer(data)
		c, err := claims.Parse(data)
		if err != nil {
			return
		}
		if c.Issuer != "" && !ok {
			t.Fatalf("Parse found iss %q, peekIssuer none", c.Issuer)
		}
		if ok && string(iss) != c.Issuer {
			t.Fatalf("peekIssuer found %q, Parse %q", iss, c.Issuer)
		}
	})
}
