package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/examples/internal/api"
	"github.com/apiguard/apiguard/examples/internal/fakeoidc"
)

const audience = "https://contacts.example.com"

func TestParseConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name             string
		args             []string
		env              map[string]string
		wantIss, wantAud string
		wantJWKS         string
		wantDiscovery    bool
		wantWarning      bool
		wantErr          bool
	}{
		{name: "flags", args: []string{"-issuer", "https://t.auth0.com/", "-audience", "https://a"}, wantIss: "https://t.auth0.com/", wantAud: "https://a"},
		{name: "env", env: map[string]string{"AUTH0_DOMAIN": "tenant.us.auth0.com", "AUTH0_AUDIENCE": "https://a"}, wantIss: "https://tenant.us.auth0.com/", wantAud: "https://a"},
		{name: "env with scheme and slash", env: map[string]string{"AUTH0_DOMAIN": "https://tenant.us.auth0.com/", "AUTH0_AUDIENCE": "https://a"}, wantIss: "https://tenant.us.auth0.com/", wantAud: "https://a"},
		{name: "flags win", args: []string{"-issuer", "http://127.0.0.1:9/", "-audience", "x"}, env: map[string]string{"AUTH0_DOMAIN": "t", "AUTH0_AUDIENCE": "y"}, wantIss: "http://127.0.0.1:9/", wantAud: "x"},
		{name: "missing audience", args: []string{"-issuer", "https://t/"}, wantErr: true},
		{name: "missing issuer", args: []string{"-audience", "x"}, wantErr: true},
		{name: "AUTH0_DOMAIN with another scheme", env: map[string]string{"AUTH0_DOMAIN": "http://tenant.us.auth0.com", "AUTH0_AUDIENCE": "https://a"}, wantErr: true},
		// An issuer is taken exactly as given: most OpenID providers write
		// iss without a trailing slash.
		{name: "issuer without slash", args: []string{"-issuer", "https://login.example.com", "-audience", "x"}, wantIss: "https://login.example.com", wantAud: "x"},
		{name: "Auth0 issuer without slash warns", args: []string{"-issuer", "https://t.us.auth0.com", "-audience", "x"}, wantIss: "https://t.us.auth0.com", wantAud: "x", wantWarning: true},
		{name: "jwks-url", args: []string{"-issuer", "https://i", "-audience", "x", "-jwks-url", "https://i/jwks"}, wantIss: "https://i", wantAud: "x", wantJWKS: "https://i/jwks"},
		{name: "discovery", args: []string{"-issuer", "https://i", "-audience", "x", "-discovery"}, wantIss: "https://i", wantAud: "x", wantDiscovery: true},
		{name: "jwks-url and discovery", args: []string{"-issuer", "https://i", "-audience", "x", "-discovery", "-jwks-url", "https://i/jwks"}, wantErr: true},
		{name: "stray argument", args: []string{"-issuer", "https://i", "-audience", "x", "extra"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, env(tt.env), io.Discard)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantIss, c.Issuer)
			assert.Equal(t, tt.wantAud, c.Audience)
			assert.Equal(t, tt.wantJWKS, c.JWKSURL)
			assert.Equal(t, tt.wantDiscovery, c.Discovery)
			assert.Equal(t, tt.wantWarning, len(c.warnings) > 0, "warnings %q", c.warnings)
		})
	}
}

