package validator

import (
	"errors"
	"io"

	"github.com/apiguard/apiguard/internal/jose"
	"github.com/apiguard/apiguard/internal/strictjson"
)

// ErrJWK matches every error of [ParseJWK].
var ErrJWK = errors.New("validator: unacceptable JWK")

// jwkError is a fixed, input-free reason that matches ErrJWK.
type jwkError struct{ reason string }

func (e *jwkError) Error() string { return ErrJWK.Error() + ": " + e.reason }
func (e *jwkError) Unwrap() error { return ErrJWK }

// jwkNames are the JWK members of RFC 7517 and RFC 7518 section 6. A
// member whose name is a letter-case variant of one of them is refused:
// the JWK decoder matches names case-insensitively and would read "X" as x.
var jwkNames = [...]string{
	"kty", "use", "key_ops", "alg", "kid", "x5u", "x5c", "x5t", "x5t#S256",
	"crv", "x", "y", "n", "e",
	"d", "p", "q", "dp", "dq", "qi", "oth", "k",
}

// privateJWKNames are the members that carry private or symmetric key
// material (RFC 7518 sections 6.2.2, 6.3.2 and 6.4).
var privateJWKNames = map[string]bool{
	"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true, "oth": true, "k": true,
}

// ParseJWK parses one public JSON Web Key (RFC 7517), such as the jwk
// header parameter of a DPoP proof (RFC 9449 section 4.2), under the key
// policy of [ParseJWKS]. It also refuses, where ParseJWKS is lenient:
//
//   - anything but one JSON object in UTF-8 with unique member names, and
//     a member name that is a letter-case variant of a JWK member;
//   - any private or symmetric member (d, p, q, dp, dq, qi, oth, k),
//     whatever its value, even null or empty, and kty "oct";
//   - a key whose encoding is not the canonical one RFC 7638 hashes: EC
//     coordinates not at the curve's full length, an Ed25519 x not of 32
//     octets, RSA n or e with a leading zero octet.
//
// So the thumbprint of the returned key ([Key.Thumbprint]) is the
// thumbprint of data's members. Errors match [ErrJWK] and never quote data.
func ParseJWK(data []byte) (*Key, error) {
	m, err := scanJWK(data)
	if err != nil {
		return nil, err
	}
	if err := m.canonical(); err != nil {
		return nil, err
	}
	k, err := parseJWK(data)
	if err != nil {
		return nil, &jwkError{err.Error()}
	}
	return k, nil
}

// jwkMembers holds the raw string values of the members ParseJWK checks
// beyond parseJWK; nil means absent or not a string.
type jwkMembers struct {
	kty, crv, x, y, n, e []byte
}

var (
	errJWKJSON      = &jwkError{"not one JSON object with unique member names"}
	errJWKCase      = &jwkError{"a member name is a letter-case variant of a JWK member"}
	errJWKPrivate   = &jwkError{"carries private or symmetric key material"}
	errJWKSymmetric = &jwkError{`kty "oct" is a symmetric key`}
	errJWKCoord     = &jwkError{"EC coordinate is not at the curve's full length"}
	errJWKOKP       = &jwkError{"Ed25519 x is not 32 octets"}
	errJWKRSAInt    = &jwkError{"RSA n or e is not a minimal big-endian integer"}
)

func scanJWK(data []byte) (*jwkMembers, error) {
	d := strictjson.NewBytesDecoder(data)
	defer d.Release()
	dec := &d.Decoder
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, errJWKJSON
	}
	m := new(jwkMembers)
	for dec.PeekKind() != '}' {
		raw, err := dec.ReadValue()
		if err != nil {
			return nil, errJWKJSON
		}
		name, err := strictjson.Unquote(raw)
		if err != nil {
			return nil, errJWKJSON
		}
		v, err := dec.ReadValue()
		if err != nil {
			return nil, errJWKJSON
		}
		if privateJWKNames[name] {
			return nil, errJWKPrivate
		}
		var dst *[]byte
		switch name {
		case "kty":
			dst = &m.kty
		case "crv":
			dst = &m.crv
		case "x":
			dst = &m.x
		case "y":
			dst = &m.y
		case "n":
			dst = &m.n
		case "e":
			dst = &m.e
		default:
			if !isJWKName(name) && strictjson.FoldsToAny(name, jwkNames[:]) {
				return nil, errJWKCase
			}
		}
		if dst != nil && v.Kind() == '"' {
			// Canonical base64url never needs escapes; an escaped value
			// is left for parseJWK to refuse or decode.
			*dst = strictjson.Plain(v)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, errJWKJSON
	}
	if _, err := dec.ReadValue(); err != io.EOF {
		return nil, errJWKJSON
	}
	return m, nil
}

func isJWKName(name string) bool {
	for _, n := range jwkNames {
		if n == name {
			return true
		}
	}
	return false
}

// canonical refuses encodings whose decoded key would hash differently
// from the members as sent.
func (m *jwkMembers) canonical() error {
	switch string(m.kty) {
	case "oct":
		return errJWKSymmetric
	case "EC":
		size := map[string]int{"P-256": 32, "P-384": 48, "P-521": 66}[string(m.crv)]
		if size == 0 {
			return nil // parseJWK refuses the curve
		}
		if decodedLen(m.x) != size || decodedLen(m.y) != size {
			return errJWKCoord
		}
	case "OKP":
		if string(m.crv) == "Ed25519" && decodedLen(m.x) != 32 {
			return errJWKOKP
		}
	case "RSA":
		for _, v := range [][]byte{m.n, m.e} {
			b, err := jose.B64.DecodeString(string(v))
			if err != nil || len(b) == 0 || b[0] == 0 {
				return errJWKRSAInt
			}
		}
	}
	return nil
}

// decodedLen is the length of the canonical base64url v decodes to, or -1.
func decodedLen(v []byte) int {
	b, err := jose.B64.DecodeString(string(v))
	if err != nil {
		return -1
	}
	return len(b)
}

// Verify checks sig, a JWS signature over signingInput, with k for alg,
// under the key policy that [Validator.Validate] applies: alg must be one
// this package verifies and fit k ([Key.Fits]); PS* salts must be as long
// as the hash, ECDSA signatures raw r||s. Errors are *[Error] of class
// [ErrSignature].
func (k *Key) Verify(alg, signingInput string, sig []byte) error {
	if k == nil {
		return errKeyMismatch
	}
	t := jws{Header: header{Alg: alg}, SigningInput: signingInput, Signature: sig}
	return verify(&t, k)
}

// Fits reports whether k may verify signatures made with alg under the key
// policy: an alg this package verifies, of k's type and curve, RSA keys
// from [MinRSABits] to [MaxRSABits], and k's own Algorithm when set (an
// RSA key without one verifies RS256 only).
func (k *Key) Fits(alg string) bool {
	if k == nil {
		return false
	}
	if _, ok := method(alg); !ok {
		return false
	}
	return k.fits(alg)
}
