package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

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
