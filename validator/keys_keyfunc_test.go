package validator_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/jwtadapter"
)

// jwtadapter.Keyfunc serves golang-jwt the Validator's keys: same issuer
// binding, same alg allow-list, same unknown-kid refresh.
func TestKeysKeyfunc(t *testing.T) {
	t.Parallel()
	a := newES256Issuer(t, "k1")
	b := newES256Issuer(t, "k1")
	dupA := testkit.GenerateKey("dup", "ES256")
	dupB := testkit.GenerateKey("dup", "ES256")
	cfg := keysConfig(a, nil)
	cfg.ExtraIssuers = []validator.IssuerConfig{{Issuer: b.URL}}
	v := newKeysValidator(t, cfg)
	kf := jwtadapter.Keyfunc(context.Background(), v.Validator)
	parse := func(token string) error {
		_, err := jwt.Parse(token, kf, jwt.WithValidMethods([]string{"ES256", "RS256"}), jwt.WithAudience(testkit.DefaultAudience))
		return err
	}

	require.NoError(t, parse(a.Mint()))
	require.NoError(t, parse(b.Mint()))
	require.NoError(t, parse(a.Mint(testkit.WithoutHeader("kid"))), "a set of one key serves a token without kid")
	assert.ErrorIs(t, parse(b.Mint(testkit.WithClaim("iss", a.URL))), jwt.ErrTokenSignatureInvalid,
		"B's key never verifies a token claiming A")
	assert.ErrorIs(t, parse(a.Mint(testkit.WithClaim("iss", "https://unknown.example/"))), validator.ErrIssuer)
	rsa := keysFixture(t, "rsa-2048.pem", "k1", "RS256")
	assert.ErrorIs(t, parse(a.Mint(testkit.WithKey(rsa))), validator.ErrAlgorithm)
	assert.Equal(t, 1, a.JWKSRequests())

	// A rotation is picked up through the storage's unknown-kid refresh.
	a.Rotate(testkit.GenerateKey("k2", "ES256"))
	require.NoError(t, parse(a.Mint()))
	assert.Equal(t, 2, a.JWKSRequests())
	assert.ErrorIs(t, parse(tokenWithKid(a, "ES256", "nope")), validator.ErrUnknownKey)
	assert.Equal(t, 2, a.JWKSRequests(), "within the cool-down")

	// An ambiguous kid never verifies.
	b.SetKeys(dupA, dupB)
	b.Rotate(dupA)
	require.Eventually(t, func() bool { return parse(b.Mint()) != nil }, keysWait, time.Millisecond)
	assert.ErrorIs(t, parse(b.Mint()), validator.ErrUnknownKey)
}

// A static key set (Config.Keys) works through Keyfunc too.
func TestKeysKeyfuncStaticSet(t *testing.T) {
	t.Parallel()
	k := testkit.GenerateKey("s1", "ES256")
	set, err := validator.NewKeySet(k.Public())
	require.NoError(t, err)
	iss := newES256Issuer(t, "unused")
	cfg := iss.Config()
	cfg.Keys = set
	v := newValidator(t, cfg)
	_, err = jwt.Parse(iss.Mint(testkit.WithKey(k)), jwtadapter.Keyfunc(context.Background(), v), jwt.WithValidMethods([]string{"ES256"}))
	require.NoError(t, err)
	_, err = jwt.Parse(tokenWithKid(iss, "ES256", "other"), jwtadapter.Keyfunc(context.Background(), v), jwt.WithValidMethods([]string{"ES256"}))
	assert.ErrorIs(t, err, validator.ErrUnknownKey)
	assert.Equal(t, 0, iss.JWKSRequests())
}

// Keyfunc refuses the header parameters and typ that Validate refuses,
// although golang-jwt itself would ignore them.
func TestKeysKeyfuncHeaderRules(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	v := newKeysValidator(t, keysConfig(iss, nil)).Validator
	for name, tc := range map[string]struct {
		opt  testkit.TokenOption
		want error
	}{
		"crit":             {testkit.WithHeader("crit", []string{"exp-policy"}), validator.ErrHeader},
		"b64":              {testkit.WithHeader("b64", false), validator.ErrHeader},
		"jku":              {testkit.WithHeader("jku", "https://attacker.example/jwks"), validator.ErrHeader},
		"x5c":              {testkit.WithHeader("x5c", []string{"MIIB"}), validator.ErrHeader},
		"nested JWT":       {testkit.WithHeader("cty", "JWT"), validator.ErrHeader},
		"ID token typ":     {testkit.WithHeader("typ", "id+jwt"), validator.ErrTokenType},
		"typ not a string": {testkit.WithHeader("typ", 1), validator.ErrMalformed},
	} {
		_, err := jwt.Parse(iss.Mint(tc.opt), jwtadapter.Keyfunc(context.Background(), v), jwt.WithValidMethods([]string{"ES256"}))
		assert.ErrorIs(t, err, tc.want, name)
		_, err = v.Validate(context.Background(), iss.Mint(tc.opt))
		assert.ErrorIs(t, err, tc.want, name+": Validate agrees")
	}
}

// customKeys is a user's KeySource that answers every lookup with one key,
// whatever it is: the validator, not the source, must apply the key policy.
type customKeys struct{ k *validator.Key }

func (c customKeys) Key(context.Context, string, string) (*validator.Key, error) { return c.k, nil }

// Keyfunc applies the key policy that Validate applies to a custom
// KeySource's keys (issue 10 item 2): a nil key, an RSA key under 2048 bits
// and a key restricted to another alg are refused by both paths, where
// Keyfunc used to panic on the first and verify with the other two.
func TestKeysKeyfuncCustomSourcePolicy(t *testing.T) {
	t.Parallel()
	weak := keysFixture(t, "rsa-1024-weak.pem", "weak", "RS256")
	strong := keysFixture(t, "rsa-2048.pem", "k1", "RS256")
	ecSigner := testkit.GenerateKey("k1", "ES256")
	iss := newES256Issuer(t, "unused")
	for name, tc := range map[string]struct {
		key  *validator.Key
		sign *testkit.Key
		want error
	}{
		"nil key":                    {nil, strong, validator.ErrUnknownKey},
		"1024-bit RSA":               {weak.Public(), weak, validator.ErrSignature},
		"key bound to PS256":         {&validator.Key{ID: "k1", Algorithm: "PS256", Public: strong.Private.Public()}, strong, validator.ErrSignature},
		"EC key without coordinates": {&validator.Key{ID: "k1", Public: &ecdsa.PublicKey{Curve: elliptic.P256()}}, ecSigner, validator.ErrSignature},
		"even RSA exponent":          {&validator.Key{ID: "k1", Public: &rsa.PublicKey{N: strong.Private.Public().(*rsa.PublicKey).N, E: 65536}}, strong, validator.ErrSignature},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := iss.Config()
			cfg.Algorithms = []string{"RS256", "PS256", "ES256"}
			cfg.Keys = customKeys{tc.key}
			v := newValidator(t, cfg)
			token := iss.Mint(testkit.WithKey(tc.sign))
			_, err := v.Validate(context.Background(), token)
			require.ErrorIs(t, err, tc.want, "Validate")
			require.NotPanics(t, func() {
				_, err = jwt.Parse(token, jwtadapter.Keyfunc(context.Background(), v), jwt.WithValidMethods([]string{"RS256", "PS256", "ES256"}))
			})
			require.ErrorIs(t, err, tc.want, "Keyfunc")
		})
	}
}
