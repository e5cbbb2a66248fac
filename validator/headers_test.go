package validator_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// The table of verified headers learns only from tokens that verified,
// decides as decoding would, and stays bounded.
func TestKnownHeaders(t *testing.T) {
	ctx := context.Background()
	k := testkit.GenerateKey("hdr-RS256", "RS256")
	impostor := testkit.GenerateKey(k.ID, "RS256") // same kid, another key
	set, err := validator.NewKeySet(k.Public())
	require.NoError(t, err)
	v, err := validator.New(ctx, validator.Config{
		Issuer: benchIssuer, Audiences: []string{"https://contacts.example.com"}, Keys: set,
	})
	require.NoError(t, err)
	sign := func(key *testkit.Key, extra map[string]any, sub string) string {
		h := map[string]any{"alg": "RS256", "typ": "JWT", "kid": k.ID}
		for n, x := range extra {
			h[n] = x
		}
		c := benchClaims()
		c["sub"] = sub
		return (&testkit.Token{Header: h, Claims: c, Key: key}).Sign()
	}

	// A forged token with the real header teaches the table nothing.
	forged := sign(impostor, nil, "auth0|forged")
	_, err = v.Validate(ctx, forged)
	require.ErrorIs(t, err, validator.ErrSignature)
	assert.Equal(t, 0, v.KnownHeaders())

	// A verified token's header is remembered, and then decides as a
	// decoded one: for the same token, another token with that header,
	// and the forged one.
	good := sign(k, nil, "auth0|u1")
	c1, err := v.Validate(ctx, good)
	require.NoError(t, err)
	assert.Equal(t, 1, v.KnownHeaders())
	c2, err := v.Validate(ctx, good)
	require.NoError(t, err)
	assert.Equal(t, c1, c2)
	c3, err := v.Validate(ctx, sign(k, nil, "auth0|u2"))
	require.NoError(t, err)
	assert.Equal(t, "auth0|u2", c3.Subject)
	_, err = v.Validate(ctx, forged)
	require.ErrorIs(t, err, validator.ErrSignature)

	// A header one parameter away is decoded afresh, and refused for it.
	_, err = v.Validate(ctx, sign(k, map[string]any{"jku": "https://evil.example/jwks.json"}, "auth0|u3"))
	require.ErrorIs(t, err, validator.ErrHeader)
	_, err = v.Validate(ctx, sign(k, map[string]any{"typ": "JOSE"}, "auth0|u3"))
	require.ErrorIs(t, err, validator.ErrTokenType)
	assert.Equal(t, 1, v.KnownHeaders())

	// Bounded: more verified headers (a parameter the validator ignores
	// makes each one distinct) than the table holds are all accepted, and
	// the newest is remembered, so that a rotated key's header makes room.
	for i := range 40 {
		tok := sign(k, map[string]any{"x5t": fmt.Sprint(i)}, "auth0|u4")
		c, err := v.Validate(ctx, tok)
		require.NoError(t, err, i)
		assert.Equal(t, "auth0|u4", c.Subject)
		assert.True(t, v.KnowsHeaderOf(tok), i)
	}
	assert.Equal(t, 32, v.KnownHeaders())
}
