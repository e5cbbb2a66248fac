package validator_test

// Regression tests for the review fixes of issue 10 that live in the
// validator: key policy (5, 6), discovery (7), cached claims (4), cache key
// comparison (9), issuer hints (14) and error messages (17). Each fails on
// the code before its fix. They sign tokens with golang-jwt directly, so
// they depend on no test kit.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/validator"
)

const (
	rvIssuer   = "https://issuer.example/"
	rvAudience = "https://api.example.com"
)

func rvRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("../testdata/keys/rsa-2048.pem")
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	require.NoError(t, err)
	return k.(*rsa.PrivateKey)
}

// rvSign signs an Auth0-shaped token with priv under alg and kid.
func rvSign(t testing.TB, priv crypto.Signer, alg, kid string, edit func(map[string]any)) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"iss": rvIssuer, "sub": "auth0|u", "aud": rvAudience, "iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "scope": "read:contacts write:contacts"}
	if edit != nil {
		edit(c)
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(priv)
	require.NoError(t, err)
	return s
}

func rvJWK(pub crypto.PublicKey, kid, alg string) map[string]any {
	enc := base64.RawURLEncoding.EncodeToString
	m := map[string]any{"kid": kid, "use": "sig"}
	if alg != "" {
		m["alg"] = alg
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", enc(p.N.Bytes()), enc(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		b, _ := p.Bytes()
		size := (len(b) - 1) / 2
		m["kty"], m["crv"], m["x"], m["y"] = "EC", p.Curve.Params().Name, enc(b[1:1+size]), enc(b[1+size:])
	}
	return m
}

func rvJWKS(t testing.TB, keys ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	return b
}

func rvValidator(t testing.TB, keys validator.KeySource, edit func(*validator.Config)) *validator.Validator {
	t.Helper()
	cfg := validator.Config{Issuer: rvIssuer, Audiences: []string{rvAudience}, Keys: keys}
	if edit != nil {
		edit(&cfg)
	}
	v, err := validator.New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	return v
}

// bigModulus is an odd number of exactly bits bits: material for a public
// key that is only ever refused, so it needs no primes.
func bigModulus(t testing.TB, bits int) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits-1)))
	require.NoError(t, err)
	n.SetBit(n, bits-1, 1)
	return n.SetBit(n, 0, 1)
}

// keyFunc is a KeySource of the user's, answering with one fixed key.
type keyFunc func(kid, alg string) (*validator.Key, error)

func (f keyFunc) Key(_ context.Context, kid, alg string) (*validator.Key, error) { return f(kid, alg) }

// Issue 10 item 5: RSA keys above 8192 bits cost too much per forged token.
func TestRSAKeysAbove8192BitsRefused(t *testing.T) {
	huge := &rsa.PublicKey{N: bigModulus(t, 8200), E: 65537}
	t.Run("JWKS", func(t *testing.T) {
		_, err := validator.ParseJWKS(rvJWKS(t, rvJWK(huge, "huge", "RS256")))
		require.Error(t, err, "a JWKS whose only key is too large keeps no key")
		assert.Contains(t, err.Error(), "longer than 8192 bits", "the error says why the key was skipped")
	})
	t.Run("NewKeySet", func(t *testing.T) {
		_, err := validator.NewKeySet(&validator.Key{ID: "huge", Public: huge})
		require.Error(t, err)
	})
	t.Run("custom key source", func(t *testing.T) {
		v := rvValidator(t, keyFunc(func(string, string) (*validator.Key, error) {
			return &validator.Key{ID: "k", Algorithm: "RS256", Public: huge}, nil
		}), nil)
		// The token is signed by another key: what matters is that the
		// huge key is refused before any (costly) verification.
		_, err := v.Validate(context.Background(), rvSign(t, rvRSAKey(t), "RS256", "k", nil))
		require.ErrorIs(t, err, validator.ErrSignature)
		var ve *validator.Error
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "key does not fit alg", ve.Reason)
	})
	t.Run("8192 bits still accepted", func(t *testing.T) {
		_, err := validator.NewKeySet(&validator.Key{ID: "big", Public: &rsa.PublicKey{N: bigModulus(t, 8192), E: 65537}})
		require.NoError(t, err)
	})
}

