package grpcguard_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/apiguard/apiguard/grpcguard"
	"github.com/apiguard/apiguard/internal/testkit"
)

// TestReviewMessagesDoNotEnumerateConfig (issue 10 item 8, as the HTTP side
// applies it in middleware.clientDescription): an anonymous caller must not
// learn from the status message which issuers are trusted, which kids exist
// or which algorithms are allowed. Every refusal that happens before the
// signature verifies must read the same.
func TestReviewMessagesDoNotEnumerateConfig(t *testing.T) {
	iss, v := fixture(t)
	conn := serve(t, grpcguard.New(v, testPolicy()))
	other := testkit.NewIssuer()
	t.Cleanup(other.Close)

	tokens := map[string]string{
		"forged signature": resign(iss.Mint(), "Zm9yZ2Vk"),
		"untrusted issuer": other.Mint(),
		"unknown kid":      iss.Mint(testkit.WithHeader("kid", "no-such-kid")),
		"alg not allowed":  resign(iss.Mint(testkit.WithHeader("alg", "ES256")), "Zm9yZ2Vk"),
	}
	msgs := map[string]string{}
	for name, tok := range tokens {
		_, st := call(t, conn, methodOpen, "Bearer "+tok)
		require.Equal(t, codes.Unauthenticated, st.Code(), name)
		msgs[st.Message()] = name
	}
	assert.Len(t, msgs, 1, "distinct messages let a caller tell these refusals apart: %v", msgs)
}
