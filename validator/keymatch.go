package validator

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"math/big"
	"slices"
)

// keySnapshot is a deep copy of a key as it was when a token was cached.
// A cache hit compares the source's current key with it by value, so a
// source that replaces a key's material in place, or hands out another
// *Key for it, gets exactly the answer a full check would give.
type keySnapshot struct {
	id, alg string
	pub     interface{ Equal(crypto.PublicKey) bool }
}

// snapshotKey copies k's identity and material; ok is false for a key type
// it cannot copy (the token is then not cached).
func snapshotKey(k *Key) (s keySnapshot, ok bool) {
	s.id, s.alg = k.ID, k.Algorithm
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		s.pub = &rsa.PublicKey{N: new(big.Int).Set(pub.N), E: pub.E}
	case *ecdsa.PublicKey:
		b, err := pub.Bytes()
		if err != nil {
			return s, false
		}
		c, err := ecdsa.ParseUncompressedPublicKey(pub.Curve, b)
		if err != nil {
			return s, false
		}
		s.pub = c
	case ed25519.PublicKey:
		s.pub = ed25519.PublicKey(slices.Clone(pub))
	default:
		return s, false
	}
	return s, true
}

// matches reports whether k, which the caller has checked with fits, is
// the snapshot's key.
func (s *keySnapshot) matches(k *Key) bool {
	if k.ID != s.id || k.Algorithm != s.alg {
		return false
	}
	// rsa.PublicKey.Equal compares the moduli in constant time through
	// two copies of their bytes; a public key is no secret, and big.Int's
	// Cmp compares the same values without allocating on every cache hit.
	if a, ok := s.pub.(*rsa.PublicKey); ok {
		b, ok := k.Public.(*rsa.PublicKey)
		return ok && b != nil && b.N != nil && a.E == b.E && a.N.Cmp(b.N) == 0
	}
	// ecdsa.PublicKey.Equal compares the coordinates' bytes, which it
	// allocates: the same comparison with big.Int's Cmp allocates nothing.
	if a, ok := s.pub.(*ecdsa.PublicKey); ok {
		b, ok := k.Public.(*ecdsa.PublicKey)
		//lint:ignore SA1019 the coordinates are read, never modified
		return ok && b != nil && b.X != nil && b.Y != nil && a.Curve == b.Curve && a.X.Cmp(b.X) == 0 && a.Y.Cmp(b.Y) == 0
	}
	return s.pub.Equal(k.Public)
}
