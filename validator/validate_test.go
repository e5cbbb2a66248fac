package validator_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/jwtadapter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The helpers of this file are shared by validate_test.go,
// security_test.go and fuzz_test.go; their names start with "sec" so they
// cannot clash with other test files of the package.

// secSentinels is every error class of the package.
var secSentinels = []error{
	validator.ErrMalformed, validator.ErrAlgorithm, validator.ErrHeader,
	validator.ErrTokenType, validator.ErrUnknownKey, validator.ErrSignature,
	validator.ErrExpired, validator.ErrNotYetValid, validator.ErrIssuer,
	validator.ErrAudience, validator.ErrClaims, validator.ErrKeysUnavailable,
}

// Reasons, as *validator.Error.Reason spells them.
const (
	rTooLarge     = "token too large"
	rSegments     = "not a compact JWS of three segments"
	rEncoding     = "segment is not canonical unpadded base64url"
	rHeaderJSON   = "header is not a valid JSON object"
	rNoAlg        = "alg missing or not a string"
	rAlg          = "alg not allowed"
	rTyp          = "typ does not fit the access token profile"
	rBadSig       = "signature does not verify"
	rKeyMismatch  = "key does not fit alg"
	rNoKid        = "no kid and more than one key"
	rKid          = "no usable key with that kid"
	rKidLen       = "kid too long"
	rIssuer       = "iss is not the configured issuer"
	rIssuerSlash  = "iss differs from a configured issuer only by a trailing slash; configure the issuer exactly as the tokens' iss"
	rAudience     = `aud holds no accepted audience (accepted: "https://api.example.com")`
	rNoExp        = "exp missing"
	rExpired      = "exp is in the past"
	rNbf          = "nbf is in the future"
	rIat          = "iat is in the future"
	rDuplicate    = "invalid claims set: duplicate member name"
	rCaseVariant  = "invalid claims set: a member name is a letter-case variant of a registered claim"
	rBadUTF8      = "invalid claims set: invalid UTF-8"
	rNotObject    = "invalid claims set: not a JSON object"
	rSyntax       = "invalid claims set: malformed JSON"
	rWrongType    = "invalid claims set: a registered claim has the wrong type"
	rDateType     = "invalid claims set: a numeric date is not a JSON number"
	rDateRange    = "invalid claims set: a numeric date is out of range"
	rAudienceType = "invalid claims set: aud is neither a string nor an array of strings"
)

func rHeader(param string) string { return param + " is not supported" }

// secErr checks that err is exactly an error of class want (and, when
// reason is not empty, exactly that reason), and that its message quotes
// none of the secrets: the token, its segments, header values or claims.
func secErr(t testing.TB, err error, want error, reason string, secrets ...string) {
	t.Helper()
	require.Error(t, err, "want %v", want)
	var e *validator.Error
	require.ErrorAs(t, err, &e, "every rejection is a *validator.Error")
	require.ErrorIs(t, err, want)
	assert.Same(t, want, e.Class)
	var matched []string
	for _, s := range secSentinels {
		if errors.Is(err, s) {
			matched = append(matched, s.Error())
		}
	}
	assert.Len(t, matched, 1, "exactly one class must match, got %q", matched)
	assert.Equal(t, want != validator.ErrKeysUnavailable, errors.Is(err, validator.ErrInvalidToken),
		"all classes but ErrKeysUnavailable are ErrInvalidToken")
	if reason != "" {
		assert.Equal(t, reason, e.Reason)
	}
	msg := err.Error()
	for _, s := range secrets {
		for _, part := range append([]string{s}, strings.SplitN(s, ".", 4)...) {
			if len(part) >= 6 {
				assert.NotContains(t, msg, part, "the error message quotes the input")
			}
		}
	}
}

var secKeys sync.Map // file|kid|alg -> *testkit.Key

// secKey loads a committed fixture key from ../testdata/keys.
func secKey(t testing.TB, file, kid, alg string) *testkit.Key {
	t.Helper()
	id := file + "|" + kid + "|" + alg
	if k, ok := secKeys.Load(id); ok {
		return k.(*testkit.Key)
	}
	data, err := os.ReadFile(filepath.Join("..", "testdata", "keys", file))
	require.NoError(t, err)
	k, err := testkit.ParseKeyPEM(kid, alg, data)
	require.NoError(t, err)
	secKeys.Store(id, k)
	return k
}

// secClock is a settable clock for Config.Now.
type secClock struct{ ns atomic.Int64 }

