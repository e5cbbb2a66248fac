package validator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// Several issuers: each has its own key set; the token's iss selects it
// before any lookup, so a key of one issuer never verifies a token of
// another, even under the same kid; an unknown issuer costs no fetch.
func TestKeysSeveralIssuers(t *testing.T) {
	t.Parallel()
	a := newES256Issuer(t, "shared-kid")
	bKey := testkit.GenerateKey("shared-kid", "ES256")
	b := testkit.NewIssuer(bKey)
	t.Cleanup(b.Close)
	b.Rotate(testkit.GenerateKey("b-only", "ES256"))
	static := testkit.GenerateKey("static-1", "ES256")
	staticSet, err := validator.NewKeySet(static.Public())
	require.NoError(t, err)
	const staticIss = "https://static.example/"

	cfg := keysConfig(a, nil)
	cfg.ExtraIssuers = []validator.IssuerConfig{
		{Issuer: b.URL},
		{Issuer: staticIss, Keys: staticSet},
	}
	v := newKeysValidator(t, cfg)
	require.Equal(t, 1, a.JWKSRequests())
	require.Equal(t, 1, b.JWKSRequests())

	tests := []struct {
		name       string
		token      string
		want       error
		aReq, bReq int
	}{
		{"A's token", a.Mint(), nil, 1, 1},
		{"B's token", b.Mint(), nil, 1, 1},
		{"B's token, static issuer's key", b.Mint(testkit.WithKey(static), testkit.WithClaim("iss", staticIss)), nil, 1, 1},
		{"A's iss, B's key under the shared kid", b.Mint(testkit.WithKey(bKey), testkit.WithClaim("iss", a.URL)), validator.ErrSignature, 1, 1},
		{"A's iss, a kid only B publishes", b.Mint(testkit.WithClaim("iss", a.URL)), validator.ErrUnknownKey, 2, 1},
		{"unknown issuer", b.Mint(testkit.WithClaim("iss", "https://unknown.example/")), validator.ErrIssuer, 2, 1},
		{"static issuer, A's key", a.Mint(testkit.WithClaim("iss", staticIss)), validator.ErrUnknownKey, 2, 1},
	}
	for _, tt := range tests { // in order: the request counts add up
		_, err := v.Validate(context.Background(), tt.token)
		if tt.want == nil {
			assert.NoError(t, err, tt.name)
		} else {
			assert.ErrorIs(t, err, tt.want, tt.name)
		}
		assert.Equal(t, tt.aReq, a.JWKSRequests(), "%s: A's JWKS requests", tt.name)
		assert.Equal(t, tt.bReq, b.JWKSRequests(), "%s: B's JWKS requests", tt.name)
	}
}

// Ready reports each issuer; one issuer down does not stop the others.
func TestKeysReadySeveralIssuers(t *testing.T) {
	t.Parallel()
	a := newES256Issuer(t, "a")
	b := newES256Issuer(t, "b")
	b.SetFault(testkit.FaultDown)
	cfg := keysConfig(a, nil)
	cfg.Extra = []string{b.URL}
	cfg.StartWithoutKeys = true
	v := newKeysValidator(t, cfg)

	require.Eventually(t, func() bool {
		_, err := v.Validate(context.Background(), a.Mint())
		return err == nil
	}, keysWait, 5*time.Millisecond)
	err := v.Ready(context.Background())
	require.ErrorIs(t, err, validator.ErrKeysUnavailable)
	assert.Contains(t, err.Error(), b.URL)
	assert.NotContains(t, err.Error(), a.URL)
	_, err = v.Validate(context.Background(), b.Mint())
	assert.ErrorIs(t, err, validator.ErrKeysUnavailable)

	b.SetFault(testkit.NoFault)
	require.Eventually(t, func() bool { return v.Ready(context.Background()) == nil }, keysWait, 5*time.Millisecond)
	_, err = v.Validate(context.Background(), b.Mint())
	assert.NoError(t, err)
}

