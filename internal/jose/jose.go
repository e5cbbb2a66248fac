// Package jose parses compact JWS serializations strictly, for every
// signed object apiguard reads: access tokens (package validator) and DPoP
// proofs (package dpop). It splits and decodes; it checks no signature and
// applies no policy, which stays with each caller.
//
// What it refuses, so that both callers refuse it alike: a serialization
// over the caller's size cap; anything but three non-empty-headed segments
// of canonical unpadded base64url (RFC 7515 section 2, RFC 8725 section
// 3.1: one encoding per token); a header that is not one JSON object in
// valid UTF-8 with unique member names, whose string parameters are not
// strings, or that holds a letter-case variant of a parameter read here.
package jose

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/apiguard/apiguard/internal/strictjson"
)

// B64 decodes unpadded base64url and refuses non-zero trailing bits, so
// every object has exactly one encoding.
var B64 = base64.RawURLEncoding.Strict()

// Header is a JOSE header. The parameters held as booleans ask for
// processing apiguard never does; callers refuse them whenever present,
// whatever their value.
type Header struct {
	Alg, Typ, Kid, Cty string

	// JWK is the raw JSON value of the jwk parameter, nil when absent.
	// Access tokens refuse it (a key chosen by the sender); DPoP proofs
	// require it.
	JWK jsontext.Value

	Crit, B64, Jku, X5u, X5c bool
}

// Errors are the errors Parse and the decoders return, supplied by the
// caller so that each package reports failures in its own error type
// without wrapping (the rejection path allocates nothing).
type Errors struct {
	TooLarge   error // longer than the size cap
	Segments   error // not three segments, or an empty header or payload
	Encoding   error // a segment is not canonical unpadded base64url
	HeaderJSON error // the header is not a valid JSON object as above
	NoAlg      error // alg is present but not a string
}

// commonValues are the alg and typ values of nearly every token, by their
// JSON text, so that decoding them allocates nothing.
var commonValues = func() map[string]string {
	m := make(map[string]string)
	for _, v := range []string{"JWT", "at+jwt", "application/at+jwt", "dpop+jwt",
		"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		m[`"`+v+`"`] = v
	}
	return m
}()

// headerNames are the members read here; case variants of them are
// refused like those of registered claims.
var headerNames = [...]string{"alg", "typ", "kid", "cty", "crit", "b64", "jku", "x5u", "jwk", "x5c"}

// DecodeHeader decodes a JOSE header strictly into h.
func DecodeHeader(data []byte, h *Header, errs *Errors) error {
	d := strictjson.NewDecoder(data)
	err := h.decode(&d.Decoder, errs)
	d.Release()
	return err
}

func (h *Header) decode(dec *jsontext.Decoder, errs *Errors) error {
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return errs.HeaderJSON
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return errs.HeaderJSON
		}
		var str *string
		isJWK := false
		switch string(name) {
		case `"alg"`:
			if dec.PeekKind() != '"' {
				return errs.NoAlg
			}
			str = &h.Alg
		case `"typ"`:
			str = &h.Typ
		case `"kid"`:
			str = &h.Kid
		case `"cty"`:
			str = &h.Cty
		case `"crit"`:
			h.Crit = true
		case `"b64"`:
			h.B64 = true
		case `"jku"`:
			h.Jku = true
		case `"x5u"`:
			h.X5u = true
		case `"jwk"`:
			isJWK = true
		case `"x5c"`:
			h.X5c = true
		default:
			n, err := strictjson.Unquote(name)
			if err != nil || strictjson.FoldsToAny(n, headerNames[:]) {
				return errs.HeaderJSON
			}
		}
		v, err := dec.ReadValue()
		if err != nil {
			return errs.HeaderJSON
		}
		if isJWK {
			h.JWK = bytes.Clone(v) // v is valid only until the next read
		}
		if str != nil {
			if v.Kind() != '"' {
				return errs.HeaderJSON
			}
			if known, ok := commonValues[string(v)]; ok {
				*str = known
			} else if *str, err = strictjson.Unquote(v); err != nil {
				return errs.HeaderJSON
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return errs.HeaderJSON
	}
	if _, err := dec.ReadValue(); err != io.EOF {
		return errs.HeaderJSON
	}
	return nil
}

// IsJWTMediaType reports whether cty names a JWT: "JWT" or
// "application/jwt" (RFC 7515 section 4.1.10: a cty without "/" means
// "application/" + cty), in any letter case, with or without media type
// parameters and surrounding spaces.
func IsJWTMediaType(cty string) bool {
	mt, _, _ := strings.Cut(cty, ";")
	mt = strings.TrimSpace(mt)
	if len(mt) > len("application/") && strings.EqualFold(mt[:len("application/")], "application/") {
		mt = mt[len("application/"):]
	}
	return strings.EqualFold(mt, "jwt")
}

// JWS is a compact JWS split into its parts.
type JWS struct {
	Header       Header
	SigningInput string // header.payload, as signed
	Payload      []byte // after DecodePayload
	Signature    []byte // after DecodeSignature

	errs       *Errors
	token      string
	dot1, dot2 int
	buf        []byte // room for the decoded payload and signature
}

// Parse checks the compact serialization and decodes the header. The
// payload and the signature wait for DecodePayload and DecodeSignature, so
// that objects refused for their header cost little.
func Parse(token string, maxSize int, errs *Errors) (*JWS, error) {
	if len(token) > maxSize {
		return nil, errs.TooLarge
	}
	// The base64url decoder refuses every byte outside its alphabet except
	// CR and LF, which it skips: refuse those here.
	if strings.IndexByte(token, '\r') >= 0 || strings.IndexByte(token, '\n') >= 0 {
		return nil, errs.Encoding
	}
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return nil, errs.Segments
	}
	dot2 := strings.IndexByte(token[dot1+1:], '.')
	if dot2 < 0 {
		return nil, errs.Segments
	}
	dot2 += dot1 + 1
	if strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return nil, errs.Segments
	}
	if dot1 == 0 || dot2 == dot1+1 {
		return nil, errs.Segments
	}
	t := &JWS{SigningInput: token[:dot2], errs: errs, token: token, dot1: dot1, dot2: dot2}
	// One buffer for the three decoded segments. The []byte conversions
	// below are only read, so the compiler does not copy the token.
	t.buf = make([]byte, B64.DecodedLen(dot1)+B64.DecodedLen(len(token)-dot1))
	hn, err := B64.Decode(t.buf, []byte(token[:dot1]))
	if err != nil {
		return nil, errs.Encoding
	}
	if err := DecodeHeader(t.buf[:hn], &t.Header, errs); err != nil {
		return nil, err
	}
	t.buf = t.buf[hn:]
	return t, nil
}

// DecodePayload decodes the payload.
func (t *JWS) DecodePayload() error {
	n, err := B64.Decode(t.buf, []byte(t.token[t.dot1+1:t.dot2]))
	if err != nil {
		return t.errs.Encoding
	}
	t.Payload, t.buf = t.buf[:n:n], t.buf[n:]
	return nil
}

// DecodeSignature decodes the signature, after DecodePayload.
func (t *JWS) DecodeSignature() error {
	n, err := B64.Decode(t.buf, []byte(t.token[t.dot2+1:]))
	if err != nil {
		return t.errs.Encoding
	}
	t.Signature = t.buf[:n:n]
	return nil
}