func (c *secClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *secClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func newSecClock(t time.Time) *secClock { c := &secClock{}; c.Set(t); return c }

// secNow is the fixed "now" of these tests.
var secNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// secCounting counts key lookups: a token refused before key selection
// costs none, and so cannot cost a fetch or a signature check either.
type secCounting struct {
	src validator.KeySource
	n   atomic.Int64
}

func (c *secCounting) Key(ctx context.Context, kid, alg string) (*validator.Key, error) {
	c.n.Add(1)
	return c.src.Key(ctx, kid, alg)
}

// secEnv is one issuer with the fixture keys, and two validators that
// trust it: remote fetches its JWKS over HTTP (the fetch counter proves
// which tokens cost a fetch), local uses the same keys through a counting
// static source (the lookup counter proves which tokens reach key
// selection).
type secEnv struct {
	iss            *testkit.Issuer
	remote, local  *validator.Validator
	lookups        *secCounting
	clock          *secClock
	cfg            validator.Config
	rsa            *testkit.Key // kid "rsa-1", RS256: the signing key
	rsaPS          *testkit.Key // same RSA key as kid "rsa-ps", PS256
	ec256, ec384   *testkit.Key
	ec521, ed25519 *testkit.Key
	attacker       *testkit.Key // RSA, never published; kid "rsa-1"
}

type secOption func(*secEnv)

// secAlgorithms is the allow-list of the default environment: every
// supported family but PS*, RS384 and RS512, so that "not allowed" can be
// tested with algorithms the package does support.
var secAlgorithms = []string{"RS256", "ES256", "ES384", "ES512", "EdDSA"}

func withConfig(f func(*validator.Config)) secOption {
	return func(e *secEnv) { f(&e.cfg) }
}

// withoutJWKAlg publishes the keys without their "alg" member, so that
// only the key type and curve decide which alg a key may verify.
func withoutJWKAlg() secOption {
	return func(e *secEnv) {
		var keys []map[string]any
		for _, k := range []*testkit.Key{e.rsa, e.ec256, e.ec384, e.ec521, e.ed25519} {
			jwk := k.JWK()
			delete(jwk, "alg")
			keys = append(keys, jwk)
		}
		e.iss.SetJWKS(secJSON(map[string]any{"keys": keys}))
	}
}

func newSecEnv(t testing.TB, opts ...secOption) *secEnv {
	t.Helper()
	e := &secEnv{
		rsa:      secKey(t, "rsa-2048.pem", "rsa-1", "RS256"),
		rsaPS:    secKey(t, "rsa-2048.pem", "rsa-ps", "PS256"),
		ec256:    secKey(t, "ec-p256.pem", "ec-256", "ES256"),
		ec384:    secKey(t, "ec-p384.pem", "ec-384", "ES384"),
		ec521:    secKey(t, "ec-p521.pem", "ec-521", "ES512"),
		ed25519:  secKey(t, "ed25519.pem", "ed-1", "EdDSA"),
		attacker: secKey(t, "rsa-2048-attacker.pem", "rsa-1", "RS256"),
		clock:    newSecClock(secNow),
	}
	e.iss = testkit.NewIssuer(e.rsa, e.rsaPS, e.ec256, e.ec384, e.ec521, e.ed25519)
	t.Cleanup(e.iss.Close)
	e.cfg = e.iss.Config()
	e.cfg.Algorithms = secAlgorithms
	e.cfg.Now = e.clock.Now
	e.cfg.Logger = slog.New(slog.DiscardHandler)
	for _, o := range opts {
		o(e)
	}
	ctx := context.Background()
	var err error
	e.remote, err = validator.New(ctx, e.cfg)
	require.NoError(t, err)
	t.Cleanup(func() { e.remote.Close() })

	set, err := validator.ParseJWKS(e.iss.JWKS())
	require.NoError(t, err)
	e.lookups = &secCounting{src: set}
	local := e.cfg
	local.Keys = e.lookups
	e.local, err = validator.New(ctx, local)
	require.NoError(t, err)
	return e
}

// claims returns the claims of a valid token at the env's clock.
func (e *secEnv) claims() map[string]any {
	now := e.clock.Now()
	c := testkit.DefaultClaims(e.iss.URL)
	c["iat"] = now.Unix()
	c["exp"] = now.Add(time.Hour).Unix()
	return c
}

// mint returns a token valid at the env's clock unless opts change it.
func (e *secEnv) mint(opts ...testkit.TokenOption) string {
	now := e.clock.Now()
	base := []testkit.TokenOption{
		testkit.WithClaim("iat", now.Unix()),
		testkit.WithExpiry(now.Add(time.Hour)),
	}
	return e.iss.Mint(append(base, opts...)...)
}

// raw signs header and payload bytes as given with k (nil: no signature).
func (e *secEnv) raw(k *testkit.Key, header, payload string) string {
	return testkit.SignRaw(k, []byte(header), []byte(payload), nil)
}

// Lookup rules: how far a token may get before it is refused.
type secReach int

const (
	// noLookup: refused before key selection, so no fetch and no
	// signature check either.
	noLookup secReach = iota
	// lookup: reaches key selection (and maybe signature verification),
	// but never fetches the JWKS.
	lookup
	// mayFetch: an unknown kid, which may cost one rate-limited JWKS
	// refresh.
	mayFetch
)

// check validates token with both validators and asserts the outcome,
// the lookups and the fetches.
func (e *secEnv) check(t *testing.T, token string, want error, reason string, reach secReach, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	fetches, lookups := e.iss.JWKSRequests(), e.lookups.n.Load()

	c, err := e.remote.Validate(ctx, token)
	assert.Nil(t, c)
	secErr(t, err, want, reason, append(secrets, token)...)

	c, err = e.local.Validate(ctx, token)
	assert.Nil(t, c)
	secErr(t, err, want, reason, append(secrets, token)...)

	fetched := e.iss.JWKSRequests() - fetches
	switch reach {
	case noLookup:
		assert.Zero(t, e.lookups.n.Load()-lookups, "refused before key selection")
		assert.Zero(t, fetched, "no JWKS fetch")
	case lookup:
		assert.Zero(t, fetched, "no JWKS fetch")
	case mayFetch:
		assert.LessOrEqual(t, fetched, 1, "at most one rate-limited refresh")
	}
}

// accept validates token with both validators and returns the claims.
func (e *secEnv) accept(t *testing.T, token string) *claims.Claims {
	t.Helper()
	fetches := e.iss.JWKSRequests()
	c, err := e.remote.Validate(context.Background(), token)
	require.NoError(t, err)
	require.NotNil(t, c)
	c2, err := e.local.Validate(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, c.Subject, c2.Subject)
	assert.Zero(t, e.iss.JWKSRequests()-fetches, "a known key costs no fetch")
	return c
}

func TestValidateAcceptsEachAlgorithm(t *testing.T) {
	rsaFile := "rsa-2048.pem"
	tests := []struct {
		file, alg string
	}{
		{rsaFile, "RS256"}, {rsaFile, "RS384"}, {rsaFile, "RS512"},
		{rsaFile, "PS256"}, {rsaFile, "PS384"}, {rsaFile, "PS512"},
		{"ec-p256.pem", "ES256"}, {"ec-p384.pem", "ES384"}, {"ec-p521.pem", "ES512"},
		{"ed25519.pem", "EdDSA"},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			k := secKey(t, tt.file, "k-"+tt.alg, tt.alg)
			set, err := validator.NewKeySet(k.Public())
			require.NoError(t, err)
			const iss = "https://tenant.example.com/"
			v, err := validator.New(context.Background(), validator.Config{
				Issuer: iss, Audiences: []string{testkit.DefaultAudience},
				Algorithms: []string{tt.alg}, Keys: set, Now: func() time.Time { return secNow },
			})
			require.NoError(t, err)
			claimSet := testkit.DefaultClaims(iss)
			claimSet["iat"] = secNow.Unix()
			claimSet["exp"] = secNow.Add(time.Hour).Unix()
			claimSet["https://example.com/roles"] = []string{"admin"}
			token := (&testkit.Token{
				Header: map[string]any{"alg": tt.alg, "typ": "JWT", "kid": k.ID},
				Claims: claimSet,
				Key:    k,
			}).Sign()
			c, err := v.Validate(context.Background(), token)
			require.NoError(t, err)
			assert.Equal(t, iss, c.Issuer)
			assert.Equal(t, "auth0|test-user", c.Subject)
			assert.Equal(t, []string{testkit.DefaultAudience}, c.Audience)
			assert.Equal(t, secNow.Add(time.Hour), c.ExpiresAt)
			assert.Equal(t, []string{"openid", "profile"}, c.Scopes)
			roles, err := claims.Get[[]string](c, "https://example.com/roles")
			require.NoError(t, err)
			assert.Equal(t, []string{"admin"}, roles)

			got, err := jwtadapter.ValidateToken(v)(context.Background(), token)
			require.NoError(t, err)
			assert.IsType(t, &claims.Claims{}, got)
		})
	}
}

