package middleware_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator/validatortest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type authParam struct{ name, value string }

// parseChallenge parses one challenge strictly (RFC 7235 section 2.1:
// auth-scheme 1*SP auth-param *( OWS "," OWS auth-param ), every value a
// token or a quoted-string), so a test sees exactly what a client would.
func parseChallenge(s string) (scheme string, params []authParam, err error) {
	cs, err := parseChallenges(s)
	if err != nil {
		return "", nil, err
	}
	if len(cs) != 1 {
		return "", nil, errors.New("more than one challenge")
	}
	return cs[0].scheme, cs[0].params, nil
}

type parsedChallenge struct {
	scheme string
	params []authParam
}

// parseChallenges parses a WWW-Authenticate field of one or more
// challenges (RFC 7235 section 4.1: 1#challenge) strictly: after ", ", a
// token followed by a space starts the next challenge, a token followed
// by "=" is the next auth-param.
func parseChallenges(s string) ([]parsedChallenge, error) {
	isTchar := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
	}
	token := func() string {
		i := 0
		for i < len(s) && isTchar(s[i]) {
			i++
		}
		t := s[:i]
		s = s[i:]
		return t
	}
	var out []parsedChallenge
	newChallenge := func() error {
		scheme := token()
		if scheme == "" || !strings.HasPrefix(s, " ") {
			return errors.New("no scheme")
		}
		s = strings.TrimLeft(s, " ")
		out = append(out, parsedChallenge{scheme: scheme})
		return nil
	}
	if err := newChallenge(); err != nil {
		return nil, err
	}
	for {
		name := token()
		if name == "" || !strings.HasPrefix(s, "=") {
			return nil, errors.New("bad auth-param name")
		}
		s = s[1:]
		var v strings.Builder
		if strings.HasPrefix(s, `"`) {
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				c := s[i]
				if c == '\\' {
					i++
					if i == len(s) {
						return nil, errors.New("dangling escape")
					}
					c = s[i]
				}
				if c < 0x20 && c != '\t' || c == 0x7f {
					return nil, errors.New("control character in quoted-string")
				}
				v.WriteByte(c)
			}
			if i == len(s) {
				return nil, errors.New("unterminated quoted-string")
			}
			s = s[i+1:]
		} else if t := token(); t != "" {
			v.WriteString(t)
		} else {
			return nil, errors.New("bad auth-param value")
		}
		last := &out[len(out)-1]
		last.params = append(last.params, authParam{name, v.String()})
		if s == "" {
			return out, nil
		}
		if !strings.HasPrefix(s, ", ") {
			return nil, errors.New("bad separator")
		}
		s = s[2:]
		i := 0
		for i < len(s) && isTchar(s[i]) {
			i++
		}
		if i < len(s) && s[i] == ' ' {
			if err := newChallenge(); err != nil {
				return nil, err
			}
		}
	}
}

