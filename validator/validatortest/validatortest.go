// Package validatortest is a fake token issuer for the tests of an API
// protected by package validator, in the spirit of net/http/httptest: it
// serves OIDC discovery and a JWKS on loopback and mints Auth0-shaped
// access tokens, well-formed or deliberately broken.
//
//	func TestContacts(t *testing.T) {
//		iss := validatortest.New(t) // closed when the test ends
//		v, err := validator.New(t.Context(), iss.Config())
//		...
//		defer v.Close()
//		token := iss.Mint(validatortest.WithScope("read:contacts"))
//		...
//	}
//
// The issuer's Config and its tokens share one audience
// ("https://api.example.com" unless [Audience] sets another), so a test
// sets it once. Nothing is
// logged: Config's Logger discards, and a test that wants the key cache's
// logs sets its own.
//
// It is for tests only: keys are generated in memory and the server speaks
// plain HTTP.
package validatortest

import (
	"testing"
	"time"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// Issuer is a fake authorization server on loopback. Make one with New
// (or NewIssuer outside a test function).
type Issuer struct {
	// URL is the issuer identifier, Auth0 style with a trailing slash:
	// "http://127.0.0.1:PORT/".
	URL string

	kit *testkit.Issuer
}

// Option configures an Issuer.
type Option func(*options)

type options struct {
	audience string
	keys     []*Key
}

// Audience sets the audience of the issuer's tokens and of its Config.
func Audience(aud string) Option { return func(o *options) { o.audience = aud } }

// SigningKeys makes the issuer sign with keys[0] and publish all of keys,
// instead of a fresh RS256 key with kid "test-key-1". Keys are slow to
// generate: tests can share them.
func SigningKeys(keys ...*Key) Option { return func(o *options) { o.keys = keys } }

// New starts an issuer and closes it when t and its subtests end.
func New(t testing.TB, opts ...Option) *Issuer {
	t.Helper()
	i := NewIssuer(opts...)
	t.Cleanup(i.Close)
	return i
}

// NewIssuer starts an issuer, for code without a testing.TB (examples,
// TestMain). The caller must Close it.
func NewIssuer(opts ...Option) *Issuer {
	o := options{audience: testkit.DefaultAudience}
	for _, opt := range opts {
		opt(&o)
	}
	kit := testkit.NewIssuer(o.keys...)
	kit.SetAudience(o.audience)
	return &Issuer{URL: kit.URL, kit: kit}
}

// Close shuts the server down.
func (i *Issuer) Close() { i.kit.Close() }

// Config returns a validator configuration that trusts this issuer: its
// URL, its audience, the signing key's algorithm, and a Logger that
// discards.
func (i *Issuer) Config() validator.Config { return i.kit.Config() }

// Mint returns a token signed with the issuer's signing key (or the key
// WithKey names), Auth0-shaped unless opts change it: sub
// "auth0|test-user", the issuer's audience, iat now, exp in an hour, azp
// "test-client", scope "openid profile".
func (i *Issuer) Mint(opts ...TokenOption) string { return i.kit.Mint(opts...) }

// SetFault makes the issuer misbehave as f says from now on (for the key
// fetches of the validators that trust it); NoFault restores it.
func (i *Issuer) SetFault(f Fault) { i.kit.SetFault(f) }

// Key is a signing key: ID (kid), Algorithm (alg) and Private (an
// *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey). Public
// returns it as the validator sees it; JWK as a JWKS publishes it.
type Key = testkit.Key

// GenerateKey returns a new key for alg (RS*, PS*, ES256/384/512, EdDSA)
// named kid. RSA keys have 2048 bits. It panics on an unknown alg.
func GenerateKey(kid, alg string) *Key { return testkit.GenerateKey(kid, alg) }

// TokenOption changes a token before it is signed: see the With
// functions.
type TokenOption = testkit.TokenOption

// WithClaim sets claim name to value (any JSON-encodable value).
func WithClaim(name string, value any) TokenOption { return testkit.WithClaim(name, value) }

// WithoutClaim removes claim name.
func WithoutClaim(name string) TokenOption { return testkit.WithoutClaim(name) }

// WithHeader sets header parameter name to value.
func WithHeader(name string, value any) TokenOption { return testkit.WithHeader(name, value) }

// WithScope sets the space-delimited scope claim.
func WithScope(scope string) TokenOption { return testkit.WithScope(scope) }

// WithPermissions sets the Auth0 RBAC permissions claim.
func WithPermissions(p ...string) TokenOption { return testkit.WithPermissions(p...) }

// WithAudience sets the token's aud, instead of the issuer's audience, to
// a single string, or to an array when given several.
func WithAudience(aud ...string) TokenOption { return testkit.WithAudience(aud...) }

// WithSubject sets sub.
func WithSubject(sub string) TokenOption { return testkit.WithSubject(sub) }

// WithExpiry sets exp.
func WithExpiry(t time.Time) TokenOption { return testkit.WithExpiry(t) }

// WithKey signs with k instead of the issuer's signing key; its kid and alg
// go into the header.
func WithKey(k *Key) TokenOption { return testkit.WithKey(k) }

// Fault is a way for the Issuer to misbehave, for testing how an API
// behaves when its issuer does: see [Issuer.SetFault].
type Fault = testkit.Fault

var (
	// NoFault serves normally.
	NoFault = testkit.NoFault
	// FaultDown refuses connections, as when the issuer is down.
	FaultDown = testkit.FaultDown
)

// FaultStatus answers every request with the HTTP status code.
func FaultStatus(code int) Fault { return testkit.FaultStatus(code) }

// FaultSlow holds every request for d, or until the client gives up, then
// serves it (a hung issuer: a large d).
func FaultSlow(d time.Duration) Fault { return testkit.FaultSlow(d) }