func TestValidateThroughTheIssuersJWKS(t *testing.T) {
	e := newSecEnv(t)
	require.Equal(t, 1, e.iss.JWKSRequests(), "New loads the key set once")
	for _, k := range []*testkit.Key{e.rsa, e.ec256, e.ec384, e.ec521, e.ed25519} {
		c := e.accept(t, e.mint(testkit.WithKey(k), testkit.WithScope("read:contacts")))
		assert.True(t, c.HasScope("read:contacts"))
	}
	assert.Equal(t, 1, e.iss.JWKSRequests(), "known kids never cost a fetch")
}

func TestValidateTimeBoundaries(t *testing.T) {
	e := newSecEnv(t)
	exp := secNow.Add(time.Hour)
	tests := []struct {
		name   string
		now    time.Time
		opts   []testkit.TokenOption
		want   error
		reason string
	}{
		{"well before exp", exp.Add(-time.Minute), nil, nil, ""},
		{"exactly at exp (leeway 10 s)", exp, nil, nil, ""},
		{"at exp + leeway - 1 s", exp.Add(validator.DefaultLeeway - time.Second), nil, nil, ""},
		{"at exp + leeway - 1 ns", exp.Add(validator.DefaultLeeway - 1), nil, nil, ""},
		{"at exp + leeway", exp.Add(validator.DefaultLeeway), nil, validator.ErrExpired, rExpired},
		{"an hour after exp", exp.Add(time.Hour), nil, validator.ErrExpired, rExpired},
		{"exp missing", secNow, []testkit.TokenOption{testkit.WithoutClaim("exp")}, validator.ErrExpired, rNoExp},
		{"exp 0 (the epoch)", secNow, []testkit.TokenOption{testkit.WithClaim("exp", 0)}, validator.ErrExpired, rExpired},
		{"fractional exp, 0.5 s before exp+leeway", exp.Add(validator.DefaultLeeway), []testkit.TokenOption{testkit.WithClaim("exp", float64(exp.Unix())+0.5)}, nil, ""},
		{"fractional exp, at exp+leeway", exp.Add(validator.DefaultLeeway + 500*time.Millisecond), []testkit.TokenOption{testkit.WithClaim("exp", float64(exp.Unix())+0.5)}, validator.ErrExpired, rExpired},

		{"nbf now", secNow, []testkit.TokenOption{testkit.WithClaim("nbf", secNow.Unix())}, nil, ""},
		{"nbf now + leeway", secNow, []testkit.TokenOption{testkit.WithClaim("nbf", secNow.Add(validator.DefaultLeeway).Unix())}, nil, ""},
		{"nbf now + leeway + 1 s", secNow, []testkit.TokenOption{testkit.WithClaim("nbf", secNow.Add(validator.DefaultLeeway+time.Second).Unix())}, validator.ErrNotYetValid, rNbf},
		{"nbf fractional, just past the leeway", secNow, []testkit.TokenOption{testkit.WithClaim("nbf", float64(secNow.Add(validator.DefaultLeeway).Unix())+0.001)}, validator.ErrNotYetValid, rNbf},
		{"nbf 0", secNow, []testkit.TokenOption{testkit.WithClaim("nbf", 0)}, nil, ""},

		{"iat now + leeway", secNow, []testkit.TokenOption{testkit.WithClaim("iat", secNow.Add(validator.DefaultLeeway).Unix())}, nil, ""},
		{"iat now + leeway + 1 s", secNow, []testkit.TokenOption{testkit.WithClaim("iat", secNow.Add(validator.DefaultLeeway+time.Second).Unix())}, validator.ErrNotYetValid, rIat},
		{"iat in the far future", secNow, []testkit.TokenOption{testkit.WithClaim("iat", secNow.AddDate(10, 0, 0).Unix())}, validator.ErrNotYetValid, rIat},
		{"iat missing (Auth0 profile)", secNow, []testkit.TokenOption{testkit.WithoutClaim("iat")}, nil, ""},
		{"iat long ago", secNow, []testkit.TokenOption{testkit.WithClaim("iat", 0)}, nil, ""},

		{"exp past and nbf future: exp first", exp.Add(time.Hour), []testkit.TokenOption{testkit.WithClaim("nbf", exp.Add(2*time.Hour).Unix())}, validator.ErrExpired, rExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Set(secNow)
			token := e.mint(tt.opts...)
			e.clock.Set(tt.now)
			defer e.clock.Set(secNow)
			if tt.want == nil {
				e.accept(t, token)
				return
			}
			e.check(t, token, tt.want, tt.reason, lookup)
		})
	}
}

