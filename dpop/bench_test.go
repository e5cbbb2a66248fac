package dpop_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/validator"
)

// benchProofs mints n distinct proofs of k for GET target with token.
func benchProofs(k *dpoptest.Key, n int) []string {
	proofs := make([]string, n)
	for i := range proofs {
		proofs[i] = k.Proof("GET", target, dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token))
	}
	return proofs
}

// BenchmarkVerify is the whole check of a fresh proof on a request: the
// key cache is warm (a client sends the same key every time) and the
// in-memory replay store records every jti.
//
// The cost beyond the proof's own signature check is Verify minus
// BenchmarkSignatureOnly of the same alg.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		b.Run(alg, func(b *testing.B) {
			k := dpoptest.GenerateKey(alg)
			v, err := dpop.NewVerifier(dpop.Config{
				Now:         func() time.Time { return now },
				ReplayStore: dpop.NewMemoryStore(4 * max(b.N, 1000)),
			})
			if err != nil {
				b.Fatal(err)
			}
			proofs := benchProofs(k, b.N+1)
			jkt := k.Thumbprint()
			r := httptest.NewRequest("GET", target, nil)
			r.RequestURI = "/api/private" // origin form, as a server sees it
			ctx := context.Background()
			r.Header["Dpop"] = proofs[b.N:] // warm the key cache
			if _, err := v.Verify(ctx, r, token, jkt); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				r.Header["Dpop"] = proofs[i : i+1]
				if _, err := v.Verify(ctx, r, token, jkt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignatureOnly is the floor: verifying the proof's signature
// with its key, through the same code Verify uses, plus the SHA-256 of
// the access token that ath needs.
func BenchmarkSignatureOnly(b *testing.B) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		b.Run(alg, func(b *testing.B) {
			k := dpoptest.GenerateKey(alg)
			key := &validator.Key{Public: k.Private.Public()}
			proofs := benchProofs(k, min(b.N, 1000))
			type split struct {
				input string
				sig   []byte
			}
			parts := make([]split, len(proofs))
			for i, p := range proofs {
				dot := strings.LastIndexByte(p, '.')
				sig, err := base64.RawURLEncoding.DecodeString(p[dot+1:])
				if err != nil {
					b.Fatal(err)
				}
				parts[i] = split{p[:dot], sig}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				s := parts[i%len(parts)]
				if err := key.Verify(alg, s.input, s.sig); err != nil {
					b.Fatal(err)
				}
				_ = sha256.Sum256([]byte(token))
			}
		})
	}
}

// BenchmarkVerifyColdKey is a proof from a key never seen before: the JWK
// parse and the thumbprint are paid on top of BenchmarkVerify.
func BenchmarkVerifyColdKey(b *testing.B) {
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = dpoptest.GenerateKey("ES256").Proof("GET", target, dpoptest.WithIssuedAt(now))
	}
	v, err := dpop.NewVerifier(dpop.Config{Now: func() time.Time { return now }, ReplayStore: dpop.NewMemoryStore(4 * max(b.N, 1000))})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// Check without a token: no cnf.jkt to match, so each proof may
		// have its own key.
		if _, err := v.Check(context.Background(), dpop.Request{Proofs: proofs[i : i+1], Method: "GET", URL: target}); err != nil {
			b.Fatal(err)
		}
	}
}