// Issue 10 item 6: a JWK without alg verifies one algorithm only
// (RFC 8725 section 3.1).
func TestKeyWithoutAlgVerifiesOneAlgorithm(t *testing.T) {
	priv := rvRSAKey(t)
	set, err := validator.ParseJWKS(rvJWKS(t, rvJWK(&priv.PublicKey, "k", "")))
	require.NoError(t, err)
	require.NoError(t, set.Skipped())
	v := rvValidator(t, set, func(c *validator.Config) {
		c.Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	})
	for _, alg := range []string{"RS384", "RS512", "PS256", "PS384", "PS512"} {
		_, err := v.Validate(context.Background(), rvSign(t, priv, alg, "k", nil))
		assert.ErrorIs(t, err, validator.ErrSignature, alg)
	}
	_, err = v.Validate(context.Background(), rvSign(t, priv, "RS256", "k", nil))
	require.NoError(t, err, "an RSA key without alg verifies RS256, the JWA default")

	// A key that names its alg verifies that one.
	set, err = validator.ParseJWKS(rvJWKS(t, rvJWK(&priv.PublicKey, "k", "PS256")))
	require.NoError(t, err)
	v = rvValidator(t, set, func(c *validator.Config) { c.Algorithms = []string{"RS256", "PS256"} })
	_, err = v.Validate(context.Background(), rvSign(t, priv, "PS256", "k", nil))
	require.NoError(t, err)
	_, err = v.Validate(context.Background(), rvSign(t, priv, "RS256", "k", nil))
	assert.ErrorIs(t, err, validator.ErrSignature)
}

// Issue 10 item 7: for an https issuer, a discovered jwks_uri on plain
// http (even loopback) is a downgrade and is refused.
func TestDiscoveryRefusesHTTPJWKSForHTTPSIssuer(t *testing.T) {
	priv := rvRSAKey(t)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(rvJWKS(t, rvJWK(&priv.PublicKey, "k", "RS256")))
	}))
	defer plain.Close()
	var iss string
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": plain.URL + "/jwks"})
	}))
	defer tlsSrv.Close()
	iss = tlsSrv.URL + "/"
	_, err := validator.NewRemoteKeySet(context.Background(), validator.RemoteConfig{
		Issuer: iss, Discovery: true, HTTPClient: tlsSrv.Client(),
		FetchTimeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler),
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, validator.ErrKeysUnavailable)
	assert.Contains(t, err.Error(), "downgrade")
}

// Issue 10 item 4: with the cache on, no handler can change what another
// request sees.
func TestCachedClaimsAreNotShared(t *testing.T) {
	priv := rvRSAKey(t)
	set, err := validator.NewKeySet(&validator.Key{ID: "k", Algorithm: "RS256", Public: &priv.PublicKey})
	require.NoError(t, err)
	v := rvValidator(t, set, func(c *validator.Config) { c.CacheSize = 16 })
	tok := rvSign(t, priv, "RS256", "k", func(c map[string]any) {
		c["https://example.com/roles"] = []string{"reader"}
	})
	ctx := context.Background()
	for i := range 3 {
		c, err := v.Validate(ctx, tok)
		require.NoError(t, err)
		require.Equal(t, []string{"read:contacts", "write:contacts"}, c.Scopes, "request %d", i)
		require.Equal(t, []string{rvAudience}, c.Audience, "request %d", i)
		raw, ok := c.Raw("https://example.com/roles")
		require.True(t, ok)
		require.Equal(t, `["reader"]`, string(raw), "request %d", i)
		// A careless handler.
		c.Scopes[0] = "admin"
		c.Audience[0] = "elsewhere"
		c.Subject = "someone else"
		copy(raw, bytes.Repeat([]byte("x"), len(raw)))
	}
	require.Equal(t, 1, v.CachedTokens())
}

// swapKey is a key source that changes its key's material in place.
type swapKey struct{ key atomic.Pointer[validator.Key] }

func (s *swapKey) Key(context.Context, string, string) (*validator.Key, error) {
	return s.key.Load(), nil
}