func TestValidateLeeway(t *testing.T) {
	k := secKey(t, "rsa-2048.pem", "rsa-1", "RS256")
	set, err := validator.NewKeySet(k.Public())
	require.NoError(t, err)
	exp := secNow.Add(time.Hour)
	iss := testkit.NewIssuer(k)
	defer iss.Close()
	token := iss.Mint(testkit.WithClaim("iat", secNow.Unix()), testkit.WithExpiry(exp))

	newV := func(leeway time.Duration, now time.Time) (*validator.Validator, error) {
		cfg := iss.Config()
		cfg.Keys, cfg.Leeway = set, leeway
		cfg.Now = func() time.Time { return now }
		return validator.New(context.Background(), cfg)
	}
	for _, tt := range []struct {
		name   string
		leeway time.Duration
		now    time.Time
		ok     bool
	}{
		{"zero means the default (10 s): inside", 0, exp.Add(9 * time.Second), true},
		{"zero means the default (10 s): outside", 0, exp.Add(10 * time.Second), false},
		{"1 ns: at exp", time.Nanosecond, exp, true},
		{"1 ns: at exp + 1 ns", time.Nanosecond, exp.Add(time.Nanosecond), false},
		{"MaxLeeway: inside", validator.MaxLeeway, exp.Add(validator.MaxLeeway - time.Second), true},
		{"MaxLeeway: outside", validator.MaxLeeway, exp.Add(validator.MaxLeeway), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := newV(tt.leeway, tt.now)
			require.NoError(t, err)
			_, err = v.Validate(context.Background(), token)
			if tt.ok {
				require.NoError(t, err)
			} else {
				secErr(t, err, validator.ErrExpired, rExpired, token)
			}
		})
	}
	for _, bad := range []time.Duration{validator.MaxLeeway + time.Nanosecond, time.Hour, -time.Second} {
		_, err := newV(bad, secNow)
		assert.Error(t, err, "New refuses Leeway %v", bad)
	}
}

