package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/resource"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"

	"github.com/apiguard/apiguard/examples/internal/api"
)

// contract is the API on an httptest server with tokens from a test issuer
// whose claims the tests choose. These tests pin the API contract of issue
// 13 that tests outside the project rely on.
type contract struct {
	iss      *validatortest.Issuer
	settings api.Settings
	srv      *httptest.Server
}

func newContract(t *testing.T, dpop api.DPoP) *contract {
	t.Helper()
	iss := validatortest.NewIssuer()
	t.Cleanup(iss.Close)
	cfg := iss.Config()
	v, err := validator.New(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	s := api.Settings{Issuer: cfg.Issuer, Audience: cfg.Audiences[0], DPoP: dpop}
	srv := httptest.NewServer(api.NewHandler(v, s))
	t.Cleanup(srv.Close)
	return &contract{iss: iss, settings: s, srv: srv}
}

// do sends method path with token and host (both optional) and returns the
// answer with its body decoded.
func (c *contract) do(t *testing.T, method, path, token, host string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.srv.URL+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func TestMetadataContract(t *testing.T) {
	c := newContract(t, api.DPoP{})
	resp, m := c.do(t, http.MethodGet, "/.well-known/oauth-protected-resource", "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, c.settings.Audience, m["resource"], "resource is the -audience value")
	assert.Equal(t, []any{c.settings.Issuer}, m["authorization_servers"], "the -issuer value")
	assert.Contains(t, m["scopes_supported"], "read:contacts")
	assert.Equal(t, []any{"header"}, m["bearer_methods_supported"])
	assert.Equal(t, []any{"ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA"}, m["dpop_signing_alg_values_supported"],
		"DPoP is allowed by default")
	assert.NotContains(t, m, "dpop_bound_access_tokens_required")
	// Browser clients read it cross-origin.
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
}

func TestMetadataDPoPModes(t *testing.T) {
	tests := []struct {
		name         string
		dpop         api.DPoP
		wantAlgs     any // nil: absent
		wantRequired any
	}{
		{"off", api.DPoP{Mode: api.DPoPOff}, nil, nil},
		{"allowed, own algorithms", api.DPoP{Mode: api.DPoPAllowed, Algs: []string{"ES256"}}, []any{"ES256"}, nil},
		{"required", api.DPoP{Mode: api.DPoPRequired}, []any{"ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newContract(t, tt.dpop)
			_, m := c.do(t, http.MethodGet, "/.well-known/oauth-protected-resource", "", "")
			assert.Equal(t, tt.wantAlgs, m["dpop_signing_alg_values_supported"])
			assert.Equal(t, tt.wantRequired, m["dpop_bound_access_tokens_required"])
		})
	}
}

// TestMetadataNotAURL: an Auth0 API identifier need not be a URL; the API
// then still runs, without metadata, and says why at start-up.
func TestMetadataNotAURL(t *testing.T) {
	iss := validatortest.NewIssuer()
	t.Cleanup(iss.Close)
	cfg := iss.Config()
	cfg.Audiences = []string{"contacts-api"}
	v, err := validator.New(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	s := api.Settings{Issuer: cfg.Issuer, Audience: "contacts-api"}
	assert.Contains(t, s.MetadataWarning(), "contacts-api")
	srv := httptest.NewServer(api.NewHandler(v, s))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + resource.WellKnown)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err = http.Get(srv.URL + "/api/private")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, `Bearer realm="api"`, resp.Header.Get("WWW-Authenticate"))

	assert.Empty(t, api.Settings{Issuer: cfg.Issuer, Audience: "https://contacts.example.com"}.MetadataWarning())
}

// TestChallengesPointToMetadata: every 401 and 403 carries
// resource_metadata built from the request's Host.
func TestChallengesPointToMetadata(t *testing.T) {
	c := newContract(t, api.DPoP{})
	noScope := c.iss.Mint(validatortest.WithScope("openid"))
	old := c.iss.Mint(validatortest.WithClaim("acr", scopes.MultiFactorACR),
		validatortest.WithClaim("auth_time", time.Now().Add(-time.Hour).Unix()))
	tests := []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"no token", "/api/private", "", 401, ""},
		{"invalid token", "/api/private", "abc.def.ghi", 401, "invalid_token"},
		{"no scope", "/api/contacts", noScope, 403, "insufficient_scope"},
		{"step-up", "/api/mfa", old, 401, "insufficient_user_authentication"},
	}
	for _, tt := range tests {
		for _, host := range []string{"", "api.example.test:8443"} {
			t.Run(tt.name+" "+host, func(t *testing.T) {
				resp, _ := c.do(t, http.MethodGet, tt.path, tt.token, host)
				require.Equal(t, tt.status, resp.StatusCode)
				want := host
				if want == "" {
					want = strings.TrimPrefix(c.srv.URL, "http://")
				}
				h := resp.Header.Get("WWW-Authenticate")
				assert.Contains(t, h, `resource_metadata="http://`+want+`/.well-known/oauth-protected-resource"`)
				if tt.code != "" {
					assert.Contains(t, h, `error="`+tt.code+`"`)
				}
			})
		}
	}
}

