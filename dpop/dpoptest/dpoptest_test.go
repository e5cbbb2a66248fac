package dpoptest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

const target = "http://api.example.com/api/private"

// TestProofs: the kit's proofs are accepted, and each deliberately wrong
// one is refused for the reason it was made for.
func TestProofs(t *testing.T) {
	k := dpoptest.GenerateKey("ES256")
	other := dpoptest.GenerateKey("ES256")
	const token = "access-token"
	for _, tc := range []struct {
		name   string
		method string
		url    string
		opts   []dpoptest.Option
		reason string // "" means accepted
	}{
		{"right", "GET", target, nil, ""},
		{"query and fragment dropped from htu", "GET", target + "?a=1#f", nil, ""},
		{"wrong htm", "POST", target, nil, "proof htm does not match the request method"},
		{"wrong htu", "GET", "http://api.example.com/other", nil, "proof htu does not match the request URL"},
		{"wrong ath", "GET", target, []dpoptest.Option{dpoptest.WithAccessToken("another token")}, "proof ath does not match the access token"},
		{"old iat", "GET", target, []dpoptest.Option{dpoptest.WithIssuedAt(time.Now().Add(-time.Hour))}, "proof iat is too old"},
		{"future iat", "GET", target, []dpoptest.Option{dpoptest.WithIssuedAt(time.Now().Add(time.Hour))}, "proof iat is in the future"},
		{"wrong typ", "GET", target, []dpoptest.Option{dpoptest.WithHeader("typ", "JWT")}, "proof typ is not dpop+jwt"},
		{"alg none", "GET", target, []dpoptest.Option{dpoptest.WithHeader("alg", "none"), dpoptest.WithSignature([]byte{})}, "proof alg not allowed"},
		{"private jwk", "GET", target, []dpoptest.Option{dpoptest.WithPrivateJWK()}, "proof jwk is not an acceptable public key: carries private or symmetric key material"},
		{"oct jwk", "GET", target, []dpoptest.Option{dpoptest.WithSymmetricJWK([]byte("0123456789abcdef0123456789abcdef"))}, "proof alg not allowed"},
		{"foreign signature", "GET", target, []dpoptest.Option{dpoptest.WithSigner(other)}, "proof signature does not verify"},
		{"no jti", "GET", target, []dpoptest.Option{dpoptest.WithoutClaim("jti")}, "proof jti missing or not a non-empty string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := dpop.NewVerifier(dpop.Config{})
			require.NoError(t, err)
			r := httptest.NewRequest("GET", target, nil)
			r.Header.Set("DPoP", k.Proof(tc.method, tc.url, append([]dpoptest.Option{dpoptest.WithAccessToken(token)}, tc.opts...)...))
			_, err = v.Verify(context.Background(), r, token, k.Thumbprint())
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			var e *dpop.Error
			require.True(t, errors.As(err, &e), "%v", err)
			assert.Equal(t, tc.reason, e.Reason)
		})
	}
}

// TestBindAndAuthorize: a token minted with Bind carries cnf.jkt, and a
// request signed with Authorize passes both checks, once.
func TestBindAndAuthorize(t *testing.T) {
	ctx := context.Background()
	iss := validatortest.NewIssuer()
	defer iss.Close()
	tokens, err := validator.New(ctx, iss.Config())
	require.NoError(t, err)
	defer tokens.Close()
	proofs, err := dpop.NewVerifier(dpop.Config{})
	require.NoError(t, err)

	for _, alg := range []string{"ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA"} {
		k := dpoptest.GenerateKey(alg)
		token := iss.Mint(k.Bind())
		c, err := tokens.Validate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, k.Thumbprint(), c.Confirmation.JKT, alg)

		r := httptest.NewRequest("POST", "/api/contacts?x=1", nil)
		k.Authorize(r, token)
		assert.Equal(t, "DPoP "+token, r.Header.Get("Authorization"))
		_, err = proofs.Verify(ctx, r, token, c.Confirmation.JKT)
		require.NoError(t, err, alg)
		_, err = proofs.Verify(ctx, r, token, c.Confirmation.JKT)
		require.ErrorIs(t, err, dpop.ErrReplay, "the same request again is a replay")
	}
}

// Test an API handler with a DPoP-bound token the way a client calls it.
func ExampleKey_Authorize() {
	ctx := context.Background()
	iss := validatortest.NewIssuer()
	defer iss.Close()
	tokens, err := validator.New(ctx, iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer tokens.Close()
	proofs, err := dpop.NewVerifier(dpop.Config{})
	if err != nil {
		log.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get("Authorization")[len("DPoP "):]
		c, err := tokens.Validate(r.Context(), token)
		if err == nil {
			_, err = proofs.Verify(r.Context(), r, token, c.Confirmation.JKT)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "hello", c.Subject)
	})

	client := dpoptest.GenerateKey("ES256")
	r := httptest.NewRequest("GET", "/api/private", nil)
	client.Authorize(r, iss.Mint(client.Bind()))
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body.String())

	w = httptest.NewRecorder()
	handler.ServeHTTP(w, r) // the same proof again
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// 200 hello auth0|test-user
	// 401 DPoP proof replayed: proof jti already used
}
