package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// BenchmarkMiddlewareDPoP is one request through the middleware with
// DPoP allowed: a Bearer token, and a DPoP-bound token with a fresh ES256
// or EdDSA proof (the in-memory replay store records each). The DPoP
// request's extra cost over the Bearer one is the proof's signature check
// plus what BenchmarkBeyondSignature in package dpop measures:
//
//	go test -run '^$' -bench BenchmarkMiddlewareDPoP -benchmem ./middleware
func BenchmarkMiddlewareDPoP(b *testing.B) {
	iss, v := fixture(b)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, found := claims.FromContext(r.Context()); !found || c.Subject == "" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	// Each run gets a verifier whose store holds all its proofs.
	handler := func(b *testing.B) http.Handler {
		pv, err := dpop.NewVerifier(dpop.Config{ReplayStore: dpop.NewMemoryStore(4 * max(b.N, 1000))})
		if err != nil {
			b.Fatal(err)
		}
		return middleware.New(v, middleware.WithDPoP(pv, middleware.DPoPAllowed))(ok)
	}
	const target = "http://api.example.com/contacts"

	b.Run("bearer", func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.RequestURI = "/contacts"
		req.Header.Set("Authorization", "Bearer "+iss.Mint(validatortest.WithScope("read:contacts")))
		w := &nopWriter{h: http.Header{}}
		h := handler(b)
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, req)
		}
		if w.status != 0 {
			b.Fatalf("status %d", w.status)
		}
	})
	for _, alg := range []string{"ES256", "EdDSA"} {
		b.Run("dpop-"+alg, func(b *testing.B) {
			k := dpoptest.GenerateKey(alg)
			token := iss.Mint(validatortest.WithScope("read:contacts"), k.Bind())
			proofs := make([]string, b.N)
			for i := range proofs {
				proofs[i] = k.Proof(http.MethodGet, target, dpoptest.WithAccessToken(token))
			}
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.RequestURI = "/contacts"
			req.Header.Set("Authorization", "DPoP "+token)
			w := &nopWriter{h: http.Header{}}
			h := handler(b)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				req.Header["Dpop"] = proofs[i : i+1]
				h.ServeHTTP(w, req)
				if w.status != 0 {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}
