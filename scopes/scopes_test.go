package scopes_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// segments splits a token into its three encoded segments.
func segments(token string) (header, payload, signature string) {
	parts := append(strings.SplitN(token, ".", 3), "", "")
	return parts[0], parts[1], parts[2]
}

// fixtureKey is the package's one signing key: RSA key generation is the
// slow part of a fixture.
var fixtureKey = sync.OnceValue(func() *validatortest.Key {
	return validatortest.GenerateKey("test-key-1", "RS256")
})

// fixture starts a fake issuer and a validator that trusts it, both
// closed when the test ends.
func fixture(t testing.TB) (*validatortest.Issuer, *validator.Validator) {
	t.Helper()
	iss := validatortest.New(t, validatortest.SigningKeys(fixtureKey()))
	v, err := validator.New(t.Context(), iss.Config())
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	return iss, v
}

const rolesClaim = "https://example.com/roles"

// routes is an API on a Go 1.22 ServeMux with a guard, or a chain of
// guards, on each pattern. Handlers answer with the pattern they serve.
func routes() *http.ServeMux {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Pattern)
	})
	orgFromPath := func(r *http.Request) string { return r.PathValue("org") }
	mux := http.NewServeMux()
	mux.Handle("GET /contacts", scopes.RequireScope("read:contacts")(ok))
	mux.Handle("POST /contacts", scopes.RequireScope("read:contacts", "write:contacts")(ok))
	mux.Handle("GET /reports", scopes.RequireAnyScope("read:reports", "admin")(ok))
	mux.Handle("DELETE /contacts/{id}", scopes.RequirePermission("delete:contacts")(ok))
	mux.Handle("PUT /contacts/{id}", scopes.RequirePermission("read:contacts", "update:contacts")(ok))
	mux.Handle("GET /audit", scopes.RequireAnyPermission("read:audit", "admin:all")(ok))
	mux.Handle("GET /orgs/{org}/contacts",
		scopes.RequireOrganizationFrom(orgFromPath)(scopes.RequireScope("read:contacts")(ok)))
	mux.Handle("GET /acme", scopes.RequireOrganization("org_acme")(ok))
	mux.Handle("GET /admin", scopes.RequireClaim(rolesClaim, func(c *claims.Claims) bool {
		roles, _ := claims.Get[[]string](c, rolesClaim)
		return slices.Contains(roles, "admin")
	})(ok))
	mux.Handle("GET /machines", scopes.RequireClaim("gty", func(c *claims.Claims) bool {
		return c.GrantType == "client-credentials"
	})(ok))
	mux.Handle("GET /public", ok)
	return mux
}