// startAPI starts the API as main does, from the command line args, on an
// httptest server.
func startAPI(t *testing.T, args ...string) *httptest.Server {
	t.Helper()
	c, err := parseConfig(append(args, "-audience", audience), func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	v, closeValidator, err := newValidator(c, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(closeValidator)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = api.NewServer(api.NewHandler(v, c.Settings))
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// get calls path with token (if any) and a client that gives up after
// timeout.
func get(t *testing.T, srv *httptest.Server, path, token string, timeout time.Duration) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	require.NoError(t, err, "GET %s", path)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestOtherProviderLayout: a provider whose issuer has no trailing slash
// and whose keys are at /jwks works with -jwks-url and with -discovery.
func TestOtherProviderLayout(t *testing.T) {
	p := fakeoidc.New(t)
	token := p.Mint(t, audience, "read:contacts")
	for name, args := range map[string][]string{
		"jwks-url":  {"-issuer", p.Issuer, "-jwks-url", p.JWKSURL},
		"discovery": {"-issuer", p.Issuer, "-discovery"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := startAPI(t, args...)
			assert.Equal(t, http.StatusOK, get(t, srv, "/api/contacts", token, 10*time.Second).StatusCode)
			assert.Equal(t, http.StatusUnauthorized, get(t, srv, "/api/contacts", "", 10*time.Second).StatusCode)
		})
	}
}

// TestIssuerDownAtStart: the API starts while the JWKS answers 500, says
// so on /readyz and with 503 + Retry-After on protected routes, and serves
// valid tokens once the issuer answers, without a restart.
func TestIssuerDownAtStart(t *testing.T) {
	p := fakeoidc.New(t)
	p.Fail(http.StatusInternalServerError)
	token := p.Mint(t, audience, "read:contacts")
	srv := startAPI(t, "-issuer", p.Issuer, "-jwks-url", p.JWKSURL)

	assert.Equal(t, http.StatusOK, get(t, srv, "/healthz", "", 10*time.Second).StatusCode)
	assert.Equal(t, http.StatusServiceUnavailable, get(t, srv, "/readyz", "", 10*time.Second).StatusCode)
	assert.Equal(t, http.StatusOK, get(t, srv, "/api/public", "", 10*time.Second).StatusCode)
	resp := get(t, srv, "/api/private", token, 10*time.Second)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))

	p.Recover()
	// The bound the API promises: keys within 60 s of the issuer's return.
	require.Eventually(t, func() bool {
		return get(t, srv, "/api/private", token, 10*time.Second).StatusCode == http.StatusOK
	}, 60*time.Second, 200*time.Millisecond, "valid token still refused after the issuer came back")
	assert.Equal(t, http.StatusOK, get(t, srv, "/readyz", "", 10*time.Second).StatusCode)
}

// TestIssuerHangsAtStart: a JWKS that hangs for 20 s does not keep the API
// from starting and answering within 10 s.
func TestIssuerHangsAtStart(t *testing.T) {
	p := fakeoidc.New(t)
	p.Hang(20 * time.Second)
	token := p.Mint(t, audience, "read:contacts")
	srv := startAPI(t, "-issuer", p.Issuer, "-discovery")

	// Each client gives up after 10 s: an answer at all is the test.
	assert.Equal(t, http.StatusOK, get(t, srv, "/healthz", "", 10*time.Second).StatusCode)
	assert.Equal(t, http.StatusServiceUnavailable, get(t, srv, "/readyz", "", 10*time.Second).StatusCode)
	resp := get(t, srv, "/api/contacts", token, 10*time.Second)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	p.Recover()
	require.Eventually(t, func() bool {
		return get(t, srv, "/api/contacts", token, 10*time.Second).StatusCode == http.StatusOK
	}, 60*time.Second, 200*time.Millisecond)
}

// TestServerTimeouts: the API's server bounds every phase of a connection,
// not only the headers.
func TestServerTimeouts(t *testing.T) {
	srv := api.NewServer(http.NotFoundHandler())
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		assert.Positive(t, d, name)
	}
	assert.Positive(t, srv.MaxHeaderBytes)
	assert.Less(t, srv.MaxHeaderBytes, http.DefaultMaxHeaderBytes)
	// The slowest answer (a request waiting for a key fetch) fits.
	assert.Greater(t, srv.WriteTimeout, 2*time.Second)
}

// TestMetadataFromFlags: the metadata's resource is the -audience value and
// its authorization server the -issuer value, exactly as given.
func TestMetadataFromFlags(t *testing.T) {
	p := fakeoidc.New(t)
	srv := startAPI(t, "-issuer", p.Issuer, "-jwks-url", p.JWKSURL)
	resp, err := http.Get(srv.URL + "/.well-known/oauth-protected-resource")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var m struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	assert.Equal(t, audience, m.Resource)
	assert.Equal(t, []string{p.Issuer}, m.AuthorizationServers)
}
