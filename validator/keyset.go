package validator

import (
	"context"
	"errors"
	"fmt"
)

// Key is a public key that verifies tokens.
type Key struct {
	// ID is the key's kid. It may be empty in a set of one key.
	ID string
	// Algorithm is the only alg the key verifies (the JWK's alg member).
	// When empty, the key still verifies exactly one algorithm (RFC 8725
	// section 3.1), the one its type implies: RS256 for an RSA key (the
	// JWA default, and what Auth0 signs with; publish alg to use PS* or
	// RS384/RS512), ES256, ES384 or ES512 by curve for an EC key, EdDSA
	// for an Ed25519 key.
	Algorithm string
	// Public is an *rsa.PublicKey, an *ecdsa.PublicKey or an
	// ed25519.PublicKey.
	Public any
}

// KeySet is the keys of one issuer. The zero KeySet is empty. A KeySet is
// immutable, so one value is safe to share.
type KeySet struct {
	byID map[string]*Key
	// ambiguous holds kids that name more than one key: RFC 7517 lets a
	// set reuse a kid for different kty, but a verifier must never guess.
	ambiguous map[string]bool
	keys      []*Key
	skipped   error // the keys ParseJWKS left out, and why
}

// NewKeySet returns a KeySet of keys, which must pass the key policy (see
// [ParseJWKS]).
func NewKeySet(keys ...*Key) (*KeySet, error) {
	s := &KeySet{byID: make(map[string]*Key, len(keys)), ambiguous: map[string]bool{}}
	for _, k := range keys {
		if k == nil {
			return nil, errors.New("validator: nil key")
		}
		if err := checkKey(k); err != nil {
			return nil, fmt.Errorf("validator: key %q: %w", k.ID, err)
		}
		s.add(k)
	}
	return s, nil
}

func (s *KeySet) add(k *Key) {
	s.keys = append(s.keys, k)
	if _, dup := s.byID[k.ID]; dup {
		s.ambiguous[k.ID] = true
		return
	}
	s.byID[k.ID] = k
}

// Skipped reports the keys of the JWKS that ParseJWKS left out by the key
// policy, and why (errors.Join of one error per key), or nil when none
// were.
func (s *KeySet) Skipped() error { return s.skipped }

// Len returns the number of keys in s.
func (s *KeySet) Len() int { return len(s.keys) }

// Keys returns the keys in s. The caller must not modify them.
func (s *KeySet) Keys() []*Key { return s.keys }

// lookup finds the key for kid and alg. errKid means the set has no key of
// that kid, which may justify a refresh; every other error is final.
func (s *KeySet) lookup(kid, alg string) (*Key, error) {
	if s == nil {
		return nil, errKid
	}
	if s.ambiguous[kid] {
		return nil, errAmbiguousKid
	}
	if kid == "" {
		if len(s.keys) != 1 {
			return nil, errNoKid
		}
		if k := s.keys[0]; k.fits(alg) {
			return k, nil
		}
		return nil, errKeyMismatch
	}
	k, ok := s.byID[kid]
	if !ok {
		return nil, errKid
	}
	if !k.fits(alg) {
		return nil, errKeyMismatch
	}
	return k, nil
}

// Key implements [KeySource] for a fixed set of keys.
func (s *KeySet) Key(_ context.Context, kid, alg string) (*Key, error) {
	return s.lookup(kid, alg)
}
