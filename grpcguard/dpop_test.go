package grpcguard_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/grpcguard"
	"github.com/apiguard/apiguard/internal/testkit"
)

// TestDPoPProofs: with WithDPoP a bound token is accepted with a proof of
// its key for POST https://<authority><method>, once; every other case is
// refused, and a failing replay store makes the call Unavailable.
func TestDPoPProofs(t *testing.T) {
	iss, v := fixture(t)
	pv, err := dpop.NewVerifier(dpop.Config{})
	require.NoError(t, err)
	conn := serve(t, grpcguard.New(v, testPolicy(), grpcguard.WithDPoP(pv)))
	k := dpoptest.GenerateKey("ES256")
	bound := iss.Mint(testkit.WithSubject("auth0|alice"), k.Bind())
	plain := iss.Mint(testkit.WithSubject("auth0|bob"))
	htu := "https://bufnet" + methodOpen
	proof := func(token string, opts ...dpoptest.Option) string {
		return k.Proof("POST", htu, append([]dpoptest.Option{dpoptest.WithAccessToken(token)}, opts...)...)
	}
	callWith := func(auth string, proofs ...string) (string, codes.Code, string) {
		ctx := withAuth(t.Context(), auth)
		for _, p := range proofs {
			ctx = metadata.AppendToOutgoingContext(ctx, "dpop", p)
		}
		got, st := callCtx(t, ctx, conn, methodOpen)
		return got, st.Code(), st.Message()
	}

	used := proof(bound)
	for _, tc := range []struct {
		name   string
		auth   string
		proofs []string
		code   codes.Code
		msg    string
	}{
		{"DPoP scheme and proof", "DPoP " + bound, []string{used}, codes.OK, "auth0|alice"},
		{"bound token as Bearer, even with a proof", "Bearer " + bound, []string{proof(bound)}, codes.Unauthenticated, "token is DPoP-bound; send it with the DPoP scheme and a proof"},
		{"bound token as Bearer", "Bearer " + bound, nil, codes.Unauthenticated, "token is DPoP-bound; send it with the DPoP scheme and a proof"},
		{"replayed proof", "DPoP " + bound, []string{used}, codes.Unauthenticated, "DPoP proof replayed: proof jti already used"},
		{"no proof", "DPoP " + bound, nil, codes.Unauthenticated, "token is DPoP-bound; proof required"},
		{"two proofs", "DPoP " + bound, []string{proof(bound), proof(bound)}, codes.InvalidArgument, "invalid request: more than one dpop value"},
		{"proof for another method", "DPoP " + bound, []string{k.Proof("POST", "https://bufnet"+methodScoped, dpoptest.WithAccessToken(bound))}, codes.Unauthenticated, "invalid DPoP proof: proof htu does not match the request URL"},
		{"proof of another key", "DPoP " + bound, []string{dpoptest.GenerateKey("ES256").Proof("POST", htu, dpoptest.WithAccessToken(bound))}, codes.Unauthenticated, "invalid DPoP proof: proof key does not match the access token's cnf.jkt"},
		{"unbound token with the DPoP scheme", "DPoP " + plain, []string{proof(plain)}, codes.Unauthenticated, "access token is not DPoP-bound: access token has no cnf.jkt"},
		{"unbound token as Bearer with a stray proof", "Bearer " + plain, []string{proof(plain)}, codes.InvalidArgument, "invalid request: a dpop proof with a Bearer token"},
		{"unbound token as Bearer", "Bearer " + plain, nil, codes.OK, "auth0|bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, code, msg := callWith(tc.auth, tc.proofs...)
			require.Equal(t, tc.code, code, msg)
			if code == codes.OK {
				assert.Equal(t, tc.msg, got)
				return
			}
			assert.Equal(t, tc.msg, msg)
			assert.NotContains(t, msg, bound)
		})
	}

	t.Run("DPoP scheme without WithDPoP", func(t *testing.T) {
		conn := serve(t, grpcguard.New(v, testPolicy()))
		ctx := metadata.AppendToOutgoingContext(withAuth(t.Context(), "DPoP "+bound), "dpop", proof(bound))
		_, st := callCtx(t, ctx, conn, methodOpen)
		assert.Equal(t, codes.Unauthenticated, st.Code())
		assert.Equal(t, "bearer token required", st.Message())
	})

	t.Run("replay store full", func(t *testing.T) {
		pv, err := dpop.NewVerifier(dpop.Config{ReplayStore: dpop.NewMemoryStore(1)})
		require.NoError(t, err)
		conn := serve(t, grpcguard.New(v, testPolicy(), grpcguard.WithDPoP(pv)))
		unavailable := 0
		for range 100 {
			ctx := metadata.AppendToOutgoingContext(withAuth(context.Background(), "DPoP "+bound), "dpop", proof(bound))
			_, st := callCtx(t, ctx, conn, methodOpen)
			switch st.Code() {
			case codes.OK:
			case codes.Unavailable:
				unavailable++
			default:
				t.Fatalf("%v", st.Err())
			}
		}
		assert.Positive(t, unavailable)
	})
}
