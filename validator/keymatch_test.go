package validator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/racedetect"
)

// A cached token's RSA key matches only a key of the same modulus and
// exponent: also when the source changed the key's material in place.
func TestKeySnapshotMatchesRSAByValue(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pub := &rsa.PublicKey{N: new(big.Int).Set(priv.N), E: priv.E}
	k := &Key{ID: "k1", Public: pub}
	snap, ok := snapshotKey(k)
	require.True(t, ok)
	assert.True(t, snap.matches(k))
	assert.True(t, snap.matches(&Key{ID: "k1", Public: &rsa.PublicKey{N: new(big.Int).Set(priv.N), E: priv.E}}), "an equal copy")
	assert.False(t, snap.matches(&Key{ID: "k2", Public: pub}), "another kid")
	assert.False(t, snap.matches(&Key{ID: "k1", Algorithm: "PS256", Public: pub}), "another alg")
	assert.False(t, snap.matches(&Key{ID: "k1", Public: &rsa.PublicKey{N: pub.N, E: 3}}), "another exponent")
	assert.False(t, snap.matches(&Key{ID: "k1", Public: &rsa.PublicKey{E: pub.E}}), "no modulus")
	assert.False(t, snap.matches(&Key{ID: "k1", Public: (*rsa.PublicKey)(nil)}), "a nil key")
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	assert.False(t, snap.matches(&Key{ID: "k1", Public: &ec.PublicKey}), "another key type")
	pub.N.Add(pub.N, big.NewInt(2)) // changed in place
	assert.False(t, snap.matches(k), "material changed in place")
}

// A cached token's ECDSA key matches only a key of the same curve and
// point, compared without allocating on every cache hit.
func TestKeySnapshotMatchesECDSA(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	k := &Key{ID: "k1", Algorithm: "ES256", Public: &ec.PublicKey}
	snap, ok := snapshotKey(k)
	require.True(t, ok)
	assert.True(t, snap.matches(k))
	b, err := ec.PublicKey.Bytes()
	require.NoError(t, err)
	same, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
	require.NoError(t, err)
	assert.True(t, snap.matches(&Key{ID: "k1", Algorithm: "ES256", Public: same}), "an equal copy")
	assert.False(t, snap.matches(&Key{ID: "k1", Algorithm: "ES256", Public: &other.PublicKey}), "another point")
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	assert.False(t, snap.matches(&Key{ID: "k1", Algorithm: "ES256", Public: &p384.PublicKey}), "another curve")
	assert.False(t, snap.matches(&Key{ID: "k1", Algorithm: "ES256", Public: (*ecdsa.PublicKey)(nil)}), "a nil key")
	assert.False(t, snap.matches(&Key{ID: "k1", Algorithm: "ES256", Public: &ecdsa.PublicKey{Curve: elliptic.P256()}}), "no point")
}

// A cache hit's ECDSA key comparison allocates nothing.
func TestKeySnapshotECDSAAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	k := &Key{ID: "k1", Algorithm: "ES256", Public: &ec.PublicKey}
	snap, ok := snapshotKey(k)
	require.True(t, ok)
	require.True(t, snap.matches(k))
	assert.Zero(t, testing.AllocsPerRun(50, func() { snap.matches(k) }))
}
