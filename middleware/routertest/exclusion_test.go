package routertest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// whoSaw answers 200 "claims" or "anonymous".
var whoSaw = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, ok := claims.FromContext(r.Context()); ok {
		_, _ = w.Write([]byte("claims"))
		return
	}
	_, _ = w.Write([]byte("anonymous"))
})

// exclusions are the predicates users write, with the decoded path.
func exclusions() []middleware.Option {
	return []middleware.Option{
		middleware.WithExclusion(func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/public/") }),
		middleware.WithExclusion(func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, ".css") }),
		middleware.WithExcludedPaths("/healthz"),
	}
}

// TestExclusionBypass (issue 10, item 1): chi and gorilla/mux with
// UseEncodedPath route on the escaped path, so /public%2Fx/admin reaches a
// protected /{tenant}/admin route; the middleware must authenticate every
// request whose path is not plain, whatever the predicates say.
func TestExclusionBypass(t *testing.T) {
	_, v := fixture(t)

	c := chi.NewRouter()
	c.Use(middleware.New(v, exclusions()...))
	c.Get("/{tenant}/admin", whoSaw)
	c.Get("/{tenant}/admin/{file}", whoSaw)
	c.Get("/{tenant}/{x}/{y}/admin", whoSaw)
	c.NotFound(whoSaw) // public pages

	g := mux.NewRouter().UseEncodedPath().SkipClean(true) // routes what it is sent
	g.Use(middleware.New(v, exclusions()...))
	g.Handle("/{tenant}/admin", whoSaw)
	g.Handle("/{tenant}/admin/{file}", whoSaw)
	g.Handle("/{tenant}/{x}/{y}/admin", whoSaw)
	g.PathPrefix("/").Handler(whoSaw) // public pages

	for name, router := range map[string]http.Handler{"chi": c, "gorilla": g} {
		for _, tt := range []struct {
			target string
			status int
		}{
			{"/public/about", 200},
			{"/healthz", 200},
			{"/static/site.css", 200},
			{"/acme/admin", 401},
			{"/public%2Fx/admin", 401},
			{"/public%2fx/admin", 401},
			{"/public/%2e%2e/admin", 401},
			{"/public/%2E%2E/acme/admin", 401},
			{"/public/../acme/admin", 401},
			{"/acme/admin%3F.css", 401},
			{"/acme/admin%3f/x.css", 401},
			{"/acme/admin/x%2Fy.css", 401},
			{"/acme/admin%2Fx.css", 401},
			{"/public%252Fx/admin", 401},
			{"/health%7Az", 401},
		} {
			t.Run(name+tt.target, func(t *testing.T) {
				w := httptest.NewRecorder()
				router.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tt.target, nil))
				require.Equal(t, tt.status, w.Code, w.Body.String())
				if tt.status == 200 {
					assert.Equal(t, "anonymous", w.Body.String())
				} else {
					assert.Equal(t, `Bearer realm="api"`, w.Header().Get("WWW-Authenticate"))
				}
			})
		}
	}
}