func TestMFAContract(t *testing.T) {
	c := newContract(t, api.DPoP{})
	now := time.Now()
	mint := func(opts ...validatortest.TokenOption) string { return c.iss.Mint(opts...) }
	acr := validatortest.WithClaim("acr", scopes.MultiFactorACR)
	at := func(ago time.Duration) validatortest.TokenOption {
		return validatortest.WithClaim("auth_time", now.Add(-ago).Unix())
	}
	good := mint(acr, at(time.Minute))
	// A valid signature over other claims: the last signature byte flipped.
	forged := good[:len(good)-2] + map[bool]string{true: "A", false: "B"}[good[len(good)-2] != 'A'] + good[len(good)-1:]
	tests := []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"mfa acr, recent", good, 200, ""},
		{"amr mfa, recent", mint(validatortest.WithClaim("amr", []string{"pwd", "mfa"}), at(time.Minute)), 200, ""},
		{"mfa acr, 599 s ago", mint(acr, at(599*time.Second)), 200, ""},
		{"mfa acr, too old", mint(acr, at(20*time.Minute)), 401, "insufficient_user_authentication"},
		{"mfa acr, no auth_time", mint(acr), 401, "insufficient_user_authentication"},
		{"password only", mint(validatortest.WithClaim("acr", "http://schemas.openid.net/pape/policies/2007/06/none"), validatortest.WithClaim("amr", []string{"pwd"}), at(time.Minute)), 401, "insufficient_user_authentication"},
		{"no acr at all", mint(at(time.Minute)), 401, "insufficient_user_authentication"},
		{"auth_time in milliseconds", mint(acr, validatortest.WithClaim("auth_time", now.UnixMilli())), 401, "insufficient_user_authentication"},
		{"bad signature", forged, 401, "invalid_token"},
		{"no token", "", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := c.do(t, http.MethodGet, "/api/mfa", tt.token, "")
			require.Equal(t, tt.status, resp.StatusCode, "body %v", body)
			h := resp.Header.Get("WWW-Authenticate")
			if tt.status == 200 {
				assert.Empty(t, h)
				return
			}
			if tt.code == "" {
				assert.NotContains(t, h, "error=")
				return
			}
			assert.Contains(t, h, `error="`+tt.code+`"`)
			assert.Equal(t, tt.code, body["error"])
			if tt.code == "insufficient_user_authentication" {
				assert.Contains(t, h, `acr_values="http://schemas.openid.net/pape/policies/2007/06/multi-factor"`)
				assert.Contains(t, h, `max_age="600"`)
				assert.Equal(t, "http://schemas.openid.net/pape/policies/2007/06/multi-factor", body["acr_values"])
				assert.Equal(t, "600", body["max_age"])
			} else {
				assert.NotContains(t, h, "acr_values", "a bad signature is invalid_token first")
			}
		})
	}
}