func TestValidateProfiles(t *testing.T) {
	auth0 := newSecEnv(t)
	rfc := newSecEnv(t, withConfig(func(c *validator.Config) { c.Profile = validator.ProfileRFC9068 }))
	rfcClaims := []testkit.TokenOption{
		testkit.WithClaim("client_id", "c1"), testkit.WithClaim("jti", "j1"),
	}
	typ := func(v any) []testkit.TokenOption {
		return append([]testkit.TokenOption{testkit.WithHeader("typ", v)}, rfcClaims...)
	}
	tests := []struct {
		name          string
		opts          []testkit.TokenOption
		auth0, rfc    error
		auth0R, rfcR  string
		auth0Reach    secReach
		rfcReachLater secReach
	}{
		{"typ JWT", typ("JWT"), nil, validator.ErrTokenType, "", rTyp, 0, noLookup},
		{"typ jwt", typ("jwt"), nil, validator.ErrTokenType, "", rTyp, 0, noLookup},
		{"typ at+jwt", typ("at+jwt"), nil, nil, "", "", 0, 0},
		{"typ AT+JWT", typ("AT+JWT"), nil, nil, "", "", 0, 0},
		{"typ application/at+jwt", typ("application/at+jwt"), nil, nil, "", "", 0, 0},
		{"typ Application/AT+JWT", typ("Application/AT+JWT"), nil, nil, "", "", 0, 0},
		{"typ missing", append([]testkit.TokenOption{testkit.WithoutHeader("typ")}, rfcClaims...), validator.ErrTokenType, validator.ErrTokenType, rTyp, rTyp, noLookup, noLookup},
		{"typ empty", typ(""), validator.ErrTokenType, validator.ErrTokenType, rTyp, rTyp, noLookup, noLookup},
		{"typ JOSE", typ("JOSE"), validator.ErrTokenType, validator.ErrTokenType, rTyp, rTyp, noLookup, noLookup},
		{"typ application/jwt", typ("application/jwt"), validator.ErrTokenType, validator.ErrTokenType, rTyp, rTyp, noLookup, noLookup},
		{"typ JWT with a space", typ("JWT "), validator.ErrTokenType, validator.ErrTokenType, rTyp, rTyp, noLookup, noLookup},
		{"typ at+jwt with a parameter", typ("at+jwt; charset=utf-8"), validator.ErrTokenType, validator.ErrTokenType, rTyp, rTyp, noLookup, noLookup},
		{"typ id_token+jwt", typ("id_token+jwt"), validator.ErrTokenType, validator.ErrTokenType, rTyp, rTyp, noLookup, noLookup},
		{"typ logout+jwt", typ("logout+jwt"), validator.ErrTokenType, validator.ErrTokenType, rTyp, rTyp, noLookup, noLookup},
		{"typ a number", typ(1), validator.ErrMalformed, validator.ErrMalformed, rHeaderJSON, rHeaderJSON, noLookup, noLookup},

		{"sub missing", []testkit.TokenOption{testkit.WithHeader("typ", "at+jwt"), testkit.WithoutClaim("sub"), rfcClaims[0], rfcClaims[1]}, validator.ErrClaims, validator.ErrClaims, "sub missing", "sub missing", lookup, lookup},
		{"sub empty", []testkit.TokenOption{testkit.WithHeader("typ", "at+jwt"), testkit.WithSubject(""), rfcClaims[0], rfcClaims[1]}, validator.ErrClaims, validator.ErrClaims, "sub missing", "sub missing", lookup, lookup},
		{"client_id missing (azp is Auth0's)", []testkit.TokenOption{testkit.WithHeader("typ", "at+jwt"), rfcClaims[1]}, nil, validator.ErrClaims, "", "client_id missing", 0, lookup},
		{"jti missing", []testkit.TokenOption{testkit.WithHeader("typ", "at+jwt"), rfcClaims[0]}, nil, validator.ErrClaims, "", "jti missing", 0, lookup},
		{"iat missing", append(typ("at+jwt"), testkit.WithoutClaim("iat")), nil, validator.ErrClaims, "", "iat missing", 0, lookup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Run("auth0", func(t *testing.T) {
				token := auth0.mint(tt.opts...)
				if tt.auth0 == nil {
					auth0.accept(t, token)
					return
				}
				auth0.check(t, token, tt.auth0, tt.auth0R, tt.auth0Reach)
			})
			t.Run("rfc9068", func(t *testing.T) {
				token := rfc.mint(tt.opts...)
				if tt.rfc == nil {
					c := rfc.accept(t, token)
					assert.Equal(t, "c1", c.ClientID)
					assert.Equal(t, "c1", c.Client())
					return
				}
				rfc.check(t, token, tt.rfc, tt.rfcR, tt.rfcReachLater)
			})
		})
	}
	_, err := validator.New(context.Background(), validator.Config{
		Issuer: "https://x/", Audiences: []string{"a"}, Profile: validator.Profile(7),
		Keys: &validator.KeySet{},
	})
	assert.Error(t, err, "New refuses an unknown profile")
}

