package validator_test

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// keysFixture loads a committed test key (see testdata/keys/README.md).
func keysFixture(t *testing.T, file, kid, alg string) *testkit.Key {
	t.Helper()
	data, err := os.ReadFile("../testdata/keys/" + file)
	require.NoError(t, err)
	k, err := testkit.ParseKeyPEM(kid, alg, data)
	require.NoError(t, err)
	return k
}

// with returns a copy of the JWK m with the members of extra set (a nil
// value deletes the member).
func jwkWith(m map[string]any, extra map[string]any) map[string]any {
	out := maps.Clone(m)
	for k, v := range extra {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// auth0StyleJWK is k as Auth0 publishes it: with an x5c certificate and the
// legacy x5t, base64url of the hex SHA-1 thumbprint (which jwkset's
// default validation refuses, so keyfunc/v3 loads zero keys).
func auth0StyleJWK(t *testing.T, k *testkit.Key) map[string]any {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "dev-tenant.auth0.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Private.Public(), k.Private)
	require.NoError(t, err)
	sum := sha1.Sum(der)
	return jwkWith(k.JWK(), map[string]any{
		"x5c": []string{base64.StdEncoding.EncodeToString(der)},
		"x5t": base64.RawURLEncoding.EncodeToString([]byte(strings.ToUpper(hex.EncodeToString(sum[:])))),
	})
}

// Every hostile key-set variant: New loads what the key policy keeps (or
// fails when nothing is left), tokens verify only with kept keys, and each
// case costs the JWKS requests listed (1 to load, +1 when a refused key's
// kid triggers the one unknown-kid refresh; ambiguity triggers none).
func TestKeysHostileKeySets(t *testing.T) {
	t.Parallel()
	good := testkit.GenerateKey("good", "ES256")
	other := testkit.GenerateKey("other", "ES256")
	weak := keysFixture(t, "rsa-1024-weak.pem", "weak", "RS256")
	rsaKey := keysFixture(t, "rsa-2048.pem", "auth0-kid", "RS256")
	dupA := testkit.GenerateKey("dup", "ES256")
	dupB := testkit.GenerateKey("dup", "ES256")
	octJWK := map[string]any{"kty": "oct", "kid": "hs", "alg": "HS256", "use": "sig", "k": base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))}
	var many []any
	for i := range validator.MaxJWKSKeys + 1 {
		many = append(many, jwkWith(good.JWK(), map[string]any{"kid": fmt.Sprint("k", i)}))
	}

	tests := []struct {
		name     string
		keys     any            // the "keys" member served
		loads    bool           // New succeeds
		accept   []*testkit.Key // keys whose tokens verify
		reject   []*testkit.Key // keys whose tokens are refused with ErrUnknownKey
		requests int            // JWKS requests after the tokens
	}{
		{name: "use enc", keys: []any{jwkWith(good.JWK(), map[string]any{"use": "enc"})}},
		{name: "key_ops without verify", keys: []any{jwkWith(good.JWK(), map[string]any{"use": nil, "key_ops": []string{"encrypt", "sign"}})}},
		{name: "key_ops with verify", keys: []any{jwkWith(good.JWK(), map[string]any{"use": nil, "key_ops": []string{"verify"}})},
			loads: true, accept: []*testkit.Key{good}, requests: 1},
		{name: "oct only", keys: []any{octJWK}},
		{name: "oct beside a good key", keys: []any{octJWK, good.JWK()}, loads: true, accept: []*testkit.Key{good}, requests: 1},
		{name: "RSA 1024 only", keys: []any{weak.JWK()}},
		{name: "RSA 1024 beside a good key", keys: []any{weak.JWK(), good.JWK()},
			loads: true, accept: []*testkit.Key{good}, reject: []*testkit.Key{weak}, requests: 2},
		{name: "alg does not fit the curve", keys: []any{jwkWith(good.JWK(), map[string]any{"alg": "ES384"}), other.JWK()},
			loads: true, accept: []*testkit.Key{other}, reject: []*testkit.Key{good}, requests: 2},
		{name: "crv does not fit the coordinates", keys: []any{jwkWith(good.JWK(), map[string]any{"crv": "P-384"}), other.JWK()},
			loads: true, accept: []*testkit.Key{other}, reject: []*testkit.Key{good}, requests: 2},
		{name: "alg of another family", keys: []any{jwkWith(good.JWK(), map[string]any{"alg": "RS256"}), other.JWK()},
			loads: true, accept: []*testkit.Key{other}, reject: []*testkit.Key{good}, requests: 2},
		{name: "private members", keys: []any{jwkWith(good.JWK(), map[string]any{"d": "AAAA"}), other.JWK()},
			loads: true, accept: []*testkit.Key{other}, reject: []*testkit.Key{good}, requests: 2},
		{name: "malformed keys beside a good one", keys: []any{
			map[string]any{"kty": "RSA", "kid": "bad-n", "n": "!!!", "e": "AQAB"},
			map[string]any{"kty": "EC", "kid": "off-curve", "crv": "P-256", "x": "AQ", "y": "AQ"},
			map[string]any{"kty": "OKP", "kid": "x25519", "crv": "X25519", "x": base64.RawURLEncoding.EncodeToString(make([]byte, 32))},
			map[string]any{"kid": "no-kty"},
			"not an object", 42,
			good.JWK(),
		}, loads: true, accept: []*testkit.Key{good}, requests: 1},
		{name: "duplicate kid", keys: []any{dupA.JWK(), dupB.JWK(), good.JWK()},
			loads: true, accept: []*testkit.Key{good}, reject: []*testkit.Key{dupA, dupB}, requests: 1},
		{name: "Auth0 legacy hex x5t", keys: []any{auth0StyleJWK(t, rsaKey)}, loads: true, accept: []*testkit.Key{rsaKey}, requests: 1},
		{name: "empty set", keys: []any{}},
		{name: "keys null", keys: nil},
		{name: "too many keys", keys: many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := newES256Issuer(t, "unused")
			iss.SetJWKS(keysJSON(t, map[string]any{"keys": tt.keys}))
			logs := &keysLog{}
			cfg := keysConfig(iss, logs)
			cfg.Algorithms = []string{"ES256", "RS256"}
			v, err := newKeys(context.Background(), cfg)
			if !tt.loads {
				require.ErrorIs(t, err, validator.ErrKeysUnavailable)
				assert.Equal(t, 1, iss.JWKSRequests())
				return
			}
			require.NoError(t, err)
			defer v.Close()
			for _, k := range tt.accept {
				_, err := v.Validate(context.Background(), iss.Mint(testkit.WithKey(k)))
				assert.NoError(t, err, "key %s", k.ID)
			}
			for _, k := range tt.reject {
				_, err := v.Validate(context.Background(), iss.Mint(testkit.WithKey(k)))
				assert.ErrorIs(t, err, validator.ErrUnknownKey, "key %s", k.ID)
			}
			assert.Equal(t, tt.requests, iss.JWKSRequests())
			if strings.Contains(tt.name, "beside") || strings.Contains(tt.name, "fit") || strings.Contains(tt.name, "private") {
				assert.Equal(t, 1, logs.count(slog.LevelWarn, "skipped by the key policy"), "skipped keys are reported once")
			}
		})
	}
}

// A huge JWKS body is cut off at MaxJWKSBytes: the refresh fails without
// reading (or the server writing) anything near the 64 MiB served.
func TestKeysHugeBodyIsNotReadWhole(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	iss.SetFault(testkit.FaultHugeBody)
	_, err := newKeys(context.Background(), keysConfig(iss, nil))
	require.ErrorIs(t, err, validator.ErrKeysUnavailable)
	assert.Contains(t, err.Error(), "larger than")
	assert.Equal(t, 1, iss.JWKSRequests())
	// The server stops once the client hangs up; socket buffers absorb a
	// few MiB at most.
	assert.Eventually(t, func() bool { return iss.JWKSBytesWritten() > validator.MaxJWKSBytes }, keysWait, time.Millisecond)
	assert.Less(t, iss.JWKSBytesWritten(), int64(testkit.HugeBodySize/4))
}
