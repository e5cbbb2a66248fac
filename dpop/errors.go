package dpop

import "errors"

// Error classes. Every error of [Verifier.Verify] and [Verifier.Check]
// matches exactly one of them with [errors.Is] (and [ErrReplay] also
// matches [ErrInvalidProof]); [errors.As] with *[Error] gives the reason.
var (
	// ErrInvalidProof: the DPoP proof is missing, malformed, or fails one
	// of the checks of RFC 9449 section 4.3. Answer 401 with
	// error="invalid_dpop_proof".
	ErrInvalidProof = errors.New("invalid DPoP proof")
	// ErrReplay: the proof was already used. It also matches
	// ErrInvalidProof.
	ErrReplay = errors.New("DPoP proof replayed")
	// ErrUseNonce: server nonces are required and the proof has none, or
	// a stale or unknown one. Answer 401 with error="use_dpop_nonce" and
	// a fresh nonce ([Verifier.Nonce]) in a DPoP-Nonce header.
	ErrUseNonce = errors.New("DPoP nonce required")
	// ErrUnboundToken: the access token has no cnf.jkt, so it cannot be
	// used with the DPoP scheme. Answer 401 with error="invalid_token".
	ErrUnboundToken = errors.New("access token is not DPoP-bound")
	// ErrStoreUnavailable: the replay store failed or is full, so the
	// proof's single use cannot be ensured. The request is refused (fail
	// closed); it is not the client's fault: answer 503.
	ErrStoreUnavailable = errors.New("DPoP replay store unavailable")
)

// Error is the error type of a refused proof. Its message is safe to log
// and to send to the client: it never quotes the proof, the token or any
// value from them, and holds no '"' or '\' (so it fits a quoted-string).
type Error struct {
	// Class is one of the sentinel errors of this package.
	Class error
	// Reason says in a few words what exactly failed.
	Reason string
	// Err is an underlying cause, such as the replay store's error.
	Err error
}

// Error returns the class and the reason.
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

// Is makes ErrReplay match ErrInvalidProof.
func (e *Error) Is(target error) bool {
	return target == ErrInvalidProof && e.Class == ErrReplay
}

// Code returns the OAuth error code to answer with: "invalid_dpop_proof",
// "use_dpop_nonce", "invalid_token" (ErrUnboundToken), or "" for
// ErrStoreUnavailable, which is a server error (503).
func (e *Error) Code() string {
	switch e.Class {
	case ErrInvalidProof, ErrReplay:
		return "invalid_dpop_proof"
	case ErrUseNonce:
		return "use_dpop_nonce"
	case ErrUnboundToken:
		return "invalid_token"
	}
	return ""
}

func invalid(reason string) *Error { return &Error{Class: ErrInvalidProof, Reason: reason} }

// Fixed refusals are allocated once.
var (
	errNoProof      = invalid("no DPoP header")
	errManyProofs   = invalid("more than one DPoP header")
	errTooLarge     = invalid("proof too large")
	errSegments     = invalid("proof is not a compact JWS of three segments")
	errEncoding     = invalid("proof segment is not canonical unpadded base64url")
	errHeaderJSON   = invalid("proof header is not a valid JSON object")
	errNoAlg        = invalid("proof alg missing or not a string")
	errAlg          = invalid("proof alg not allowed")
	errTyp          = invalid("proof typ is not dpop+jwt")
	errHeaderParam  = invalid("proof header has crit, b64, jku, x5u, x5c or a nested cty")
	errNoJWK        = invalid("proof header has no jwk")
	errPayloadJSON  = invalid("proof claims are not a valid JSON object")
	errCaseVariant  = invalid("proof claim name is a letter-case variant of a DPoP claim")
	errJTI          = invalid("proof jti missing or not a non-empty string")
	errHTM          = invalid("proof htm missing or not a string")
	errHTU          = invalid("proof htu missing or not a string")
	errIAT          = invalid("proof iat missing or not a number")
	errATHType      = invalid("proof ath missing or not a string")
	errNonceType    = invalid("proof nonce is not a string")
	errMethod       = invalid("proof htm does not match the request method")
	errURL          = invalid("proof htu does not match the request URL")
	errBadHTU       = invalid("proof htu is not an absolute http or https URL")
	errOld          = invalid("proof iat is too old")
	errFuture       = invalid("proof iat is in the future")
	errATH          = invalid("proof ath does not match the access token")
	errJKT          = invalid("proof key does not match the access token's cnf.jkt")
	errSignature    = invalid("proof signature does not verify")
	errKeyAlg       = invalid("proof jwk does not fit alg")
	errRequestURL   = invalid("request URL cannot be determined")
	errReplayed     = &Error{Class: ErrReplay, Reason: "proof jti already used"}
	errNonceMissing = &Error{Class: ErrUseNonce, Reason: "proof has no nonce"}
	errNonceStale   = &Error{Class: ErrUseNonce, Reason: "proof nonce is stale or unknown"}
	errUnbound      = &Error{Class: ErrUnboundToken, Reason: "access token has no cnf.jkt"}
)