func TestValidateSizeCap(t *testing.T) {
	e := newSecEnv(t)
	filler := func(n int) testkit.TokenOption {
		return testkit.WithClaim("https://example.com/filler", strings.Repeat("x", n))
	}
	// Size the filler so that the token is exactly DefaultMaxTokenSize.
	base := len(e.mint(filler(0)))
	var exact string
	// Unpadded base64 never has a length of 4k+1, so pad the header too.
	start := (validator.DefaultMaxTokenSize-base)*3/4 - 8
search:
	for n := start; n < start+16; n++ {
		for m := range 4 {
			tok := e.mint(filler(n), testkit.WithHeader("x", strings.Repeat("x", m)))
			if len(tok) == validator.DefaultMaxTokenSize {
				exact = tok
				break search
			}
		}
	}
	require.Len(t, exact, validator.DefaultMaxTokenSize, "could not hit the cap exactly")
	e.accept(t, exact)

	over := e.mint(filler(len(exact) * 3 / 4))
	require.Greater(t, len(over), validator.DefaultMaxTokenSize)
	e.check(t, over, validator.ErrMalformed, rTooLarge, noLookup)

	// One byte over the cap, from an otherwise valid token: refused by
	// length alone.
	e.check(t, exact+"A", validator.ErrMalformed, rTooLarge, noLookup)

	t.Run("configurable", func(t *testing.T) {
		big := newSecEnv(t, withConfig(func(c *validator.Config) { c.MaxTokenSize = 32 << 10 }))
		big.accept(t, big.mint(filler(20<<10)))
		big.check(t, big.mint(filler(30<<10)), validator.ErrMalformed, rTooLarge, noLookup)

		small := newSecEnv(t, withConfig(func(c *validator.Config) { c.MaxTokenSize = 512 }))
		small.check(t, small.mint(), validator.ErrMalformed, rTooLarge, noLookup)
	})
}

