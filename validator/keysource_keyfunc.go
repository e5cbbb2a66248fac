package validator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// This file builds on keyfunc/v3 and jwkset for users of golang-jwt: each
// issuer's policy-filtered keys are a read-only jwkset.Storage, given to
// keyfunc.New, so a jwt.Keyfunc sees exactly the keys Validate uses, with
// the same cache, refresh, single flight and cool-down. keyfunc's own
// HTTP storage is not used: its defaults were measured to fail in the
// ways the key cache documentation lists. Validate itself does not go
// through keyfunc: its warm lookup stays an atomic load and a map lookup.

// jwkIndex is a snapshot's keys as jwkset JWKs. Keys whose kid is
// ambiguous are left out: they never verify.
type jwkIndex struct {
	list []jwkset.JWK
	byID map[string]jwkset.JWK
}

func newKeySnap(set *KeySet, fetched time.Time) *keySnap {
	return &keySnap{set: set, fetched: fetched, jwks: sync.OnceValue(func() *jwkIndex { return buildJWKIndex(set) })}
}

func buildJWKIndex(set *KeySet) *jwkIndex {
	x := &jwkIndex{byID: make(map[string]jwkset.JWK, set.Len())}
	for _, k := range set.Keys() {
		if set.ambiguous[k.ID] {
			continue
		}
		j, err := jwkset.NewJWKFromKey(k.Public, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
			ALG: jwkset.ALG(k.Algorithm),
			KID: k.ID,
			USE: jwkset.UseSig,
		}})
		if err != nil {
			// Every key that passed the policy converts; a failure here
			// only hides the key from Keyfunc.
			continue
		}
		x.list = append(x.list, j)
		x.byID[k.ID] = j
	}
	return x
}

// errReadOnly answers writes to a keyStorage.
var errReadOnly = errors.New("validator: the key storage is read-only: it holds the issuer's keys as fetched and filtered by the key policy")

// keyStorage is a read-only jwkset.Storage over one issuer's current keys.
// For a remote source, a kid it does not hold goes through the source's
// unknown-kid refresh (single flight, cool-down, MaxKeyWait).
type keyStorage struct {
	load func() *keySnap
	// miss is nil for a static set.
	miss func(ctx context.Context, seen *keySnap, kid string) (*keySnap, error)
}

var _ jwkset.Storage = (*keyStorage)(nil)

func (r *remoteKeys) storage() *keyStorage {
	return &keyStorage{load: r.snap.Load, miss: r.miss}
}

func staticStorage(set *KeySet) *keyStorage {
	s := newKeySnap(set, time.Time{})
	return &keyStorage{load: func() *keySnap { return s }}
}

func (s *keyStorage) index() *jwkIndex {
	if snap := s.load(); snap != nil {
		return snap.jwks()
	}
	return &jwkIndex{}
}

// KeyRead returns the JWK of kid, refreshing a remote source's keys when
// it holds none of that kid (see KeySource).
func (s *keyStorage) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	snap := s.load()
	if snap != nil {
		if j, ok := snap.jwks().byID[kid]; ok {
			return j, nil
		}
		if snap.set.ambiguous[kid] {
			return jwkset.JWK{}, fmt.Errorf("%w: %w", jwkset.ErrKeyNotFound, errAmbiguousKid)
		}
	}
	if s.miss != nil {
		cur, err := s.miss(ctx, snap, kid)
		if err != nil {
			return jwkset.JWK{}, err
		}
		if j, ok := cur.jwks().byID[kid]; ok {
			return j, nil
		}
	}
	return jwkset.JWK{}, fmt.Errorf("%w: %w", jwkset.ErrKeyNotFound, errKid)
}

// KeyReadAll returns the current keys.
func (s *keyStorage) KeyReadAll(context.Context) ([]jwkset.JWK, error) {
	return slices.Clone(s.index().list), nil
}

// KeyDelete is refused: the storage is read-only.
func (s *keyStorage) KeyDelete(context.Context, string) (bool, error) { return false, errReadOnly }

// KeyReplaceAll is refused: the storage is read-only.
func (s *keyStorage) KeyReplaceAll(context.Context, []jwkset.JWK) error { return errReadOnly }

// KeyWrite is refused: the storage is read-only.
func (s *keyStorage) KeyWrite(context.Context, jwkset.JWK) error { return errReadOnly }

// JSON returns the current keys as a JWK Set.
func (s *keyStorage) JSON(ctx context.Context) (json.RawMessage, error) {
	m, _ := s.Marshal(ctx)
	return json.Marshal(m)
}

// JSONPublic is JSON: the storage holds only public keys.
func (s *keyStorage) JSONPublic(ctx context.Context) (json.RawMessage, error) { return s.JSON(ctx) }

// JSONPrivate is JSON: the storage holds only public keys.
func (s *keyStorage) JSONPrivate(ctx context.Context) (json.RawMessage, error) { return s.JSON(ctx) }

