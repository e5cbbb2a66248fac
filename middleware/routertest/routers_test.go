package routertest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// contacts answers with the subject and the organization of the path, so
// the test sees that claims and route parameters both reach the handler.
func contacts(org func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := claims.FromContext(r.Context())
		if !ok {
			http.Error(w, "no claims", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s %s", c.Subject, org(r))
	})
}

func chiRouter(v middleware.TokenValidator) http.Handler {
	org := func(r *http.Request) string { return chi.URLParam(r, "org") }
	r := chi.NewRouter()
	r.Use(middleware.New(v))
	r.With(scopes.RequireScope("read:contacts")).Get("/contacts", contacts(org).ServeHTTP)
	r.With(scopes.RequireOrganizationFrom(org), scopes.RequireScope("read:contacts")).
		Get("/orgs/{org}/contacts", contacts(org).ServeHTTP)
	r.Route("/admin", func(r chi.Router) {
		r.Use(scopes.RequirePermission("admin"))
		r.Get("/", contacts(org).ServeHTTP)
	})
	return r
}

func gorillaRouter(v middleware.TokenValidator) http.Handler {
	org := func(r *http.Request) string { return mux.Vars(r)["org"] }
	r := mux.NewRouter()
	r.Use(middleware.New(v))
	r.Handle("/contacts", scopes.RequireScope("read:contacts")(contacts(org))).Methods(http.MethodGet)
	r.Handle("/orgs/{org}/contacts",
		scopes.RequireOrganizationFrom(org)(scopes.RequireScope("read:contacts")(contacts(org)))).Methods(http.MethodGet)
	admin := r.PathPrefix("/admin").Subrouter()
	admin.Use(mux.MiddlewareFunc(scopes.RequirePermission("admin")))
	admin.Handle("/", contacts(org)).Methods(http.MethodGet)
	return r
}

// fixture starts a fake issuer and a validator for it, both closed when
// the test ends.
func fixture(t *testing.T) (*validatortest.Issuer, *validator.Validator) {
	t.Helper()
	iss := validatortest.NewIssuer()
	t.Cleanup(iss.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := validator.New(ctx, iss.Config())
	require.NoError(t, err)
	t.Cleanup(func() { _ = v.Close() })
	return iss, v
}

func TestRouters(t *testing.T) {
	iss, v := fixture(t)

	reader := iss.Mint(validatortest.WithScope("read:contacts"), validatortest.WithClaim("org_id", "org_acme"))
	admin := iss.Mint(validatortest.WithPermissions("admin"))
	expired := iss.Mint(validatortest.WithExpiry(time.Now().Add(-time.Hour)))

	tests := []struct {
		name, path, auth string
		status           int
		www, body        string
	}{
		{"no token", "/contacts", "", 401, `Bearer realm="api"`, "{}\n"},
		{"Basic", "/contacts", "Basic dXNlcjpwYXNz", 401, `Bearer realm="api"`, "{}\n"},
		{"malformed", "/contacts", "Bearer a b", 400,
			`Bearer realm="api", error="invalid_request", error_description="Authorization header has extra parts"`, ""},
		{"expired", "/contacts", "Bearer " + expired, 401,
			`Bearer realm="api", error="invalid_token", error_description="token expired"`, ""},
		{"scope granted", "/contacts", "Bearer " + reader, 200, "", "auth0|test-user "},
		{"scope missing", "/contacts", "Bearer " + admin, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="read:contacts"`, ""},
		{"organization from route", "/orgs/org_acme/contacts", "Bearer " + reader, 200, "", "auth0|test-user org_acme"},
		{"other organization", "/orgs/org_globex/contacts", "Bearer " + reader, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="the token is not for this organization"`, ""},
		{"permission on subrouter", "/admin/", "Bearer " + admin, 200, "", "auth0|test-user "},
		{"permission missing on subrouter", "/admin/", "Bearer " + reader, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="the token lacks a required permission", scope="admin"`, ""},
	}
	for name, router := range map[string]http.Handler{"chi": chiRouter(v), "gorilla": gorillaRouter(v)} {
		srv := httptest.NewServer(router)
		t.Cleanup(srv.Close)
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				req, err := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
				require.NoError(t, err)
				if tt.auth != "" {
					req.Header.Set("Authorization", tt.auth)
				}
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				assert.Equal(t, tt.status, resp.StatusCode)
				assert.Equal(t, tt.www, resp.Header.Get("WWW-Authenticate"))
				if tt.body != "" {
					assert.Equal(t, tt.body, string(body))
				}
			})
		}
	}
}
