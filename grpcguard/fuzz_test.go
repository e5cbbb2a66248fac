package grpcguard

import (
	"strings"
	"testing"
)

// FuzzBearer: whatever the authorization values, bearer never panics,
// returns either a token or a refusal, and a token it returns is a
// non-empty RFC 6750 b64token that the value ends with, after a Bearer
// scheme in some letter case.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer a.b.c", "Bearer", "Bearer ", "Basic x", "", "Bearer a b", "Bearer ==", "Bearer a==", "BEARER    x~+/"} {
		f.Add(s, false)
	}
	f.Add("Bearer a", true)
	f.Fuzz(func(t *testing.T, v string, twice bool) {
		vals := []string{v}
		if twice {
			vals = append(vals, v)
		}
		token, rej := bearer(vals)
		if (token == "") == (rej == nil) {
			t.Fatalf("bearer(%q) = %q, %v: want exactly one of token and refusal", vals, token, rej)
		}
		if rej != nil {
			return
		}
		if twice {
			t.Fatalf("two values accepted: %q", vals)
		}
		scheme, _, _ := strings.Cut(v, " ")
		if !strings.EqualFold(scheme, "Bearer") || !strings.HasSuffix(v, token) || !isB64token(token) {
			t.Fatalf("bearer(%q) = %q", v, token)
		}
		if strings.ContainsAny(token, " \t,") {
			t.Fatalf("token with separators: %q", token)
		}
	})
}
