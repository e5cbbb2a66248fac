package validator

import (
	"crypto"
	"crypto/rsa"

	"github.com/golang-jwt/jwt/v5"

	"github.com/apiguard/apiguard/internal/jose"
)

// The compact-JWS layer is shared with DPoP proofs (internal/jose); these
// names keep the validator's code and tests short.
type (
	header = jose.Header
	jws    = jose.JWS
)

// joseErrors makes internal/jose report failures as this package's errors.
var joseErrors = &jose.Errors{
	TooLarge:   errTooLarge,
	Segments:   errSegments,
	Encoding:   errEncoding,
	HeaderJSON: errHeaderJSON,
	NoAlg:      errNoAlg,
}

// maxKidLen bounds kid: longer ones are junk and never worth a key fetch.
const maxKidLen = 256

// parseJWS checks the compact serialization and decodes the header. The
// payload and the signature wait for DecodePayload and DecodeSignature, so
// that tokens refused for their header or issuer cost little. It does no
// crypto and no key lookup.
func parseJWS(token string, maxSize int) (*jws, error) {
	return jose.Parse(token, maxSize, joseErrors)
}

// decodeHeader decodes a JOSE header strictly.
func decodeHeader(data []byte, h *header) error {
	return jose.DecodeHeader(data, h, joseErrors)
}

// check refuses what RFC 8725 section 3.1 and RFC 7515 section 4.1.11
// say a verifier must not silently accept: parameters that point at keys
// the attacker chose, or that change how the token is processed.
func checkHeader(h *header) error {
	switch {
	case h.Alg == "":
		return errNoAlg
	case h.Crit:
		return errCrit
	case h.B64:
		return errB64
	case h.Jku:
		return errJku
	case h.X5u:
		return errX5u
	case h.JWK != nil:
		return errJwk
	case h.X5c:
		return errX5c
	// RFC 7515 section 4.1.10: a cty without "/" means "application/" + cty.
	case jose.IsJWTMediaType(h.Cty):
		return errNested
	case len(h.Kid) > maxKidLen:
		return errKidLen
	}
	return nil
}

var (
	errCrit   = headerError("crit")
	errB64    = headerError("b64")
	errJku    = headerError("jku")
	errX5u    = headerError("x5u")
	errJwk    = headerError("jwk")
	errX5c    = headerError("x5c")
	errNested = headerError("nested JWT (cty)")
	errKidLen = &Error{Class: ErrUnknownKey, Reason: "kid too long"}
)

// methods are the signature algorithms this package verifies. PS* use a
// salt as long as the hash, as RFC 7518 section 3.5 requires, where
// golang-jwt's defaults accept any salt length on verification.
var methods = map[string]jwt.SigningMethod{
	"RS256": jwt.SigningMethodRS256,
	"RS384": jwt.SigningMethodRS384,
	"RS512": jwt.SigningMethodRS512,
	"PS256": strictPSS(jwt.SigningMethodRS256, crypto.SHA256),
	"PS384": strictPSS(jwt.SigningMethodRS384, crypto.SHA384),
	"PS512": strictPSS(jwt.SigningMethodRS512, crypto.SHA512),
	"ES256": jwt.SigningMethodES256,
	"ES384": jwt.SigningMethodES384,
	"ES512": jwt.SigningMethodES512,
	"EdDSA": jwt.SigningMethodEdDSA,
}

func strictPSS(rs *jwt.SigningMethodRSA, h crypto.Hash) jwt.SigningMethod {
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
	return &jwt.SigningMethodRSAPSS{
		SigningMethodRSA: &jwt.SigningMethodRSA{Name: "PS" + rs.Name[2:], Hash: h},
		Options:          opts,
		VerifyOptions:    opts,
	}
}

// verify checks t's signature with k, which must fit t's alg.
func verify(t *jws, k *Key) error {
	m, ok := methods[t.Header.Alg]
	if !ok || !k.fits(t.Header.Alg) {
		return errKeyMismatch
	}
	if len(t.Signature) == 0 {
		return errNoSignature
	}
	if err := m.Verify(t.SigningInput, t.Signature, k.Public); err != nil {
		return errNoSignature
	}
	return nil
}
