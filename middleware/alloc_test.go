package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/internal/racedetect"
	"github.com/apiguard/apiguard/middleware"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
)

// TestGlueAllocations pins what the middleware adds to a request besides
// the validator: with the default settings, exactly what go-jwt-middleware's
// CheckJWT (which it is built on) allocates to store the claims, since
// claims.FromContext finds them under CheckJWT's key; non-default settings
// add one context value and one shallow copy of the request.
func TestGlueAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	c := &claims.Claims{Subject: "u1"}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got, found := claims.FromContext(r.Context()); !found || got != c {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	req := httptest.NewRequest(http.MethodGet, "/contacts", nil)
	req.Header.Set("Authorization", "Bearer abc.def.ghi")
	allocs := func(h http.Handler) float64 {
		w := &nopWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		require.Zero(t, w.status)
		return testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) })
	}
	// What CheckJWT does on success to store the claims.
	clone := testing.AllocsPerRun(100, func() {
		_ = req.Clone(context.WithValue(req.Context(), jwtmiddleware.ContextKey{}, c))
	})
	fixed := fixedValidator{c}
	assert.Equal(t, clone, allocs(middleware.New(fixed)(ok)))
	assert.Equal(t, clone+2, allocs(middleware.New(fixed, middleware.WithRealm("contacts"))(ok)))
	assert.LessOrEqual(t, clone, 6.0, "issue 15: the round trip adds at most 6 allocations to Validate")
}
