package validator

import (
	"errors"
)

// Error classes. Every error that [Validator.Validate] returns matches
// exactly one of these with [errors.Is], and all but [ErrKeysUnavailable]
// also match [ErrInvalidToken]. Use [errors.As] with *[Error] for the detail.
var (
	// ErrInvalidToken matches every rejection of the token itself, as
	// opposed to ErrKeysUnavailable, which is the issuer's fault.
	ErrInvalidToken = errors.New("invalid token")

	// ErrMalformed: not a compact JWS of three canonical base64url
	// segments holding JSON objects, too large, or a claims set that
	// claims.Parse refuses.
	ErrMalformed = errors.New("malformed token")
	// ErrAlgorithm: alg missing, not a string, or not allowed.
	ErrAlgorithm = errors.New("algorithm not allowed")
	// ErrHeader: a header parameter asks for processing this validator
	// does not do (crit, b64, jku, x5u, jwk, x5c, nested cty).
	ErrHeader = errors.New("unsupported header parameter")
	// ErrTokenType: typ does not fit the configured profile.
	ErrTokenType = errors.New("wrong token type")
	// ErrUnknownKey: no usable key for the token's kid, or an ambiguous one.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrSignature: the signature does not verify, or the key does not fit alg.
	ErrSignature = errors.New("invalid signature")
	// ErrExpired: exp is missing or in the past beyond the leeway.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid: nbf or iat is in the future beyond the leeway.
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrIssuer: iss is not the configured issuer, compared exactly.
	ErrIssuer = errors.New("wrong issuer")
	// ErrAudience: none of the token's audiences is accepted.
	ErrAudience = errors.New("wrong audience")
	// ErrClaims: a claim the profile requires is missing or invalid.
	ErrClaims = errors.New("missing or invalid claim")

	// ErrKeysUnavailable: the issuer's keys could not be loaded, so no
	// token can be checked now. Not the client's fault: the middleware
	// answers 503.
	ErrKeysUnavailable = errors.New("signing keys unavailable")
)

// Error is the error type of a failed validation. Its message is safe to
// log and to show a client: it never contains the token, its claims or
// unverified header values.
type Error struct {
	// Class is one of the sentinel errors of this package.
	Class error
	// Reason says in a few words what exactly failed.
	Reason string
	// Err is an underlying cause, if any, such as a key fetch error.
	Err error
}

// Error returns the class and the reason, e.g. "token expired: exp is in
// the past".
func (e *Error) Error() string {
	if e.Reason == "" {
		return e.Class.Error()
	}
	return e.Class.Error() + ": " + e.Reason
}

// Unwrap returns the class and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Class, e.Err}
	}
	return []error{e.Class}
}

// Is makes every class but ErrKeysUnavailable match ErrInvalidToken.
func (e *Error) Is(target error) bool {
	return target == ErrInvalidToken && e.Class != ErrKeysUnavailable
}

// Rejections that are fixed strings are allocated once.
var (
	errTooLarge      = &Error{Class: ErrMalformed, Reason: "token too large"}
	errSegments      = &Error{Class: ErrMalformed, Reason: "not a compact JWS of three segments"}
	errEncoding      = &Error{Class: ErrMalformed, Reason: "segment is not canonical unpadded base64url"}
	errHeaderJSON    = &Error{Class: ErrMalformed, Reason: "header is not a valid JSON object"}
	errNoAlg         = &Error{Class: ErrAlgorithm, Reason: "alg missing or not a string"}
	errAlgNotAllowed = &Error{Class: ErrAlgorithm, Reason: "alg not allowed"}
	errTyp           = &Error{Class: ErrTokenType, Reason: "typ does not fit the access token profile"}
	errNoSignature   = &Error{Class: ErrSignature, Reason: "signature does not verify"}
	errKeyMismatch   = &Error{Class: ErrSignature, Reason: "key does not fit alg"}
	errNoKid         = &Error{Class: ErrUnknownKey, Reason: "no kid and more than one key"}
	errKid           = &Error{Class: ErrUnknownKey, Reason: "no usable key with that kid"}
	errAmbiguousKid  = &Error{Class: ErrUnknownKey, Reason: "kid names more than one key"}
	errIssuer        = &Error{Class: ErrIssuer, Reason: "iss is not the configured issuer"}
	errNoExp         = &Error{Class: ErrExpired, Reason: "exp missing"}
	errExpired       = &Error{Class: ErrExpired, Reason: "exp is in the past"}
	errNbf           = &Error{Class: ErrNotYetValid, Reason: "nbf is in the future"}
	errIat           = &Error{Class: ErrNotYetValid, Reason: "iat is in the future"}
)

func headerError(param string) error {
	return &Error{Class: ErrHeader, Reason: param + " is not supported"}
}

func claimError(reason string) error {
	return &Error{Class: ErrClaims, Reason: reason}
}
