package jwtadapter_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/jwtadapter"
)

func ecKey(t testing.TB, kid string) *validator.Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return &validator.Key{ID: kid, Algorithm: "ES256", Public: &priv.PublicKey}
}

// The storage is read-only, holds the policy-filtered keys and hides
// ambiguous kids.
func TestStorageIsReadOnly(t *testing.T) {
	a, b := ecKey(t, "dup"), ecKey(t, "dup")
	k := ecKey(t, "k1")
	set, err := validator.NewKeySet(a, b, k)
	require.NoError(t, err)
	st, err := jwtadapter.Storage(set)
	require.NoError(t, err)
	ctx := context.Background()

	j, err := st.KeyRead(ctx, "k1")
	require.NoError(t, err)
	assert.Equal(t, "k1", j.Marshal().KID)
	assert.Equal(t, jwkset.UseSig, j.Marshal().USE)
	_, err = st.KeyRead(ctx, "dup")
	assert.ErrorIs(t, err, jwkset.ErrKeyNotFound)
	assert.ErrorIs(t, err, validator.ErrUnknownKey)
	_, err = st.KeyRead(ctx, "nope")
	assert.ErrorIs(t, err, jwkset.ErrKeyNotFound)

	all, err := st.KeyReadAll(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 1)
	assert.Error(t, st.KeyWrite(ctx, j))
	assert.Error(t, st.KeyReplaceAll(ctx, nil))
	_, err = st.KeyDelete(ctx, "k1")
	assert.Error(t, err)
	raw, err := st.JSONPrivate(ctx)
	require.NoError(t, err)
	parsed, err := validator.ParseJWKS(raw)
	require.NoError(t, err, "the storage's JSON passes the key policy")
	assert.NoError(t, parsed.Skipped())
	assert.Equal(t, 1, parsed.Len())
}

// A key source that cannot show its keys has no storage.
func TestStorageNeedsASourceThatShowsItsKeys(t *testing.T) {
	_, err := jwtadapter.Storage(opaque{})
	assert.Error(t, err)
}

type opaque struct{}

func (opaque) Key(context.Context, string, string) (*validator.Key, error) { return nil, nil }

// keyfunc/v3 over the storage of a RemoteKeySet: golang-jwt users get the
// same keys, and a rotation through the set's unknown-kid refresh.
func TestKeyfuncV3OverARemoteKeySet(t *testing.T) {
	iss := testkit.NewIssuer(testkit.GenerateKey("k1", "ES256"))
	t.Cleanup(iss.Close)
	rc := iss.RemoteConfig()
	rc.UnknownKIDCooldown = 1 // no cool-down: the rotation below is fetched at once
	set, err := validator.NewRemoteKeySet(context.Background(), rc)
	require.NoError(t, err)
	t.Cleanup(func() { set.Close() })
	st, err := jwtadapter.Storage(set)
	require.NoError(t, err)
	kf, err := keyfunc.New(keyfunc.Options{Storage: st})
	require.NoError(t, err)

	_, err = jwt.Parse(iss.Mint(), kf.Keyfunc)
	require.NoError(t, err)
	iss.Rotate(testkit.GenerateKey("k2", "ES256"))
	_, err = jwt.Parse(iss.Mint(), kf.Keyfunc)
	require.NoError(t, err)
	assert.Equal(t, 2, iss.JWKSRequests())
	_, err = jwt.Parse(iss.Mint(testkit.WithKey(testkit.GenerateKey("k3", "ES256"))), kf.Keyfunc)
	assert.ErrorIs(t, err, jwkset.ErrKeyNotFound)
}

// ValidateToken is Validate, with go-jwt-middleware's signature.
func TestValidateToken(t *testing.T) {
	iss := testkit.NewIssuer(testkit.GenerateKey("k1", "ES256"))
	t.Cleanup(iss.Close)
	v, err := validator.New(context.Background(), iss.Config())
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	got, err := jwtadapter.ValidateToken(v)(context.Background(), iss.Mint())
	require.NoError(t, err)
	c, ok := got.(*claims.Claims)
	require.True(t, ok, "the value is a *claims.Claims")
	assert.Equal(t, iss.URL, c.Issuer)
}
