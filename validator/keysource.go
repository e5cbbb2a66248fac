package validator

import (
	"context"
	"errors"
	"fmt"
)

// KeySource supplies the keys of one issuer. Key returns the key named kid
// (or the only key, when kid is empty) that may verify alg, or an *Error
// of class ErrUnknownKey, ErrSignature (the key does not fit alg) or
// ErrKeysUnavailable. The Validator applies the key policy to what Key
// returns (a nil key or one that does not fit alg is refused), so a
// KeySource of the user's cannot weaken it.
//
// [*KeySet] is a static KeySource and [*RemoteKeySet] a fetched one. A
// KeySource may also implement:
//
//   - Ready(context.Context) error, which [Validator.Ready] reports;
//   - Issuer() string, which New compares with the issuer the source is
//     configured for, so one issuer's keys never serve another;
//   - io.Closer, which a Validator calls only for the key sources it made
//     itself (Config.Keys nil), never for a caller's.
type KeySource interface {
	Key(ctx context.Context, kid, alg string) (*Key, error)
}

// IssuerConfig is one more issuer a Validator accepts (see
// Config.ExtraIssuers).
type IssuerConfig struct {
	// Issuer is the exact iss of the issuer's tokens.
	Issuer string
	// Keys supplies the issuer's keys. When nil, the Validator makes a
	// RemoteKeySet with the defaults (Auth0's JWKS location) and
	// Config.Logger, and closes it in Close.
	Keys KeySource
}

// readier and issuerNamer are the optional interfaces of a KeySource.
type (
	readier     interface{ Ready(context.Context) error }
	issuerNamer interface{ Issuer() string }
)

// sourceKey asks src for the key of kid that may verify alg, and applies
// the key policy to the answer. The keys of a KeySet or RemoteKeySet
// passed checkKey when the set was built; a KeySource of the user's is not
// trusted to have applied it, so its keys go through checkKey here.
// Validate and KeyForHeader both take their keys from here.
func sourceKey(ctx context.Context, src KeySource, kid, alg string) (*Key, error) {
	k, err := src.Key(ctx, kid, alg)
	switch {
	case err != nil:
		return nil, err
	case k == nil:
		return nil, errKid // the source found nothing, without saying so
	case !k.fits(alg):
		return nil, errKeyMismatch
	}
	switch src.(type) {
	case *KeySet, *RemoteKeySet:
	default:
		if err := checkKey(k); err != nil {
			return nil, &Error{Class: ErrSignature, Reason: "key refused by the key policy", Err: err}
		}
	}
	return k, nil
}

// source returns the key source of issuer iss, and whether iss is an
// accepted issuer. Config.Issuer is compared first: nearly every token
// is its, and a comparison costs less than a map lookup.
func (v *Validator) source(iss string) (KeySource, bool) {
	if iss == v.issuer {
		return v.issuerKeys, true
	}
	src, ok := v.sources[iss]
	return src, ok
}

// initKeys binds a key source to every accepted issuer. For an issuer
// without one it makes a RemoteKeySet, which the Validator owns; those
// load their keys in parallel, and New waits for them all.
func (v *Validator) initKeys(ctx context.Context, cfg *Config) error {
	issuers := make([]IssuerConfig, 0, 1+len(cfg.ExtraIssuers))
	issuers = append(issuers, IssuerConfig{Issuer: cfg.Issuer, Keys: cfg.Keys})
	issuers = append(issuers, cfg.ExtraIssuers...)
	sources := make(map[string]KeySource, len(issuers))
	var owned []*RemoteKeySet
	fail := func(err error) error {
		for _, r := range owned {
			r.Close()
		}
		return err
	}
	for _, ic := range issuers {
		if ic.Issuer == "" {
			return fail(errors.New("validator: every issuer needs a non-empty Issuer"))
		}
		if _, dup := sources[ic.Issuer]; dup {
			return fail(fmt.Errorf("validator: issuer %q configured twice", ic.Issuer))
		}
		if ic.Keys != nil {
			if n, ok := ic.Keys.(issuerNamer); ok && n.Issuer() != ic.Issuer {
				return fail(fmt.Errorf("validator: the keys of issuer %q are given for issuer %q", n.Issuer(), ic.Issuer))
			}
			sources[ic.Issuer] = ic.Keys
			continue
		}
		r, err := newRemoteKeySet(RemoteConfig{Issuer: ic.Issuer, Logger: cfg.Logger})
		if err != nil {
			return fail(err)
		}
		sources[ic.Issuer] = r
		owned = append(owned, r)
	}
	flights := make([]*flight, len(owned))
	for i, r := range owned {
		flights[i] = r.start()
	}
	for i, f := range flights {
		if err := owned[i].await(ctx, f); err != nil {
			return fail(err)
		}
	}
	v.sources = sources
	v.issuer, v.issuerKeys = cfg.Issuer, sources[cfg.Issuer]
	for _, r := range owned {
		v.owned = append(v.owned, r)
	}
	return nil
}

// Ready reports whether every issuer's keys can serve lookups now: nil
// when the Validator can check tokens, and otherwise an *Error of class
// ErrKeysUnavailable that names the issuers that are not ready. It asks
// every key source that has a Ready method (a RemoteKeySet does; a
// KeySet is always ready). Use it as a readiness probe: a RemoteKeySet's
// Ready does no I/O.
func (v *Validator) Ready(ctx context.Context) error {
	var errs []error
	for _, src := range v.sources {
		if r, ok := src.(readier); ok {
			if err := r.Ready(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return &Error{Class: ErrKeysUnavailable, Reason: fmt.Sprintf("%d issuers not ready", len(errs)), Err: errors.Join(errs...)}
}

// Close closes the key sources the Validator made itself (issuers
// configured without Keys), which stops their background refreshes and
// waits for them, so no goroutine outlives it. The Validator must not be
// used afterwards. Calling Close again does nothing. Key sources given in
// the Config are the caller's to close.
func (v *Validator) Close() error {
	var errs []error
	for _, c := range v.owned {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
