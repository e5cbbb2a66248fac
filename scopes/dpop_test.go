package scopes_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator/validatortest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const dpopAlgs = `algs="ES256 ES384 ES512 PS256 RS256 EdDSA"`

// TestGuardsAnswerInClientScheme: behind a middleware that accepts DPoP,
// the guards keep working and answer in the scheme the client used: a
// DPoP request's 403 carries the DPoP challenge with algs, a Bearer
// request's the Bearer one; a 401 (step-up) names both schemes, the
// client's first.
func TestGuardsAnswerInClientScheme(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux := http.NewServeMux()
	mux.Handle("GET /contacts", scopes.RequireScope("read:contacts")(ok))
	mux.Handle("GET /transfers", scopes.RequireStepUp(scopes.StepUp{MaxAge: time.Minute})(ok))
	const meta = "https://api.example.com/.well-known/oauth-protected-resource"
	srv := httptest.NewServer(middleware.New(v, middleware.WithDPoP(nil, middleware.DPoPAllowed),
		middleware.WithResourceMetadata(meta))(mux))
	t.Cleanup(srv.Close)
	rm := `resource_metadata="` + meta + `"`

	k := dpoptest.GenerateKey("ES256")
	send := func(path string, dpop bool, opts ...validatortest.TokenOption) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		if dpop {
			k.Authorize(req, iss.Mint(append(opts, k.Bind())...))
		} else {
			req.Header.Set("Authorization", "Bearer "+iss.Mint(opts...))
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}

	res := send("/contacts", true, validatortest.WithScope("read:contacts"))
	assert.Equal(t, 200, res.StatusCode)
	res = send("/contacts", true, validatortest.WithScope("write:contacts"))
	assert.Equal(t, 403, res.StatusCode)
	assert.Equal(t, `DPoP realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="read:contacts", `+dpopAlgs+`, `+rm,
		strings.Join(res.Header.Values("WWW-Authenticate"), ", "))
	res = send("/contacts", false, validatortest.WithScope("write:contacts"))
	assert.Equal(t, 403, res.StatusCode)
	assert.Equal(t, `Bearer realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="read:contacts", `+rm,
		strings.Join(res.Header.Values("WWW-Authenticate"), ", "))

	old := validatortest.WithClaim("auth_time", time.Now().Add(-time.Hour).Unix())
	res = send("/transfers", true, old)
	assert.Equal(t, 401, res.StatusCode)
	assert.Equal(t, `DPoP realm="api", error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="60", `+
		dpopAlgs+`, `+rm+`, Bearer realm="api", `+rm, strings.Join(res.Header.Values("WWW-Authenticate"), ", "))
	res = send("/transfers", false, old)
	assert.Equal(t, 401, res.StatusCode)
	assert.Equal(t, `Bearer realm="api", error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="60", `+
		rm+`, DPoP realm="api", `+dpopAlgs+`, `+rm, strings.Join(res.Header.Values("WWW-Authenticate"), ", "))
}

// TestGuardSchemeFromContext: the scheme is recorded with the verified
// proof in the request context, so a guard answers in DPoP even when a
// handler in between removed the Authorization header (as one that
// forwards the request without the client's credentials would).
func TestGuardSchemeFromContext(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	strip := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = r.Clone(r.Context())
			r.Header.Del("Authorization")
			r.Header.Del("DPoP")
			next.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(middleware.New(v, middleware.WithDPoP(nil, middleware.DPoPAllowed))(
		strip(scopes.RequireScope("read:contacts")(ok))))
	t.Cleanup(srv.Close)
	k := dpoptest.GenerateKey("ES256")
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/contacts", nil)
	require.NoError(t, err)
	k.Authorize(req, iss.Mint(k.Bind()))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 403, res.StatusCode)
	assert.Equal(t, `DPoP realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="read:contacts", `+dpopAlgs,
		strings.Join(res.Header.Values("WWW-Authenticate"), ", "))
}
