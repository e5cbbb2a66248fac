package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tenantMux is an API on a Go 1.22 ServeMux with a protected
// /{tenant}/admin route and public pages; its handlers answer 200 with
// "claims" or "anonymous".
func tenantMux() *http.ServeMux {
	answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := claims.FromContext(r.Context()); ok {
			_, _ = w.Write([]byte("claims"))
			return
		}
		_, _ = w.Write([]byte("anonymous"))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /{tenant}/admin", answer)
	mux.Handle("GET /{tenant}/admin/{file}", answer)
	mux.Handle("/", answer) // public pages, health checks, ...
	return mux
}

// TestExclusionBypass (issue 10, item 1): predicates see the decoded path
// while ServeMux routes on the escaped one, so a request whose path is
// not plain must be authenticated whatever the predicates say.
func TestExclusionBypass(t *testing.T) {
	t.Parallel()
	_, v := fixture(t)
	h := middleware.New(v,
		middleware.WithExclusion(func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/public/") }),
		middleware.WithExclusion(func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, ".css") }),
		middleware.WithExcludedPaths("/healthz"),
	)(tenantMux())

	for _, tt := range []struct {
		target string
		status int
		body   string
	}{
		// Plain paths: the exclusions apply.
		{"/public/about", 200, "anonymous"},
		{"/public/docs/", 200, "anonymous"},
		{"/healthz", 200, "anonymous"},
		{"/healthz?verbose=1", 200, "anonymous"},
		{"/static/site.css", 200, "anonymous"},
		// Protected.
		{"/acme/admin", 401, ""},
		// Encoded slash: ServeMux routes /public%2Fx/admin to /{tenant}/admin.
		{"/public%2Fx/admin", 401, ""},
		{"/public%2fx/admin", 401, ""},
		// Dot segments, plain and encoded.
		{"/public/../acme/admin", 401, ""},
		{"/public/%2e%2e/acme/admin", 401, ""},
		{"/public/%2E%2E/acme/admin", 401, ""},
		{"/public/./x/../../acme/admin", 401, ""},
		{"//public/x", 401, ""},
		// Any needless escape sets RawPath.
		{"/p%75blic/x", 401, ""},
		// Encoded '?' and '#', and double encoding.
		{"/acme/admin%3F.css", 401, ""},
		{"/acme/admin%3f/x.css", 401, ""},
		{"/acme/admin%23.css", 401, ""},
		{"/public%252Fx/admin", 401, ""},
		// Suffix predicate with an encoded slash: /{tenant}/admin/{file}.
		{"/acme/admin/x%2Fy.css", 401, ""},
		// Exact paths are exact.
		{"/healthz/", 401, ""},
		{"/healthz/../acme/admin", 401, ""},
		{"/health%7Az", 401, ""},
	} {
		t.Run(tt.target, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			require.Equal(t, tt.status, w.Code, w.Body.String())
			if tt.status == 200 {
				assert.Equal(t, tt.body, w.Body.String())
			} else {
				assert.Equal(t, `Bearer realm="api"`, w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestExcludedPathsMustBeClean(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "healthz", "/healthz/", "/a//b", "/a/../b", "/./a"} {
		assert.Panics(t, func() { middleware.WithExcludedPaths(p) }, p)
	}
	assert.NotPanics(t, func() { middleware.WithExcludedPaths("/", "/healthz", "/a/b") })
}

// TestQueryTokenStrippedEverywhere (issue 10, item 3): with WithQueryToken,
// no request that leaves the middleware, excluded, preflight or
// authenticated, holds the token in its URL or RequestURI.
func TestQueryTokenStrippedEverywhere(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	good := iss.Mint()
	srv := serve(t, v, whoami, middleware.WithQueryToken(""), middleware.WithCORSPreflight(),
		middleware.WithExcludedPaths("/healthz"),
		middleware.WithExclusion(func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/public/") }))
	preflight := http.Header{"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"}}
	for _, tt := range []struct {
		name, method, path string
		header             http.Header
		auth               []string
		sub, requestURI    string
	}{
		{"excluded path", http.MethodGet, "/healthz?a=1&access_token=" + good, nil, nil, "anonymous", "/healthz?a=1"},
		{"excluded by predicate", http.MethodGet, "/public/x?access_token=" + good + "&b=2", nil, nil, "anonymous", "/public/x?b=2"},
		{"excluded, repeated parameter", http.MethodGet, "/healthz?access_token=" + good + "&access_token=" + good, nil, nil, "anonymous", "/healthz"},
		{"CORS preflight", http.MethodOptions, "/api?access_token=" + good, preflight, nil, "anonymous", "/api"},
		{"authenticated", http.MethodGet, "/api?access_token=" + good + "&c=3", nil, nil, "auth0|test-user", "/api?c=3"},
		{"authenticated by header, query token elsewhere", http.MethodGet, "/healthz?access%5Ftoken=" + good, nil, []string{"Bearer " + good}, "anonymous", "/healthz"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, tt.method, srv.URL+tt.path, tt.auth, tt.header)
			require.Equal(t, 200, res.Status, res.Body)
			assert.Contains(t, res.Body, `"sub":"`+tt.sub+`"`)
			assert.Contains(t, res.Body, `"request_uri":"`+tt.requestURI+`"`)
			assert.NotContains(t, res.Body, "access_token")
			assert.NotContains(t, res.Body, "access%5Ftoken")
			requireNoLeak(t, res.Body, good)
			assert.Equal(t, "private", res.Header.Get("Cache-Control"))
		})
	}
}