func get(t *testing.T, method, url, token string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var dump strings.Builder
	for k, vs := range resp.Header {
		dump.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
	}
	if token != "" {
		require.NotContains(t, dump.String()+string(body), token)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func TestGuards(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	srv := httptest.NewServer(middleware.New(v)(routes()))
	t.Cleanup(srv.Close)

	mint := func(opts ...validatortest.TokenOption) string { return iss.Mint(opts...) }
	reader := mint(validatortest.WithScope("read:contacts"))
	writer := mint(validatortest.WithScope("read:contacts write:contacts"))
	admin := mint(validatortest.WithScope("admin"), validatortest.WithClaim(rolesClaim, []string{"user", "admin"}))
	deleter := mint(validatortest.WithPermissions("read:contacts", "delete:contacts"))
	acme := mint(validatortest.WithScope("read:contacts"), validatortest.WithClaim("org_id", "org_acme"))
	machine := mint(validatortest.WithClaim("gty", "client-credentials"))
	wrongRoles := mint(validatortest.WithClaim(rolesClaim, "admin")) // a string, not an array

	scope := func(desc, scope string) string {
		return `Bearer realm="api", error="insufficient_scope", error_description="` + desc + `", scope="` + scope + `"`
	}
	forbidden := func(desc string) string {
		return `Bearer realm="api", error="insufficient_scope", error_description="` + desc + `"`
	}
	const (
		lacksScope = "the token lacks a required scope"
		noneOf     = "the token has none of the accepted scopes"
		lacksPerm  = "the token lacks a required permission"
		notOrg     = "the token is not for this organization"
		notClaim   = "the token does not satisfy a required claim"
		noPerm     = "the token has none of the accepted permissions"
	)

	tests := []struct {
		name, method, path, token string
		status                    int
		www                       string
		body                      string // for 403: the JSON body; for 200: the pattern
	}{
		{"scope granted", "GET", "/contacts", reader, 200, "", "GET /contacts"},
		{"scope missing", "GET", "/contacts", admin, 403, scope(lacksScope, "read:contacts"),
			`{"error":"insufficient_scope","error_description":"` + lacksScope + `","scope":"read:contacts"}`},
		{"all scopes granted", "POST", "/contacts", writer, 200, "", "POST /contacts"},
		{"one of two scopes", "POST", "/contacts", reader, 403, scope(lacksScope, "read:contacts write:contacts"),
			`{"error":"insufficient_scope","error_description":"` + lacksScope + `","scope":"read:contacts write:contacts"}`},
		{"any scope: second", "GET", "/reports", admin, 200, "", "GET /reports"},
		{"any scope: none", "GET", "/reports", reader, 403, scope(noneOf, "read:reports admin"),
			`{"error":"insufficient_scope","error_description":"` + noneOf + `","scope":"read:reports admin"}`},
		{"permission granted", "DELETE", "/contacts/7", deleter, 200, "", "DELETE /contacts/{id}"},
		{"permission missing", "DELETE", "/contacts/7", writer, 403, scope(lacksPerm, "delete:contacts"),
			`{"error":"insufficient_scope","error_description":"` + lacksPerm + `","scope":"delete:contacts"}`},
		{"scope is not a permission", "DELETE", "/contacts/7", mint(validatortest.WithScope("delete:contacts")), 403,
			scope(lacksPerm, "delete:contacts"), ""},
		{"all permissions granted", "PUT", "/contacts/7", mint(validatortest.WithPermissions("update:contacts", "read:contacts")), 200, "", "PUT /contacts/{id}"},
		{"one of two permissions", "PUT", "/contacts/7", deleter, 403, scope(lacksPerm, "read:contacts update:contacts"), ""},
		{"any permission: second", "GET", "/audit", mint(validatortest.WithPermissions("admin:all")), 200, "", "GET /audit"},
		{"any permission: none", "GET", "/audit", deleter, 403, scope(noPerm, "read:audit admin:all"),
			`{"error":"insufficient_scope","error_description":"` + noPerm + `","scope":"read:audit admin:all"}`},
		{"any permission: a scope is not a permission", "GET", "/audit", mint(validatortest.WithScope("admin:all")), 403, scope(noPerm, "read:audit admin:all"), ""},
		{"organization from path", "GET", "/orgs/org_acme/contacts", acme, 200, "", "GET /orgs/{org}/contacts"},
		{"other organization in path", "GET", "/orgs/org_other/contacts", acme, 403, forbidden(notOrg),
			`{"error":"insufficient_scope","error_description":"` + notOrg + `"}`},
		{"no organization in token", "GET", "/orgs/org_acme/contacts", reader, 403, forbidden(notOrg), ""},
		{"organization ok, then scope checked", "GET", "/orgs/org_acme/contacts",
			mint(validatortest.WithScope("admin"), validatortest.WithClaim("org_id", "org_acme")), 403,
			scope(lacksScope, "read:contacts"), ""},
		{"fixed organization", "GET", "/acme", acme, 200, "", "GET /acme"},
		{"fixed organization, other", "GET", "/acme", mint(validatortest.WithClaim("org_id", "org_evil")), 403, forbidden(notOrg), ""},
		{"custom claim", "GET", "/admin", admin, 200, "", "GET /admin"},
		{"custom claim missing", "GET", "/admin", reader, 403, forbidden(notClaim),
			`{"error":"insufficient_scope","error_description":"` + notClaim + `"}`},
		{"custom claim of another type", "GET", "/admin", wrongRoles, 403, forbidden(notClaim), ""},
		{"registered claim", "GET", "/machines", machine, 200, "", "GET /machines"},
		{"registered claim differs", "GET", "/machines", reader, 403, forbidden(notClaim), ""},
		{"unguarded route", "GET", "/public", reader, 200, "", "GET /public"},
		// The middleware answers before any guard.
		{"no token", "GET", "/contacts", "", 401, `Bearer realm="api"`, "{}"},
		{"expired token", "GET", "/contacts", mint(validatortest.WithScope("read:contacts"), validatortest.WithExpiry(time.Now().Add(-time.Hour))), 401,
			`Bearer realm="api", error="invalid_token", error_description="token expired"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, h, body := get(t, tt.method, srv.URL+tt.path, tt.token)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.www, h.Get("WWW-Authenticate"))
			switch {
			case tt.status == 200:
				assert.Equal(t, tt.body, body)
			case tt.body != "":
				assert.JSONEq(t, tt.body, body)
				assert.Equal(t, "application/json", h.Get("Content-Type"))
			}
		})
	}
}

// TestWithoutValidatedClaims mounts guards where no middleware validated a
// token: the guard answers 401 with a bare challenge and never panics.
func TestWithoutValidatedClaims(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	token := iss.Mint(validatortest.WithScope("read:contacts"), validatortest.WithClaim("org_id", "org_acme"))

	bare := httptest.NewServer(routes())
	t.Cleanup(bare.Close)
	optional := httptest.NewServer(middleware.New(v, middleware.WithCredentialsOptional())(routes()))
	t.Cleanup(optional.Close)

	for _, path := range []string{"/contacts", "/reports", "/orgs/org_acme/contacts", "/acme", "/admin", "/machines"} {
		for name, srv := range map[string]*httptest.Server{"no middleware": bare, "anonymous": optional} {
			t.Run(name+path, func(t *testing.T) {
				status, h, body := get(t, http.MethodGet, srv.URL+path, "")
				assert.Equal(t, http.StatusUnauthorized, status)
				assert.Equal(t, `Bearer realm="api"`, h.Get("WWW-Authenticate"))
				assert.Equal(t, "{}\n", body)
			})
		}
	}
	// Without the middleware even a good token is not trusted.
	status, _, _ := get(t, http.MethodGet, bare.URL+"/contacts", token)
	assert.Equal(t, http.StatusUnauthorized, status)
	// With optional credentials a token is validated and checked.
	status, _, _ = get(t, http.MethodGet, optional.URL+"/contacts", token)
	assert.Equal(t, http.StatusOK, status)
}

// TestGuardsShareMiddlewareSettings checks that guards answer with the
// realm, hook and renderer of the middleware in front of them.
func TestGuardsShareMiddlewareSettings(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	var (
		mu  sync.Mutex
		got []*middleware.Failure
	)
	srv := httptest.NewServer(middleware.New(v,
		middleware.WithRealm("contacts"),
		middleware.WithOnReject(func(_ *http.Request, f *middleware.Failure) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, f)
		}),
		middleware.WithCredentialsOptional(),
	)(routes()))
	t.Cleanup(srv.Close)

	cases := []struct {
		path, token string
		status      int
		class       error
		www         string
	}{
		{"/contacts", iss.Mint(validatortest.WithScope("admin")), 403, scopes.ErrScope,
			`Bearer realm="contacts", error="insufficient_scope", error_description="the token lacks a required scope", scope="read:contacts"`},
		{"/reports", iss.Mint(), 403, scopes.ErrScope, ""},
		{"/contacts/1", iss.Mint(), 403, scopes.ErrPermission, ""},
		{"/acme", iss.Mint(), 403, scopes.ErrOrganization, ""},
		{"/admin", iss.Mint(), 403, scopes.ErrClaim, ""},
		{"/contacts", "", 401, middleware.ErrMissingToken, `Bearer realm="contacts"`},
	}
	for i, c := range cases {
		method := http.MethodGet
		if c.path == "/contacts/1" {
			method = http.MethodDelete
		}
		status, h, _ := get(t, method, srv.URL+c.path, c.token)
		require.Equal(t, c.status, status, c.path)
		if c.www != "" {
			assert.Equal(t, c.www, h.Get("WWW-Authenticate"))
		}
		assert.Contains(t, h.Get("WWW-Authenticate"), `realm="contacts"`)
		mu.Lock()
		require.Len(t, got, i+1)
		f := got[i]
		mu.Unlock()
		assert.Equal(t, c.status, f.Status)
		assert.ErrorIs(t, f, c.class)
		assert.Equal(t, "contacts", f.Realm)
	}
	assert.EqualError(t, got[4].Err, "claim requirement not met: "+rolesClaim)
}

func TestConstructorsPanic(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(){
		"RequireScope()":                   func() { scopes.RequireScope() },
		"RequireScope empty":               func() { scopes.RequireScope("") },
		"RequireScope with space":          func() { scopes.RequireScope("read write") },
		"RequireScope with quote":          func() { scopes.RequireScope(`read"`) },
		"RequireAnyScope()":                func() { scopes.RequireAnyScope() },
		"RequirePermission()":              func() { scopes.RequirePermission() },
		"RequireAnyPermission()":           func() { scopes.RequireAnyPermission() },
		"RequireAnyPermission with space":  func() { scopes.RequireAnyPermission("a b") },
		"RequireOrganization empty":        func() { scopes.RequireOrganization("") },
		"RequireOrganizationFrom nil":      func() { scopes.RequireOrganizationFrom(nil) },
		"RequireClaim nil":                 func() { scopes.RequireClaim("x", nil) },
		"RequirePermission with non-ASCII": func() { scopes.RequirePermission("l\u00e9ire") },
	} {
		assert.Panics(t, f, name)
	}
}

// A guard keeps its own copy of the scopes it was given: reusing the
// slice afterwards changes nothing.
func TestGuardsCopyTheirArguments(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	required := []string{"admin:all"}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(middleware.New(v)(scopes.RequireScope(required...)(ok)))
	t.Cleanup(srv.Close)
	required[0] = "read:contacts"

	status, h, _ := get(t, http.MethodGet, srv.URL, iss.Mint(validatortest.WithScope("read:contacts")))
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, h.Get("WWW-Authenticate"), `scope="admin:all"`)
}