func TestValidateKeysUnavailableIsNotTheClientsFault(t *testing.T) {
	src := secSourceFunc(func(context.Context, string, string) (*validator.Key, error) {
		return nil, &validator.Error{Class: validator.ErrKeysUnavailable, Reason: "key set not loaded", Err: errors.New("dial tcp: connection refused")}
	})
	e := newSecEnv(t)
	cfg := e.cfg
	cfg.Keys = src
	v, err := validator.New(context.Background(), cfg)
	require.NoError(t, err)
	token := e.mint()
	_, err = v.Validate(context.Background(), token)
	secErr(t, err, validator.ErrKeysUnavailable, "key set not loaded", token)
	assert.False(t, errors.Is(err, validator.ErrInvalidToken), "503, not 401")
}

type secSourceFunc func(ctx context.Context, kid, alg string) (*validator.Key, error)

func (f secSourceFunc) Key(ctx context.Context, kid, alg string) (*validator.Key, error) {
	return f(ctx, kid, alg)
}

// TestErrorMessagesNeverQuoteTheToken runs one token of every error class
// whose parts carry recognisable secrets, and checks no message quotes
// them.
func TestErrorMessagesNeverQuoteTheToken(t *testing.T) {
	e := newSecEnv(t)
	const (
		kid = "kid-SECRETKID-9f2"
		sub = "auth0|SECRETSUB-4c1"
	)
	secret := []string{kid, sub, "SECRETKID", "SECRETSUB", "SECRETISS", "SECRETAUD", "SECRETCLAIM", "SECRETTYP"}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"too large", strings.Repeat("SECRETCLAIM.", 1000), validator.ErrMalformed},
		{"segments", "SECRETCLAIM.SECRETSUB", validator.ErrMalformed},
		{"encoding", "SECRETCLAIM.SECRET+SUB.SECRETKID", validator.ErrMalformed},
		{"header JSON", e.raw(e.rsa, `{"alg":"RS256","SECRETKID":`, `{}`), validator.ErrMalformed},
		{"alg", e.mint(testkit.WithHeader("alg", "SECRETKID"), testkit.WithHeader("kid", kid)), validator.ErrAlgorithm},
		{"header", e.mint(testkit.WithHeader("jku", "https://SECRETKID.example/"), testkit.WithHeader("kid", kid)), validator.ErrHeader},
		{"typ", e.mint(testkit.WithHeader("typ", "SECRETTYP"), testkit.WithHeader("kid", kid)), validator.ErrTokenType},
		{"claims", e.raw(e.rsa, `{"alg":"RS256","typ":"JWT","kid":"rsa-1"}`, `{"sub":"`+sub+`","sub":"SECRETCLAIM"}`), validator.ErrMalformed},
		{"issuer", e.mint(testkit.WithClaim("iss", "https://SECRETISS.example/"), testkit.WithSubject(sub)), validator.ErrIssuer},
		{"kid", e.mint(testkit.WithHeader("kid", kid), testkit.WithSubject(sub)), validator.ErrUnknownKey},
		{"signature", e.mint(testkit.WithKey(e.attacker), testkit.WithSubject(sub)), validator.ErrSignature},
		{"expired", e.mint(testkit.WithExpiry(secNow.Add(-time.Hour)), testkit.WithSubject(sub)), validator.ErrExpired},
		{"audience", e.mint(testkit.WithAudience("https://SECRETAUD.example"), testkit.WithSubject(sub)), validator.ErrAudience},
		{"claims missing", e.mint(testkit.WithSubject(""), testkit.WithClaim("x", "SECRETCLAIM")), validator.ErrClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.local.Validate(context.Background(), tt.token)
			secErr(t, err, tt.want, "", append(secret, tt.token)...)
			for _, s := range secret {
				assert.NotContains(t, err.Error(), s)
			}
		})
	}
}