// Issue 10 item 9: a cache hit compares the key itself, not its pointer.
func TestCacheHitComparesKeyMaterial(t *testing.T) {
	priv := rvRSAKey(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	k := &validator.Key{ID: "k", Algorithm: "RS256", Public: &rsa.PublicKey{N: new(big.Int).Set(priv.N), E: priv.E}}
	src := &swapKey{}
	src.key.Store(k)
	v := rvValidator(t, src, func(c *validator.Config) { c.CacheSize = 16 })
	tok := rvSign(t, priv, "RS256", "k", nil)
	ctx := context.Background()
	_, err = v.Validate(ctx, tok)
	require.NoError(t, err)

	// The same *Key now holds another key's material.
	k.Public.(*rsa.PublicKey).N.Set(other.N)
	_, err = v.Validate(ctx, tok)
	require.ErrorIs(t, err, validator.ErrSignature, "a full check would refuse the token, so the hit must too")

	// Another *Key with the original material is the same key: a hit.
	src.key.Store(&validator.Key{ID: "k", Algorithm: "RS256", Public: &priv.PublicKey})
	_, err = v.Validate(ctx, tok)
	require.NoError(t, err)
	_, err = v.Validate(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, 1, v.CachedTokens())

	// An EC key replaced in place.
	ec1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := ec1.PublicKey
	ek := &validator.Key{ID: "e", Algorithm: "ES256", Public: &pub}
	src.key.Store(ek)
	v = rvValidator(t, src, func(c *validator.Config) { c.CacheSize = 16; c.Algorithms = []string{"ES256"} })
	etok := rvSign(t, ec1, "ES256", "e", nil)
	_, err = v.Validate(ctx, etok)
	require.NoError(t, err)
	*ek.Public.(*ecdsa.PublicKey) = ec2.PublicKey
	_, err = v.Validate(ctx, etok)
	require.ErrorIs(t, err, validator.ErrSignature)
}

// recordLogs is a slog handler that keeps messages.
type recordLogs struct{ msgs *[]string }

func (h recordLogs) Enabled(context.Context, slog.Level) bool { return true }
func (h recordLogs) Handle(_ context.Context, r slog.Record) error {
	*h.msgs = append(*h.msgs, r.Level.String()+" "+r.Message)
	return nil
}
func (h recordLogs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordLogs) WithGroup(string) slog.Handler      { return h }

// Issue 10 item 14: an issuer differing only by a trailing slash is named
// as such, and New warns about an Auth0 issuer without its slash.
func TestIssuerTrailingSlashHint(t *testing.T) {
	priv := rvRSAKey(t)
	set, err := validator.NewKeySet(&validator.Key{ID: "k", Algorithm: "RS256", Public: &priv.PublicKey})
	require.NoError(t, err)
	for _, tc := range []struct{ configured, iss string }{
		{"https://issuer.example/", "https://issuer.example"},
		{"https://issuer.example", "https://issuer.example/"},
	} {
		v := rvValidator(t, set, func(c *validator.Config) { c.Issuer = tc.configured })
		_, err := v.Validate(context.Background(), rvSign(t, priv, "RS256", "k", func(c map[string]any) { c["iss"] = tc.iss }))
		require.ErrorIs(t, err, validator.ErrIssuer)
		assert.Contains(t, err.Error(), "only by a trailing slash", tc)
	}
	v := rvValidator(t, set, nil)
	_, err = v.Validate(context.Background(), rvSign(t, priv, "RS256", "k", func(c map[string]any) { c["iss"] = "https://other.example/" }))
	require.ErrorIs(t, err, validator.ErrIssuer)
	assert.NotContains(t, err.Error(), "slash")

	var msgs []string
	logger := slog.New(recordLogs{&msgs})
	rvValidator(t, set, func(c *validator.Config) { c.Issuer = "https://tenant.us.auth0.com"; c.Logger = logger })
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "WARN")
	assert.Contains(t, msgs[0], `"https://tenant.us.auth0.com/"`)
	msgs = nil
	rvValidator(t, set, func(c *validator.Config) { c.Issuer = "https://tenant.us.auth0.com/"; c.Logger = logger })
	rvValidator(t, set, func(c *validator.Config) { c.Issuer = "https://login.example.com"; c.Logger = logger })
	assert.Empty(t, msgs, "no warning with the slash, nor for other issuers")
}

// Issue 10 item 17: errors that say how to fix things.
func TestErrorsSayHowToFix(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	t.Run("failed JWKS fetch names the URL", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		_, err := validator.New(context.Background(), validator.Config{
			Issuer: srv.URL + "/", Audiences: []string{rvAudience}, Logger: quiet,
		})
		require.Error(t, err)
		assert.Contains(t, err.Error(), srv.URL+"/.well-known/jwks.json")
		assert.Contains(t, err.Error(), "404")
	})
	t.Run("a JWKS that is not one names the URL", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<html>") }))
		defer srv.Close()
		_, err := validator.NewRemoteKeySet(context.Background(), validator.RemoteConfig{
			Issuer: srv.URL + "/", JWKSURL: srv.URL + "/keys", Logger: quiet,
		})
		require.Error(t, err)
		assert.Contains(t, err.Error(), srv.URL+"/keys")
	})
	t.Run("bare domain", func(t *testing.T) {
		_, err := validator.New(context.Background(), validator.Config{Issuer: "tenant.us.auth0.com", Audiences: []string{rvAudience}, Logger: quiet})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `want scheme and host, such as "https://tenant.us.auth0.com/"`)
		assert.Equal(t, 1, strings.Count(err.Error(), "validator:"), "one prefix: %s", err)
	})
	t.Run("plain http issuer", func(t *testing.T) {
		_, err := validator.New(context.Background(), validator.Config{Issuer: "http://issuer.example/", Audiences: []string{rvAudience}, Logger: quiet})
		require.Error(t, err)
		assert.Equal(t, 1, strings.Count(err.Error(), "validator:"), "one prefix: %s", err)
	})
	t.Run("wrong audience names the accepted ones", func(t *testing.T) {
		priv := rvRSAKey(t)
		set, err := validator.NewKeySet(&validator.Key{ID: "k", Algorithm: "RS256", Public: &priv.PublicKey})
		require.NoError(t, err)
		v := rvValidator(t, set, func(c *validator.Config) { c.Audiences = []string{"https://a.example", "https://b.example"} })
		_, err = v.Validate(context.Background(), rvSign(t, priv, "RS256", "k", nil))
		require.ErrorIs(t, err, validator.ErrAudience)
		assert.Contains(t, err.Error(), `"https://a.example", "https://b.example"`)
	})
}
