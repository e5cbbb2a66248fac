// Package jwtadapter connects a [validator.Validator] to two other JWT
// libraries, for code that already uses them:
//
//   - [ValidateToken] has the signature of go-jwt-middleware v2's
//     ValidateToken option, so jwtmiddleware.New(jwtadapter.ValidateToken(v))
//     checks tokens with v;
//   - [Keyfunc] is a jwt.Keyfunc for github.com/golang-jwt/jwt/v5 that
//     serves v's keys under v's header and key rules;
//   - [Storage] is a read-only jwkset.Storage over one issuer's keys, for
//     keyfunc.New (github.com/MicahParks/keyfunc/v3).
//
// The rules themselves stay in package validator (see
// [validator.Validator.KeyForHeader]): this package only translates.
package jwtadapter

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/apiguard/apiguard/validator"
)

// ValidateToken returns v.Validate with the signature go-jwt-middleware v2
// expects of its ValidateToken option. The value is a *claims.Claims.
func ValidateToken(v *validator.Validator) func(ctx context.Context, token string) (any, error) {
	return func(ctx context.Context, token string) (any, error) {
		c, err := v.Validate(ctx, token)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

var (
	errNoMethod = &validator.Error{Class: validator.ErrAlgorithm, Reason: "alg missing or not a string"}
	errNoIssuer = &validator.Error{Class: validator.ErrIssuer, Reason: "iss missing or not a string"}
	errHeader   = &validator.Error{Class: validator.ErrMalformed, Reason: "header is not a valid JSON object"}
	errMethod   = &validator.Error{Class: validator.ErrAlgorithm, Reason: "alg differs from the header's"}
)

// Keyfunc returns a jwt.Keyfunc for github.com/golang-jwt/jwt/v5 that
// serves v's keys, for code that parses tokens with golang-jwt rather than
// v.Validate. ctx bounds the key fetches it causes.
//
// It applies v's rules before the signature, through
// [validator.Validator.KeyForHeader]: the token's header (from the raw
// token, so duplicate or case-variant members are refused as Validate
// refuses them) must pass v's header rules, alg allow-list and typ
// profile; its iss must be a configured issuer, whose keys alone are
// searched, with the cache, refresh and unknown-kid rules of v's key
// sources; and the key policy applies to every key, whatever its source.
// The caller must still check the claims (golang-jwt checks exp, nbf and,
// with parser options, iss and aud), which Validate does for its own
// callers. golang-jwt verifies PS256/384/512 with any salt length, where
// Validate requires the hash length (RFC 7518 section 3.5).
func Keyfunc(ctx context.Context, v *validator.Validator) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if t == nil || t.Method == nil {
			return nil, errNoMethod
		}
		hdr, err := headerJSON(t)
		if err != nil {
			return nil, err
		}
		if t.Claims == nil {
			return nil, errNoIssuer
		}
		iss, err := t.Claims.GetIssuer()
		if err != nil {
			return nil, errNoIssuer
		}
		k, err := v.KeyForHeader(ctx, iss, hdr)
		if err != nil {
			return nil, err
		}
		if alg, _ := t.Header["alg"].(string); alg != t.Method.Alg() {
			return nil, errMethod
		}
		return k.Public, nil
	}
}

// headerJSON returns the token's header as JSON: the decoded first segment
// of the raw token when golang-jwt parsed one, and otherwise the header
// map encoded again.
func headerJSON(t *jwt.Token) ([]byte, error) {
	if seg, _, ok := strings.Cut(t.Raw, "."); ok {
		b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
		if err != nil {
			return nil, errHeader
		}
		return b, nil
	}
	b, err := json.Marshal(t.Header)
	if err != nil {
		return nil, errHeader
	}
	return b, nil
}