// OpenID Connect discovery finds the JWKS once; the document must name
// the configured issuer and an https (or loopback) jwks_uri.
func TestKeysDiscovery(t *testing.T) {
	t.Parallel()
	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		iss := newES256Issuer(t, "k1")
		cfg := keysConfig(iss, nil)
		cfg.Discovery = true
		cfg.RefreshInterval = 30 * time.Millisecond
		v := newKeysValidator(t, cfg)
		_, err := v.Validate(context.Background(), iss.Mint())
		require.NoError(t, err)
		require.Eventually(t, func() bool { return iss.JWKSRequests() >= 3 }, keysWait, 5*time.Millisecond)
		assert.Equal(t, 1, iss.DiscoveryRequests(), "the jwks_uri is discovered once")
	})
	for _, tt := range []struct {
		name   string
		doc    func(iss *testkit.Issuer) map[string]any
		errHas string
	}{
		{"other issuer", func(iss *testkit.Issuer) map[string]any {
			return map[string]any{"issuer": "https://evil.example/", "jwks_uri": iss.JWKSURL()}
		}, "names issuer"},
		{"issuer without trailing slash", func(iss *testkit.Issuer) map[string]any {
			return map[string]any{"issuer": strings.TrimSuffix(iss.URL, "/"), "jwks_uri": iss.JWKSURL()}
		}, "names issuer"},
		{"plain http jwks_uri", func(iss *testkit.Issuer) map[string]any {
			return map[string]any{"issuer": iss.URL, "jwks_uri": "http://keys.example/jwks.json"}
		}, "https"},
		{"no jwks_uri", func(iss *testkit.Issuer) map[string]any {
			return map[string]any{"issuer": iss.URL}
		}, "jwks_uri"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := newES256Issuer(t, "k1")
			doc := tt.doc(iss)
			iss.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/.well-known/openid-configuration" {
					json.NewEncoder(w).Encode(doc)
					return
				}
				w.Write(iss.JWKS())
			}))
			cfg := keysConfig(iss, nil)
			cfg.Discovery = true
			_, err := newKeys(context.Background(), cfg)
			require.ErrorIs(t, err, validator.ErrKeysUnavailable)
			assert.Contains(t, err.Error(), tt.errHas)
			assert.Equal(t, 1, iss.DiscoveryRequests())
			assert.Equal(t, 0, iss.JWKSRequests())
		})
	}
}

// Plain http issuer or JWKS URLs are refused unless the host is a
// loopback address; NewRemoteKeySet refuses them without any request.
func TestKeysRefusePlainHTTP(t *testing.T) {
	t.Parallel()
	base := validator.RemoteConfig{StartWithoutKeys: true}
	tests := []struct {
		name    string
		issuer  string
		jwksURL string
		ok      bool
	}{
		{"http issuer", "http://tenant.example/", "", false},
		{"http issuer, https JWKS", "http://tenant.example/", "https://tenant.example/jwks", false},
		{"http JWKS", "https://tenant.example/", "http://tenant.example/jwks", false},
		{"http issuer by discovery", "http://tenant.example/", "", false},
		{"JWKS URL with credentials", "https://tenant.example/", "https://user:pw@tenant.example/jwks", false},
		{"relative JWKS URL", "https://tenant.example/", "/jwks", false},
		{"ftp JWKS URL", "https://tenant.example/", "ftp://tenant.example/jwks", false},
		{"https", "https://tenant.invalid/", "", true},
		{"non-URL issuer, explicit JWKS URL", "urn:example:issuer", "https://tenant.invalid/jwks", true},
		{"non-URL issuer, Auth0 convention", "urn:example:issuer", "", false},
		{"http loopback v4", "http://127.0.0.1:1/", "", true},
		{"http loopback v6", "http://[::1]:1/", "", true},
		{"http localhost", "http://localhost:1/", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := base
			cfg.Issuer, cfg.JWKSURL = tt.issuer, tt.jwksURL
			cfg.Discovery = strings.Contains(tt.name, "discovery")
			cfg.Logger = discardLogger()
			set, err := validator.NewRemoteKeySet(context.Background(), cfg)
			if tt.ok {
				require.NoError(t, err)
				set.Close()
				return
			}
			require.Error(t, err)
			assert.Regexp(t, "must use https|not an absolute URL|carries credentials", err.Error())
			assert.NotContains(t, err.Error(), "pw", "credentials are not echoed")
		})
	}
}

// Redirects stay on the JWKS URL's host and never downgrade to http.
func TestKeysRedirects(t *testing.T) {
	t.Parallel()
	plain := newES256Issuer(t, "k1")
	tests := []struct {
		name string
		to   func(iss *testkit.Issuer) string
		ok   bool
	}{
		{"same host", func(iss *testkit.Issuer) string { return iss.JWKSURL() }, true},
		{"to plain http, same host and port", func(iss *testkit.Issuer) string {
			return "http" + strings.TrimPrefix(iss.JWKSURL(), "https")
		}, false},
		{"to plain http elsewhere", func(*testkit.Issuer) string { return plain.JWKSURL() }, false},
		{"to another host", func(iss *testkit.Issuer) string {
			return strings.Replace(iss.JWKSURL(), "127.0.0.1", "localhost", 1)
		}, false},
		{"redirect loop", func(iss *testkit.Issuer) string { return iss.URL + "moved" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := testkit.NewTLSIssuer(testkit.GenerateKey("k1", "ES256"))
			t.Cleanup(iss.Close)
			target := tt.to(iss)
			iss.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/moved" {
					http.Redirect(w, r, target, http.StatusFound)
					return
				}
				w.Write(iss.JWKS())
			}))
			cfg := keysConfig(iss, nil)
			cfg.JWKSURL = iss.URL + "moved"
			before := plain.JWKSRequests()
			v, err := newKeys(context.Background(), cfg)
			if tt.ok {
				require.NoError(t, err)
				v.Close()
			} else {
				require.ErrorIs(t, err, validator.ErrKeysUnavailable)
				assert.Contains(t, err.Error(), "redirect")
			}
			assert.Equal(t, before, plain.JWKSRequests(), "the plain issuer is never asked")
		})
	}
}