// dropControls removes the bytes a quoted-string cannot hold.
func dropControls(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c != 0x7f || c == '\t' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FuzzChallenge checks that every auth-param value WriteError sends is a
// valid quoted-string that a strict parser reads back as the value given
// (minus control characters, which a quoted-string cannot hold), whatever
// the realm, description, scope, extra params and metadata URL hold.
//
//	go test -run '^$' -fuzz FuzzChallenge ./middleware
func FuzzChallenge(f *testing.F) {
	f.Add("api", "token expired", "read:contacts", "http://x/\"y\"\\", "600", "DPoP")
	f.Add(`a"b\c`, "caf\u00e9\r\n", "", "", "", "")
	f.Add("\x00", "\\\"", "a\\", "\"", "\\", "Bearer")
	f.Add("api", `proof "htu" \ does not match \"`, "", `a"b`, `ES256 \"x`, "dpop")
	f.Add(`r\`, `\`, `"`, `\\`, `"\"`, "DPoP")
	f.Fuzz(func(t *testing.T, realm, desc, scope, acr, maxAge, scheme string) {
		w := httptest.NewRecorder()
		middleware.WriteError(w, &middleware.Failure{
			Status: 401, Code: middleware.CodeInsufficientUserAuthentication, Realm: realm, Description: desc, Scope: scope,
			Params: []middleware.Param{{Name: "acr_values", Value: acr}, {Name: "max_age", Value: maxAge}, {Name: "bad name", Value: "x"}},
			Scheme: scheme, ResourceMetadata: "https://api.example.com/.well-known/oauth-protected-resource?" + acr,
		})
		www := w.Header().Get("WWW-Authenticate")
		if strings.ContainsAny(www, "\r\n") {
			t.Fatalf("line break in %q", www)
		}
		gotScheme, params, err := parseChallenge(www)
		if err != nil {
			t.Fatalf("%v: %q", err, www)
		}
		if gotScheme != scheme && gotScheme != "Bearer" {
			t.Fatalf("scheme %q from %q", gotScheme, scheme)
		}
		got := map[string]string{}
		for _, p := range params {
			if _, dup := got[p.name]; dup {
				t.Fatalf("%s twice in %q", p.name, www)
			}
			got[p.name] = p.value
		}
		want := map[string]string{
			"realm": dropControls(realm), "error": "insufficient_user_authentication",
			"acr_values": dropControls(acr), "max_age": dropControls(maxAge),
			"resource_metadata": dropControls("https://api.example.com/.well-known/oauth-protected-resource?" + acr),
		}
		if realm == "" {
			want["realm"] = "api"
		}
		if d := middleware.SafeDescription(desc); d != "" {
			want["error_description"] = d
		}
		if scope != "" {
			want["scope"] = dropControls(scope)
		}
		if len(got) != len(want) {
			t.Fatalf("params %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s = %q, want %q (%q)", k, got[k], v, www)
			}
		}
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["error"] != "insufficient_user_authentication" {
			t.Fatalf("body %q: %v", w.Body.String(), err)
		}

		// The same failure with two challenges, as DPoP sends them: the
		// error in the challenge of Scheme (the first when none is),
		// algs in DPoP's, realm and resource_metadata in each.
		w = httptest.NewRecorder()
		middleware.WriteError(w, &middleware.Failure{
			Status: 401, Code: middleware.CodeInvalidDPoPProof, Realm: realm, Description: desc, Scope: scope,
			Params: []middleware.Param{{Name: "acr_values", Value: acr}}, Scheme: scheme,
			Challenges: []middleware.Challenge{
				{Scheme: "Bearer"},
				{Scheme: "DPoP", Params: []middleware.Param{{Name: "algs", Value: maxAge}, {Name: "error", Value: "dropped"}}},
			},
			ResourceMetadata: "https://api.example.com/.well-known/oauth-protected-resource?" + acr,
		})
		// One field per challenge, each a single challenge; joined, they
		// are one field of several (RFC 9110 section 5.3).
		fields := w.Header().Values("WWW-Authenticate")
		if len(fields) != 2 {
			t.Fatalf("fields %q", fields)
		}
		var cs []parsedChallenge
		for _, field := range fields {
			scheme, params, err := parseChallenge(field)
			if err != nil {
				t.Fatalf("%v: %q", err, field)
			}
			cs = append(cs, parsedChallenge{scheme, params})
		}
		www = strings.Join(fields, ", ")
		if joined, err := parseChallenges(www); err != nil || len(joined) != 2 {
			t.Fatalf("joined %q: %v", www, err)
		}
		if cs[0].scheme != "Bearer" || cs[1].scheme != "DPoP" {
			t.Fatalf("challenges %q", www)
		}
		withError := 0
		if strings.EqualFold(scheme, "DPoP") {
			withError = 1
		}
		for i, c := range cs {
			got := map[string]string{}
			for _, p := range c.params {
				if _, dup := got[p.name]; dup {
					t.Fatalf("%s twice in %q", p.name, www)
				}
				got[p.name] = p.value
			}
			want := map[string]string{"realm": want["realm"], "resource_metadata": want["resource_metadata"]}
			if c.scheme == "DPoP" {
				want["algs"] = dropControls(maxAge)
			}
			if i == withError {
				want["error"] = "invalid_dpop_proof"
				want["acr_values"] = dropControls(acr)
				if d := middleware.SafeDescription(desc); d != "" {
					want["error_description"] = d
				}
				if scope != "" {
					want["scope"] = dropControls(scope)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("challenge %d params %v, want %v (%q)", i, got, want, www)
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("challenge %d: %s = %q, want %q (%q)", i, k, got[k], v, www)
				}
			}
		}
	})
}

func TestWriteErrorParamsAndScheme(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	middleware.WriteError(w, &middleware.Failure{
		Status: 401, Code: middleware.CodeInsufficientUserAuthentication, Description: "authentication too old",
		Params:           []middleware.Param{{Name: "acr_values", Value: "urn:a urn:b"}, {Name: "max_age", Value: "600"}, {Name: "scope", Value: "dropped"}},
		Scheme:           "DPoP",
		ResourceMetadata: `https://api.example.com/.well-known/oauth-protected-resource`,
	})
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, `DPoP realm="api", error="insufficient_user_authentication", error_description="authentication too old", `+
		`acr_values="urn:a urn:b", max_age="600", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"`,
		w.Header().Get("WWW-Authenticate"))
	assert.Equal(t, `{"error":"insufficient_user_authentication","error_description":"authentication too old","acr_values":"urn:a urn:b","max_age":"600"}`+"\n", w.Body.String())

	w = httptest.NewRecorder()
	middleware.WriteError(w, &middleware.Failure{Status: 401, Scheme: "not a token", ResourceMetadata: `http://h/"x"`})
	assert.Equal(t, `Bearer realm="api", resource_metadata="http://h/\"x\""`, w.Header().Get("WWW-Authenticate"))
	assert.Equal(t, "{}\n", w.Body.String())
}

