package jwtadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/MicahParks/jwkset"

	"github.com/apiguard/apiguard/validator"
)

// errReadOnly answers writes to the storage.
var errReadOnly = errors.New("jwtadapter: the key storage is read-only: it holds the issuer's keys as fetched and filtered by the key policy")

// Storage returns a read-only jwkset.Storage over src's keys, for
// keyfunc.New (github.com/MicahParks/keyfunc/v3) and other users of
// jwkset. src must show its keys: a *validator.KeySet, a
// *validator.RemoteKeySet, or any KeySource with a KeySet() *KeySet
// method; for another, Storage returns an error.
//
// The storage holds exactly the keys the key policy kept, each with its
// alg and use "sig"; a kid that names several keys is left out, since it
// never verifies. A kid src does not hold goes through src's Key, so a
// RemoteKeySet's unknown-kid refresh (single flight, cool-down,
// MaxKeyWait) applies. Writes are refused.
func Storage(src validator.KeySource) (jwkset.Storage, error) {
	switch s := src.(type) {
	case *validator.KeySet:
		return &storage{src: src, keys: func() *validator.KeySet { return s }}, nil
	case interface{ KeySet() *validator.KeySet }:
		return &storage{src: src, keys: s.KeySet}, nil
	}
	return nil, fmt.Errorf("jwtadapter: a %T does not show its keys (no KeySet method)", src)
}

type storage struct {
	src  validator.KeySource
	keys func() *validator.KeySet
	idx  atomic.Pointer[jwkIndex] // of the last KeySet seen
}

// jwkIndex is one KeySet's keys as jwkset JWKs.
type jwkIndex struct {
	set       *validator.KeySet
	list      []jwkset.JWK
	byID      map[string]jwkset.JWK
	ambiguous map[string]bool
}

// index returns the JWKs of src's current keys, converted once per key set.
func (s *storage) index() *jwkIndex {
	set := s.keys()
	if x := s.idx.Load(); x != nil && x.set == set {
		return x
	}
	x := &jwkIndex{set: set, byID: map[string]jwkset.JWK{}, ambiguous: map[string]bool{}}
	if set == nil {
		return x
	}
	seen := map[string]bool{}
	for _, k := range set.Keys() {
		if seen[k.ID] {
			x.ambiguous[k.ID] = true
		}
		seen[k.ID] = true
	}
	for _, k := range set.Keys() {
		if x.ambiguous[k.ID] {
			continue
		}
		j, err := jwkset.NewJWKFromKey(k.Public, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
			ALG: jwkset.ALG(k.Algorithm),
			KID: k.ID,
			USE: jwkset.UseSig,
		}})
		if err != nil {
			// Every key that passed the policy converts; a failure here
			// only hides the key.
			continue
		}
		x.list = append(x.list, j)
		x.byID[k.ID] = j
	}
	s.idx.Store(x)
	return x
}

// KeyRead returns the JWK of kid. When src holds no key of that kid, it
// asks src, which refreshes a remote key set's keys within its limits.
func (s *storage) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	x := s.index()
	if j, ok := x.byID[kid]; ok {
		return j, nil
	}
	if x.ambiguous[kid] {
		return jwkset.JWK{}, fmt.Errorf("%w: %w", jwkset.ErrKeyNotFound,
			&validator.Error{Class: validator.ErrUnknownKey, Reason: "kid names more than one key"})
	}
	// Any alg: only the refresh matters; the key policy's alg check is
	// keyfunc's, against the JWK's alg.
	if _, err := s.src.Key(ctx, kid, ""); errors.Is(err, validator.ErrKeysUnavailable) {
		return jwkset.JWK{}, err
	}
	if j, ok := s.index().byID[kid]; ok {
		return j, nil
	}
	return jwkset.JWK{}, fmt.Errorf("%w: %w", jwkset.ErrKeyNotFound,
		&validator.Error{Class: validator.ErrUnknownKey, Reason: "no usable key with that kid"})
}

// KeyReadAll returns the current keys.
func (s *storage) KeyReadAll(context.Context) ([]jwkset.JWK, error) {
	return slices.Clone(s.index().list), nil
}

// KeyDelete is refused: the storage is read-only.
func (s *storage) KeyDelete(context.Context, string) (bool, error) { return false, errReadOnly }

// KeyReplaceAll is refused: the storage is read-only.
func (s *storage) KeyReplaceAll(context.Context, []jwkset.JWK) error { return errReadOnly }

// KeyWrite is refused: the storage is read-only.
func (s *storage) KeyWrite(context.Context, jwkset.JWK) error { return errReadOnly }

// JSON returns the current keys as a JWK Set.
func (s *storage) JSON(ctx context.Context) (json.RawMessage, error) {
	m, _ := s.Marshal(ctx)
	return json.Marshal(m)
}

// JSONPublic is JSON: the storage holds only public keys.
func (s *storage) JSONPublic(ctx context.Context) (json.RawMessage, error) { return s.JSON(ctx) }

// JSONPrivate is JSON: the storage holds only public keys.
func (s *storage) JSONPrivate(ctx context.Context) (json.RawMessage, error) { return s.JSON(ctx) }

// JSONWithOptions is JSON: the storage holds only public keys, as
// validated by the key policy.
func (s *storage) JSONWithOptions(ctx context.Context, _ jwkset.JWKMarshalOptions, _ jwkset.JWKValidateOptions) (json.RawMessage, error) {
	return s.JSON(ctx)
}

// Marshal returns the current keys as a JWK Set.
func (s *storage) Marshal(context.Context) (jwkset.JWKSMarshal, error) {
	list := s.index().list
	m := jwkset.JWKSMarshal{Keys: make([]jwkset.JWKMarshal, 0, len(list))}
	for _, j := range list {
		m.Keys = append(m.Keys, j.Marshal())
	}
	return m, nil
}

// MarshalWithOptions is Marshal.
func (s *storage) MarshalWithOptions(ctx context.Context, _ jwkset.JWKMarshalOptions, _ jwkset.JWKValidateOptions) (jwkset.JWKSMarshal, error) {
	return s.Marshal(ctx)
}