// TestNewKeySetRefusesBrokenKeys: keys built in code skip the JWKS parser,
// so NewKeySet applies the policy itself, and must not panic on nil parts
// (ecdsa.Verify would panic on a nil coordinate at request time).
func TestNewKeySetRefusesBrokenKeys(t *testing.T) {
	weak := secKey(t, "rsa-1024-weak.pem", "weak", "RS256")
	good := secKey(t, "rsa-2048.pem", "rsa-1", "RS256")
	goodRSA := good.Private.Public().(*rsa.PublicKey)
	ec := secKey(t, "ec-p256.pem", "ec", "ES256").Private.Public().(*ecdsa.PublicKey)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	ed := secKey(t, "ed25519.pem", "ed", "EdDSA").Private.Public().(ed25519.PublicKey)
	tests := []struct {
		name string
		key  *validator.Key
	}{
		{"nil *rsa.PublicKey", &validator.Key{ID: "k", Public: (*rsa.PublicKey)(nil)}},
		{"RSA without modulus", &validator.Key{ID: "k", Public: &rsa.PublicKey{E: 65537}}},
		{"RSA 1024", weak.Public()},
		{"RSA e = 1", &validator.Key{ID: "k", Public: &rsa.PublicKey{N: goodRSA.N, E: 1}}},
		{"RSA even e", &validator.Key{ID: "k", Public: &rsa.PublicKey{N: goodRSA.N, E: 65536}}},
		{"nil *ecdsa.PublicKey", &validator.Key{ID: "k", Public: (*ecdsa.PublicKey)(nil)}},
		{"EC without coordinates", &validator.Key{ID: "k", Public: &ecdsa.PublicKey{Curve: elliptic.P256()}}},
		//lint:ignore SA1019 a point off its curve can only be built from raw coordinates
		{"EC point off the curve", &validator.Key{ID: "k", Public: &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}}},
		//lint:ignore SA1019 a point on another curve can only be built from raw coordinates
		{"EC point on another curve", &validator.Key{ID: "k", Public: &ecdsa.PublicKey{Curve: elliptic.P384(), X: ec.X, Y: ec.Y}}},
		{"EC P-224", &validator.Key{ID: "k", Public: &p224.PublicKey}},
		{"Ed25519 short", &validator.Key{ID: "k", Public: ed[:31]}},
		{"nil ed25519", &validator.Key{ID: "k", Public: ed25519.PublicKey(nil)}},
		{"private key", &validator.Key{ID: "k", Public: good.Private}},
		{"[]byte secret", &validator.Key{ID: "k", Public: []byte("secret")}},
		{"nil", &validator.Key{ID: "k"}},
		{"nil *Key", nil},
		{"RSA key with alg ES256", &validator.Key{ID: "k", Algorithm: "ES256", Public: goodRSA}},
		{"RSA key with alg HS256", &validator.Key{ID: "k", Algorithm: "HS256", Public: goodRSA}},
		{"P-256 key with alg ES384", &validator.Key{ID: "k", Algorithm: "ES384", Public: ec}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var set *validator.KeySet
			var err error
			require.NotPanics(t, func() { set, err = validator.NewKeySet(tt.key) })
			assert.Error(t, err)
			assert.Nil(t, set)
		})
	}
	set, err := validator.NewKeySet(good.Public(), &validator.Key{ID: "ec", Public: ec}, &validator.Key{ID: "ed", Public: ed})
	require.NoError(t, err)
	assert.Equal(t, 3, set.Len())
}

// secJSON encodes v, which the test knows to be encodable.
func secJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestParseJWKSRefusesOversizedExponent: jwkset keeps only the low 64
// bits of e, so e = 2^64 + 65537 would be read as 65537 and verify with a
// key other than the published one; and crypto/rsa refuses exponents
// above 2^31-1, so such keys could never verify anything.
func TestParseJWKSRefusesOversizedExponent(t *testing.T) {
	k := secKey(t, "rsa-2048.pem", "rsa-1", "RS256")
	for _, e := range []string{
		"AQAAAAAAAAEAAQ", // 2^64 + 65537, truncated to 65537 by jwkset
		"AQAAAAEAAQ",     // 2^48 + 65537
		"gAAAAQ",         // 2^31 + 1
		"_____w",         // 2^32 - 1
	} {
		t.Run(e, func(t *testing.T) {
			jwk := k.JWK()
			jwk["e"] = e
			set, err := validator.ParseJWKS(secJSON(map[string]any{"keys": []any{jwk}}))
			assert.ErrorContains(t, err, "exponent", "the error says why the key was skipped")
			assert.Nil(t, set)
		})
	}
	jwk := k.JWK()
	jwk["e"] = "AAEAAQ" // 65537 with a leading zero octet: still small
	set, err := validator.ParseJWKS(secJSON(map[string]any{"keys": []any{jwk}}))
	require.NoError(t, err)
	assert.Equal(t, 1, set.Len())
}