// TestResourceMetadataInChallenges (RFC 9728 section 5.1): with the option
// set, every challenge the middleware sends points to the metadata; a 503
// has no challenge.
func TestResourceMetadataInChallenges(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	const meta = "https://api.example.com/.well-known/oauth-protected-resource"
	fixed := serve(t, v, whoami, middleware.WithResourceMetadata(meta))
	perHost := serve(t, v, whoami, middleware.WithResourceMetadataFunc(func(r *http.Request) string {
		return "http://" + r.Host + "/.well-known/oauth-protected-resource"
	}))
	down := serve(t, unavailableValidator(t, iss), whoami, middleware.WithResourceMetadata(meta))
	expired := iss.Mint(validatortest.WithExpiry(time.Now().Add(-time.Hour)))

	for _, tt := range []struct {
		name   string
		auth   []string
		status int
		www    string
	}{
		{"no token", nil, 401, `Bearer realm="api", resource_metadata="` + meta + `"`},
		{"malformed", []string{"Bearer"}, 400, `Bearer realm="api", error="invalid_request", error_description="empty bearer token", resource_metadata="` + meta + `"`},
		{"expired", []string{"Bearer " + expired}, 401, `Bearer realm="api", error="invalid_token", error_description="token expired", resource_metadata="` + meta + `"`},
	} {
		res := do(t, http.MethodGet, fixed.URL, tt.auth, nil)
		assert.Equal(t, tt.status, res.Status, tt.name)
		assert.Equal(t, tt.www, res.Header.Get("WWW-Authenticate"), tt.name)
	}
	res := do(t, http.MethodGet, perHost.URL, nil, nil)
	assert.Equal(t, `Bearer realm="api", resource_metadata="`+perHost.URL+`/.well-known/oauth-protected-resource"`,
		res.Header.Get("WWW-Authenticate"))
	res = do(t, http.MethodGet, down.URL, []string{"Bearer " + iss.Mint()}, nil)
	assert.Equal(t, 503, res.Status)
	assert.Empty(t, res.Header.Get("WWW-Authenticate"))
	// Without the option, nothing changes.
	res = do(t, http.MethodGet, serve(t, v, whoami).URL, nil, nil)
	require.Equal(t, `Bearer realm="api"`, res.Header.Get("WWW-Authenticate"))
}