// JSONWithOptions is JSON: the storage holds only public keys, as
// validated by the key policy.
func (s *keyStorage) JSONWithOptions(ctx context.Context, _ jwkset.JWKMarshalOptions, _ jwkset.JWKValidateOptions) (json.RawMessage, error) {
	return s.JSON(ctx)
}

// Marshal returns the current keys as a JWK Set.
func (s *keyStorage) Marshal(context.Context) (jwkset.JWKSMarshal, error) {
	list := s.index().list
	m := jwkset.JWKSMarshal{Keys: make([]jwkset.JWKMarshal, 0, len(list))}
	for _, j := range list {
		m.Keys = append(m.Keys, j.Marshal())
	}
	return m, nil
}

// MarshalWithOptions is Marshal.
func (s *keyStorage) MarshalWithOptions(ctx context.Context, _ jwkset.JWKMarshalOptions, _ jwkset.JWKValidateOptions) (jwkset.JWKSMarshal, error) {
	return s.Marshal(ctx)
}

// Keyfunc returns a jwt.Keyfunc for github.com/golang-jwt/jwt/v5 that
// serves this Validator's keys; see KeyfuncCtx.
func (v *Validator) Keyfunc() jwt.Keyfunc { return v.KeyfuncCtx(context.Background()) }

// KeyfuncCtx returns a jwt.Keyfunc for github.com/golang-jwt/jwt/v5 that
// serves this Validator's keys, for code that parses tokens with
// golang-jwt rather than Validate. ctx bounds the key fetches it causes.
//
// The token's alg must be in Config.Algorithms and its iss must be a
// configured issuer; that issuer's keys alone are searched, through a
// keyfunc.Keyfunc (github.com/MicahParks/keyfunc/v3) over a read-only
// jwkset.Storage of the policy-filtered keys, so the cache, refresh and
// unknown-kid rules of Validate apply. A token without kid, or an issuer
// with a custom KeySource, is served by the KeySource directly. Keyfunc
// refuses the header parameters and typ that Validate refuses (crit, b64,
// jku, x5u, jwk, x5c, nested JWTs, a typ outside the profile) and then
// checks only the key: the caller must still check the claims (golang-jwt
// checks exp, nbf and, with parser options, iss and aud), which Validate
// does for its own callers. golang-jwt verifies PS256/384/512 with any salt
// length, where Validate requires the hash length (RFC 7518 section 3.5).
func (v *Validator) KeyfuncCtx(ctx context.Context) jwt.Keyfunc {
	kfs := make(map[string]keyfunc.Keyfunc, len(v.sources))
	for iss, src := range v.sources {
		var st *keyStorage
		switch s := src.(type) {
		case *remoteKeys:
			st = s.storage()
		case *KeySet:
			st = staticStorage(s)
		default:
			continue
		}
		kf, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: st, UseWhitelist: []jwkset.USE{jwkset.UseSig}})
		if err != nil {
			continue // only for a nil storage
		}
		kfs[iss] = kf
	}
	return func(t *jwt.Token) (any, error) {
		if t == nil || t.Method == nil {
			return nil, errNoAlg
		}
		alg := t.Method.Alg()
		if !slices.Contains(v.algs, alg) {
			return nil, errAlgNotAllowed
		}
		if err := v.checkHeaderMap(alg, t.Header); err != nil {
			return nil, err
		}
		if t.Claims == nil {
			return nil, errIssuer
		}
		iss, err := t.Claims.GetIssuer()
		if err != nil {
			return nil, errIssuer
		}
		src, ok := v.sources[iss]
		if !ok {
			return nil, errIssuer
		}
		kid := ""
		if raw, ok := t.Header["kid"]; ok {
			if kid, ok = raw.(string); !ok || len(kid) > maxKidLen {
				return nil, errKid
			}
		}
		if kf, ok := kfs[iss]; ok && kid != "" {
			pub, err := kf.KeyfuncCtx(ctx)(t)
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					return nil, e
				}
				return nil, &Error{Class: ErrUnknownKey, Reason: errKid.Reason, Err: err}
			}
			if !(&Key{Public: pub}).fits(alg) {
				return nil, errKeyMismatch
			}
			return pub, nil
		}
		k, err := sourceKey(ctx, src, kid, alg)
		if err != nil {
			return nil, err
		}
		return k.Public, nil
	}
}

// checkHeaderMap applies Validate's header rules to a header golang-jwt
// decoded.
func (v *Validator) checkHeaderMap(alg string, m map[string]any) error {
	h := header{Alg: alg}
	for name, val := range m {
		switch name {
		case "crit":
			h.Crit = true
		case "b64":
			h.B64 = true
		case "jku":
			h.Jku = true
		case "x5u":
			h.X5u = true
		case "jwk":
			h.Jwk = true
		case "x5c":
			h.X5c = true
		case "typ", "cty":
			s, ok := val.(string)
			if !ok {
				return errHeaderJSON
			}
			if name == "typ" {
				h.Typ = s
			} else {
				h.Cty = s
			}
		}
	}
	if err := h.check(); err != nil {
		return err
	}
	if !v.profile.typOK(h.Typ) {
		return errTyp
	}
	return nil
}
