package validator

import (
	"context"
	"slices"
)

// The core's side of the adapters for other JWT libraries (package
// jwtadapter): the header and key rules of Validate, for a token that
// another library decodes and verifies.

// headerAllowed applies the header rules: the parameters refused whatever
// their value, the alg allow-list and the profile's typ.
func (v *Validator) headerAllowed(h *header) error {
	if err := checkHeader(h); err != nil {
		return err
	}
	if !slices.Contains(v.algs, h.Alg) {
		return errAlgNotAllowed
	}
	if !v.profile.typOK(h.Typ) {
		return errTyp
	}
	return nil
}

// KeyForHeader returns the key that verifies a token of issuer iss whose
// JOSE header, as JSON, is headerJSON, for code that decodes and verifies the
// token with another library (see package jwtadapter). It applies the
// rules Validate applies before the signature: the header is decoded as
// strictly, the same parameters, alg values and typ are refused, the key
// is looked up in iss's key source alone, and the key policy applies to
// what the source returns. The error is an *Error, as Validate's.
//
// The caller must still verify the signature with the key's alg and check
// the claims (exp, nbf, aud), which Validate does for its own callers.
func (v *Validator) KeyForHeader(ctx context.Context, iss string, headerJSON []byte) (*Key, error) {
	var h header
	if err := decodeHeader(headerJSON, &h); err != nil {
		return nil, err
	}
	if err := v.headerAllowed(&h); err != nil {
		return nil, err
	}
	src, ok := v.source(iss)
	if !ok {
		return nil, errIssuer
	}
	return sourceKey(ctx, src, h.Kid, h.Alg)
}
