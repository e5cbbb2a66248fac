package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/jwtadapter"
	"github.com/apiguard/apiguard/validator/validatortest"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
)

// nopWriter is a ResponseWriter that allocates nothing per request.
type nopWriter struct {
	h      http.Header
	status int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(s int)           { w.status = s }

// BenchmarkMiddleware measures one authenticated request through the
// handler chain, without the network, next to plain Validate and to
// go-jwt-middleware's own CheckJWT with the same validator:
//
//	go test -run '^$' -bench BenchmarkMiddleware -benchmem ./middleware
//
// The glue's cost is a round trip minus "validate".
func BenchmarkMiddleware(b *testing.B) {
	iss, v := fixture(b)
	token := iss.Mint(validatortest.WithScope("read:contacts write:contacts"))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, found := claims.FromContext(r.Context()); !found || c.Subject == "" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	okJWT := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, found := r.Context().Value(jwtmiddleware.ContextKey{}).(*claims.Claims); !found {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	req := httptest.NewRequest(http.MethodGet, "/contacts", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "bench")

	roundTrip := func(b *testing.B, h http.Handler) {
		b.Helper()
		w := &nopWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.status != 0 {
			b.Fatalf("status %d", w.status)
		}
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, req)
		}
		if w.status != 0 {
			b.Fatalf("status %d", w.status)
		}
	}

	b.Run("validate", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Validate(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("checkjwt", func(b *testing.B) {
		roundTrip(b, jwtmiddleware.New(jwtadapter.ValidateToken(v)).CheckJWT(okJWT))
	})
	b.Run("apiguard", func(b *testing.B) {
		roundTrip(b, middleware.New(v)(ok))
	})
	b.Run("apiguard+realm", func(b *testing.B) {
		roundTrip(b, middleware.New(v, middleware.WithRealm("contacts"))(ok))
	})
	b.Run("apiguard+scope", func(b *testing.B) {
		roundTrip(b, middleware.New(v)(scopes.RequireScope("read:contacts")(ok)))
	})
	// The glue with this package's Validator (whose tokens skip the
	// b64token check unless refused), measured where a validation costs
	// little: a hit of its verified-token cache. The glue is
	// "cached/apiguard" minus "cached/validate".
	cfg := iss.Config()
	cfg.CacheSize = 16
	cached, err := validator.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer cached.Close()
	b.Run("cached/validate", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cached.Validate(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached/apiguard", func(b *testing.B) {
		roundTrip(b, middleware.New(cached)(ok))
	})
	// The glue alone: a validator that returns fixed claims.
	c, err := v.Validate(context.Background(), token)
	if err != nil {
		b.Fatal(err)
	}
	fixed := fixedValidator{c}
	b.Run("glue/checkjwt", func(b *testing.B) {
		roundTrip(b, jwtmiddleware.New(fixed.ValidateToken).CheckJWT(okJWT))
	})
	b.Run("glue/apiguard", func(b *testing.B) {
		roundTrip(b, middleware.New(fixed)(ok))
	})
}

type fixedValidator struct{ c *claims.Claims }

func (f fixedValidator) Validate(context.Context, string) (*claims.Claims, error) { return f.c, nil }

func (f fixedValidator) ValidateToken(context.Context, string) (any, error) { return f.c, nil }
