package validator_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/racedetect"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// TestValidateAllocations pins what Validate allocates for an Auth0-shaped
// token besides the signature check: the Claims and one copy of the
// payload (Ed25519 verification itself allocates nothing). The JWS is
// decoded on the stack, the common header without the general decoder,
// the kid of a known key is interned; a string custom claim then reads
// without allocating.
func TestValidateAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	k := testkit.GenerateKey("alloc-EdDSA", "EdDSA")
	set, err := validator.NewKeySet(k.Public())
	require.NoError(t, err)
	ctx := context.Background()
	v, err := validator.New(ctx, validator.Config{
		Issuer:     benchIssuer,
		Audiences:  []string{"https://contacts.example.com"},
		Algorithms: []string{"EdDSA"},
		Keys:       set,
	})
	require.NoError(t, err)
	defer v.Close()
	tok := (&testkit.Token{Header: map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": k.ID}, Claims: benchClaims(), Key: k}).Sign()
	c, err := v.Validate(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, 2.0, testing.AllocsPerRun(100, func() {
		if _, err := v.Validate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = claims.Get[string](c, "https://example.com/email") }))
}

// A token whose decoded segments do not fit Validate's stack room decodes
// into the heap, with the same result.
func TestValidateTokenLargerThanStackRoom(t *testing.T) {
	k := testkit.GenerateKey("large-RS256", "RS256")
	set, err := validator.NewKeySet(k.Public())
	require.NoError(t, err)
	ctx := context.Background()
	v, err := validator.New(ctx, validator.Config{
		Issuer:    benchIssuer,
		Audiences: []string{"https://contacts.example.com"},
		Keys:      set,
	})
	require.NoError(t, err)
	defer v.Close()
	c := benchClaims()
	perms := make([]string, 150)
	for i := range perms {
		perms[i] = fmt.Sprintf("read:resource-%03d", i)
	}
	c["permissions"] = perms
	tok := (&testkit.Token{Header: map[string]any{"alg": "RS256", "typ": "JWT", "kid": k.ID}, Claims: c, Key: k}).Sign()
	require.Greater(t, len(tok), 4096)
	got, err := v.Validate(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, perms, got.Permissions)
	assert.True(t, got.HasPermission("read:resource-149"))
}
