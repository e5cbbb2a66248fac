package validator

import (
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/golang-jwt/jwt/v5"
)

// b64 decodes unpadded base64url and refuses non-zero trailing bits, so
// every token has exactly one encoding (RFC 7515 section 2; RFC 8725
// section 3.1 on ambiguous encodings).
var b64 = base64.RawURLEncoding.Strict()

// header is the JOSE header. Presence of the members held as jsontext.Value
// is enough to refuse the token.
type header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
	Cty string `json:"cty"`

	Crit jsontext.Value `json:"crit"`
	B64  jsontext.Value `json:"b64"`
	Jku  jsontext.Value `json:"jku"`
	X5u  jsontext.Value `json:"x5u"`
	Jwk  jsontext.Value `json:"jwk"`
	X5c  jsontext.Value `json:"x5c"`

	Other map[string]jsontext.Value `json:",embed,unknown"`
}

// headerNames are the members read above; case variants of them are
// refused like those of registered claims.
var headerNames = [...]string{"alg", "typ", "kid", "cty", "crit", "b64", "jku", "x5u", "jwk", "x5c"}

// maxKidLen bounds kid: longer ones are junk and never worth a key fetch.
const maxKidLen = 256

// jws is a compact JWS split into its parts.
type jws struct {
	header       header
	signingInput string // header.payload, as signed
	payload      []byte
	signature    []byte
}

// parseJWS checks the compact serialization and decodes its three
// segments. It does no crypto and no key lookup.
func parseJWS(token string, maxSize int) (*jws, error) {
	if len(token) > maxSize {
		return nil, errTooLarge
	}
	// The base64url decoder below refuses every byte outside its alphabet
	// except CR and LF, which it skips: refuse those here.
	if strings.ContainsAny(token, "\r\n") {
		return nil, errEncoding
	}
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return nil, errSegments
	}
	dot2 := strings.IndexByte(token[dot1+1:], '.')
	if dot2 < 0 {
		return nil, errSegments
	}
	dot2 += dot1 + 1
	if strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return nil, errSegments
	}
	h, p, s := token[:dot1], token[dot1+1:dot2], token[dot2+1:]
	if len(h) == 0 || len(p) == 0 {
		return nil, errSegments
	}
	// One copy of the token and one buffer for its three decoded segments.
	src := []byte(token)
	buf := make([]byte, b64.DecodedLen(len(h))+b64.DecodedLen(len(p))+b64.DecodedLen(len(s)))
	hn, err := b64.Decode(buf, src[:dot1])
	if err != nil {
		return nil, errEncoding
	}
	pn, err := b64.Decode(buf[hn:], src[dot1+1:dot2])
	if err != nil {
		return nil, errEncoding
	}
	sn, err := b64.Decode(buf[hn+pn:], src[dot2+1:])
	if err != nil {
		return nil, errEncoding
	}
	t := &jws{
		signingInput: token[:dot2],
		payload:      buf[hn : hn+pn : hn+pn],
		signature:    buf[hn+pn : hn+pn+sn : hn+pn+sn],
	}
	if err := json.Unmarshal(buf[:hn], &t.header); err != nil {
		var se *json.SemanticError
		if errors.As(err, &se) && se.JSONPointer == "/alg" {
			return nil, errNoAlg
		}
		return nil, errHeaderJSON
	}
	for name := range t.header.Other {
		for _, known := range headerNames {
			if strings.EqualFold(name, known) {
				return nil, errHeaderJSON
			}
		}
	}
	return t, nil
}

// check refuses what RFC 8725 section 3.1 and RFC 7515 section 4.1.11
// say a verifier must not silently accept: parameters that point at keys
// the attacker chose, or that change how the token is processed.
func (h *header) check() error {
	switch {
	case h.Alg == "":
		return errNoAlg
	case h.Crit != nil:
		return errCrit
	case h.B64 != nil:
		return errB64
	case h.Jku != nil:
		return errJku
	case h.X5u != nil:
		return errX5u
	case h.Jwk != nil:
		return errJwk
	case h.X5c != nil:
		return errX5c
	case strings.EqualFold(h.Cty, "JWT"):
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
func (t *jws) verify(k *Key) error {
	m, ok := methods[t.header.Alg]
	if !ok || !k.fits(t.header.Alg) {
		return errKeyMismatch
	}
	if len(t.signature) == 0 {
		return errNoSignature
	}
	if err := m.Verify(t.signingInput, t.signature, k.Public); err != nil {
		return errNoSignature
	}
	return nil
}
