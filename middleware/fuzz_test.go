package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/middleware"
)

// FuzzClientInput checks that no Authorization header or query string is
// answered with a 5xx or a panic, that the answer is one of RFC 6750's,
// and that it never echoes the input. The seeds run with go test; fuzz with
//
//	go test -run '^$' -fuzz FuzzClientInput ./middleware
func FuzzClientInput(f *testing.F) {
	for _, s := range []struct{ auth, query string }{
		{"", ""},
		{"Bearer abc", ""},
		{"bearer  abc.def.ghi", ""},
		{"Bearer\tabc", ""},
		{"Bearer abc def", ""},
		{"Basic dXNlcjpwYXNz", "access_token=abc.def"},
		{"Bearer ===", "access_token=a&access_token=b"},
		{"Bearer a==", "access_token=%zz"},
		{"Bearer eyJhbGciOiJub25lIn0.e30.", ""},
		{"\"Bearer\" x", "access_token="},
	} {
		f.Add(s.auth, s.query)
	}
	_, v := fixture(f)
	h := middleware.New(v, middleware.WithQueryToken(""))(whoami)
	f.Fuzz(func(t *testing.T, auth, query string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = query
		req.RequestURI = "/?" + query
		req.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case 200, 400, 401:
		default:
			t.Fatalf("status %d for %q %q", w.Code, auth, query)
		}
		if w.Code != 200 {
			www := w.Header().Get("WWW-Authenticate")
			if !strings.HasPrefix(www, `Bearer realm="api"`) {
				t.Fatalf("challenge %q", www)
			}
			for _, in := range []string{strings.TrimSpace(auth), query, url.QueryEscape(query)} {
				if len(in) >= 12 && (strings.Contains(www, in) || strings.Contains(w.Body.String(), in)) {
					t.Fatalf("answer echoes the input %q: %q %q", in, www, w.Body.String())
				}
			}
		}
	})
}

// FuzzDPoPInput checks the same of the Authorization and DPoP headers
// with DPoP allowed: never a 5xx or a panic, every challenge parses, and
// no answer echoes the input.
//
//	go test -run '^$' -fuzz FuzzDPoPInput ./middleware
func FuzzDPoPInput(f *testing.F) {
	iss, v := fixture(f)
	k := clientKey()
	bound := iss.Mint(k.Bind())
	const url = "http://example.com/"
	for _, s := range []struct{ auth, proof string }{
		{"DPoP " + bound, k.Proof("GET", url, dpoptest.WithAccessToken(bound))},
		{"DPoP " + bound, k.Proof("GET", url, dpoptest.WithAccessToken(bound), dpoptest.WithHeader("typ", `"\`))},
		{"Bearer " + bound, "x"},
		{"dpop abc", "a.b.c"},
		{"DPoP", ""},
		{"DPoP a\"b", "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30."},
	} {
		f.Add(s.auth, s.proof)
	}
	h := middleware.New(v, middleware.WithDPoP(nil, middleware.DPoPAllowed))(whoami)
	f.Fuzz(func(t *testing.T, auth, proof string) {
		req := httptest.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", auth)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case 200, 400, 401:
		default:
			t.Fatalf("status %d for %q %q", w.Code, auth, proof)
		}
		if w.Code == 200 {
			return
		}
		for _, field := range w.Header().Values("WWW-Authenticate") {
			if _, _, err := parseChallenge(field); err != nil {
				t.Fatalf("%v: %q", err, field)
			}
		}
		www := strings.Join(w.Header().Values("WWW-Authenticate"), ", ")
		for _, in := range []string{strings.TrimSpace(auth), proof} {
			if len(in) >= 12 && (strings.Contains(www, in) || strings.Contains(w.Body.String(), in)) {
				t.Fatalf("answer echoes the input %q: %q %q", in, www, w.Body.String())
			}
		}
	})
}
