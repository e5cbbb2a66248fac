package bench

import (
	"context"
	"net/http"
	"testing"

	"github.com/apiguard/apiguard/bench/internal/fixture"
	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
)

// extraImpls are the apiguard implementations built on parts of the
// library that came after the validator: the middleware round trip, and
// the verified-token cache (Config.CacheSize; a hit is measured, as the
// suite validates the token once before timing).
func extraImpls(b *testing.B, fx *fixture.Fixture) []impl {
	cached := fx.Config()
	cached.CacheSize = 1000
	return []impl{
		{"ApiguardValidateGet", apiguardGetCheck(b, fx)},
		{"ApiguardValidateCached", apiguardCheck(b, fx, cached)},
		{"ApiguardMiddleware", apiguardRoundTrip(b, fx)},
	}
}

// apiguardGetCheck is Validate followed by reading two of the token's
// custom claims with claims.Get, as the issue 15 measurements did: the
// roles ([]string) and the email (string).
func apiguardGetCheck(b *testing.B, fx *fixture.Fixture) func(context.Context) error {
	v, err := fx.Validator(fx.Config())
	if err != nil {
		b.Fatal(err)
	}
	return func(ctx context.Context) error {
		c, err := v.Validate(ctx, fx.Token)
		if err != nil {
			return err
		}
		roles, err := claims.Get[[]string](c, "https://example.com/roles")
		if err != nil {
			return err
		}
		email, err := claims.Get[string](c, "https://example.com/email")
		if err != nil {
			return err
		}
		if c.Subject == "" || len(roles) != 2 || email == "" {
			return errRejected
		}
		return nil
	}
}

// stubValidator returns the same claims for every token, so that a round
// trip through the middleware measures the middleware alone.
type stubValidator struct{ c *claims.Claims }

// Validate returns the stub's claims.
func (s stubValidator) Validate(context.Context, string) (*claims.Claims, error) { return s.c, nil }

// apiguardGlue is apiguard's middleware around stubValidator, serving the
// same handler as the full round trip.
func apiguardGlue() http.Handler {
	return middleware.New(stubValidator{&claims.Claims{Subject: "auth0|6543210fedcba9876543210f"}})(needClaims)
}

// needClaims is the next handler of the apiguard round trips.
var needClaims = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, ok := claims.FromContext(r.Context()); !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
})

// apiguardRoundTrip is apiguard's middleware around its validator, serving
// a handler that needs the claims, exactly as goJWTMiddlewareRoundTrip.
func apiguardRoundTrip(b *testing.B, fx *fixture.Fixture) func(context.Context) error {
	v, err := fx.Validator(fx.Config())
	if err != nil {
		b.Fatal(err)
	}
	h := middleware.New(v)(needClaims)
	req := newRequest(fx.Token)
	return func(context.Context) error { return roundTrip(h, req) }
}
