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
	// require it. It never aliases the caller's input: DecodeHeader copies
	// it, Parse keeps it in the JWS's own buffer.
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

// commonValue returns the alg or typ value of nearly every token whose
// JSON text is quoted, so that decoding it allocates nothing. A switch
// rather than a map: no hashing, and no table to bring into the cache on
// every token.
func commonValue(quoted []byte) (string, bool) {
	switch string(quoted) {
	case `"JWT"`:
		return "JWT", true
	case `"at+jwt"`:
		return "at+jwt", true
	case `"application/at+jwt"`:
		return "application/at+jwt", true
	case `"dpop+jwt"`:
		return "dpop+jwt", true
	case `"RS256"`:
		return "RS256", true
	case `"RS384"`:
		return "RS384", true
	case `"RS512"`:
		return "RS512", true
	case `"PS256"`:
		return "PS256", true
	case `"PS384"`:
		return "PS384", true
	case `"PS512"`:
		return "PS512", true
	case `"ES256"`:
		return "ES256", true
	case `"ES384"`:
		return "ES384", true
	case `"ES512"`:
		return "ES512", true
	case `"EdDSA"`:
		return "EdDSA", true
	}
	return "", false
}

// headerNames are the members read here; case variants of them are
// refused like those of registered claims.
var headerNames = [...]string{"alg", "typ", "kid", "cty", "crit", "b64", "jku", "x5u", "jwk", "x5c"}

// DecodeHeader decodes a JOSE header strictly into h.
func DecodeHeader(data []byte, h *Header, errs *Errors) error {
	kid, err := DecodeHeaderKid(data, h, errs)
	if err == nil && kid != nil {
		h.Kid = string(kid)
	}
	return err
}

// DecodeHeaderKid is DecodeHeader for callers that look the kid up before
// making a string of it: it returns the kid's value (nil when absent),
// which may alias data, and leaves h.Kid empty. h keeps no reference to
// data, so data may live on the caller's stack.
func DecodeHeaderKid(data []byte, h *Header, errs *Errors) (kid []byte, err error) {
	if kid, jwk, ok := decodeCommonHeader(data, h); ok {
		if jwk != nil {
			h.JWK = bytes.Clone(jwk) // data may be reused, or on the stack
		}
		return kid, nil
	}
	return decodeStrict(data, h, errs)
}

// decodeStrict decodes a header with the general, strict decoder.
func decodeStrict(data []byte, h *Header, errs *Errors) (kid []byte, err error) {
	*h = Header{}
	d := newStrict(data)
	kid, err = h.decode(&d.Decoder, data, errs)
	d.Release()
	return kid, err
}

// newStrict returns a strict decoder over a copy of data: the decoded
// header must not alias data, and the fast path covers nearly every token.
func newStrict(data []byte) *strictjson.Decoder { return strictjson.NewDecoder(string(data)) }

func (h *Header) decode(dec *jsontext.Decoder, data []byte, errs *Errors) (kid []byte, err error) {
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, errs.HeaderJSON
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return nil, errs.HeaderJSON
		}
		var str *string
		isJWK, isKid := false, false
		switch string(name) {
		case `"alg"`:
			if dec.PeekKind() != '"' {
				return nil, errs.NoAlg
			}
			str = &h.Alg
		case `"typ"`:
			str = &h.Typ
		case `"kid"`:
			isKid = true
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
				return nil, errs.HeaderJSON
			}
		}
		v, err := dec.ReadValue()
		if err != nil {
			return nil, errs.HeaderJSON
		}
		switch {
		case isJWK:
			h.JWK = bytes.Clone(v) // v is valid only until the next read
		case isKid:
			if v.Kind() != '"' {
				return nil, errs.HeaderJSON
			}
			if plain := strictjson.Plain(v); plain != nil {
				// The decoder reads a copy of data: the same bytes are in
				// data at the same offsets.
				end := int(dec.InputOffset()) - 1
				kid = data[end-len(plain) : end : end]
			} else if kid, err = jsontext.AppendUnquote(nil, v); err != nil {
				return nil, errs.HeaderJSON
			}
		case str != nil:
			if v.Kind() != '"' {
				return nil, errs.HeaderJSON
			}
			if known, ok := commonValue(v); ok {
				*str = known
			} else if *str, err = strictjson.Unquote(v); err != nil {
				return nil, errs.HeaderJSON
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, errs.HeaderJSON
	}
	if _, err := dec.ReadValue(); err != io.EOF {
		return nil, errs.HeaderJSON
	}
	return kid, nil
}

// decodeCommonHeader decodes the headers nearly every token and DPoP proof
// has without the general decoder: a JSON object without whitespace of
// the members alg, typ, kid and jwk, each at most once, whose alg, typ and
// kid values are strings of printable ASCII without escapes, with alg and
// typ among commonValue's, and whose jwk value is a flat object (see
// flatObjectEnd). ok is false for anything else, which the strict decoder
// then decides: on what it accepts it decides exactly as the strict
// decoder (FuzzCommonHeader), and it refuses nothing itself.
//
// kid and jwk alias data (jwk is the raw JSON text of the value, as the
// strict decoder gives it); h is left without JWK, for the caller to copy
// jwk or not. Nor does h keep any other reference to data.
func decodeCommonHeader(data []byte, h *Header) (kid, jwk []byte, ok bool) {
	if len(data) < 2 || data[0] != '{' || data[len(data)-1] != '}' {
		return nil, nil, false
	}
	*h = Header{}
	var seenAlg, seenTyp, seenKid bool
	i := 1
	if data[i] == '}' {
		return nil, nil, i+1 == len(data)
	}
	for {
		name, next, ok := strictjson.PlainASCII(data, i)
		if !ok || next >= len(data) || data[next] != ':' {
			return nil, nil, false
		}
		var end int
		switch string(name) {
		case "alg", "typ":
			if _, end, ok = strictjson.PlainASCII(data, next+1); !ok {
				return nil, nil, false
			}
			v, known := commonValue(data[next+1 : end])
			seen, dst := &seenAlg, &h.Alg
			if name[0] == 't' {
				seen, dst = &seenTyp, &h.Typ
			}
			if *seen || !known {
				return nil, nil, false
			}
			*seen, *dst = true, v
		case "kid":
			var val []byte
			if val, end, ok = strictjson.PlainASCII(data, next+1); !ok || seenKid {
				return nil, nil, false
			}
			seenKid, kid = true, val[:len(val):len(val)]
		case "jwk":
			if end, ok = flatObjectEnd(data, next+1); !ok || jwk != nil {
				return nil, nil, false
			}
			jwk = data[next+1 : end : end]
		default:
			return nil, nil, false
		}
		if end >= len(data) {
			return nil, nil, false
		}
		switch data[end] {
		case '}':
			return kid, jwk, end+1 == len(data)
		case ',':
			i = end + 1
		default:
			return nil, nil, false
		}
	}
}

// maxFlatMembers bounds the members flatObjectEnd takes, so that its
// check for duplicate names stays cheap. A proof's public JWK has fewer
// (kty, crv, x, y or kty, n, e; perhaps kid, alg, use). Members of other
// types (WebCrypto's "ext": true, "key_ops": [...]) leave it to the
// strict decoder.
const maxFlatMembers = 12

// flatObjectEnd returns the index after the JSON object at data[i] when
// it is flat: without whitespace, at most maxFlatMembers members, whose
// names and values are strings of printable ASCII without escapes, the
// names unique (as the strict decoder requires at every depth).
func flatObjectEnd(data []byte, i int) (next int, ok bool) {
	if i >= len(data) || data[i] != '{' {
		return 0, false
	}
	i++
	if i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	var names [maxFlatMembers][]byte
	for n := 0; n < len(names); n++ {
		name, colon, ok := strictjson.PlainASCII(data, i)
		if !ok || colon >= len(data) || data[colon] != ':' {
			return 0, false
		}
		for _, prev := range names[:n] {
			if string(prev) == string(name) {
				return 0, false
			}
		}
		names[n] = name
		_, end, ok := strictjson.PlainASCII(data, colon+1)
		if !ok || end >= len(data) {
			return 0, false
		}
		switch data[end] {
		case '}':
			return end + 1, true
		case ',':
			i = end + 1
		default:
			return 0, false
		}
	}
	return 0, false
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

// Parts are the three segments of a compact JWS, still encoded:
// substrings of the token.
type Parts struct {
	Header, Payload, Signature string
	// SigningInput is header.payload, as signed.
	SigningInput string
}

// DecodedLen is the room the three decoded segments need.
func (p *Parts) DecodedLen() int {
	return B64.DecodedLen(len(p.Header)) + B64.DecodedLen(len(p.Payload)) + B64.DecodedLen(len(p.Signature))
}

// Split checks the compact serialization's size and shape and splits it.
// It decodes nothing.
func Split(token string, maxSize int, errs *Errors) (Parts, error) {
	if len(token) > maxSize {
		return Parts{}, errs.TooLarge
	}
	// Decode refuses every byte outside the base64url alphabet, but CR
	// and LF are refused before anything else, as B64 (which skips them)
	// needed: a token with one is malformed whatever else it holds.
	if strings.IndexByte(token, '\r') >= 0 || strings.IndexByte(token, '\n') >= 0 {
		return Parts{}, errs.Encoding
	}
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return Parts{}, errs.Segments
	}
	dot2 := strings.IndexByte(token[dot1+1:], '.')
	if dot2 < 0 {
		return Parts{}, errs.Segments
	}
	dot2 += dot1 + 1
	if strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return Parts{}, errs.Segments
	}
	if dot1 == 0 || dot2 == dot1+1 {
		return Parts{}, errs.Segments
	}
	return Parts{Header: token[:dot1], Payload: token[dot1+1 : dot2], Signature: token[dot2+1:], SigningInput: token[:dot2]}, nil
}

// Decode decodes the segment seg into the front of dst, which must have
// room for it, and returns that part of dst.
func Decode(dst []byte, seg string, errs *Errors) ([]byte, error) {
	n, ok := decodeB64(dst, seg)
	if !ok {
		return nil, errs.Encoding
	}
	return dst[:n:n], nil
}

// JWS is a compact JWS split into its parts.
type JWS struct {
	Header       Header
	SigningInput string // header.payload, as signed
	Payload      []byte // after DecodePayload
	Signature    []byte // after DecodeSignature

	errs  *Errors
	parts Parts
	buf   []byte // room for the decoded payload and signature
}

// Parse checks the compact serialization and decodes the header. The
// payload and the signature wait for DecodePayload and DecodeSignature, so
// that objects refused for their header cost little.
func Parse(token string, maxSize int, errs *Errors) (*JWS, error) {
	t := new(JWS)
	if err := ParseInto(t, token, maxSize, errs, nil); err != nil {
		return nil, err
	}
	return t, nil
}

// ParseInto is Parse into a JWS the caller holds (e.g. in a struct of its
// own, sparing an allocation). It decodes into room when the three
// segments fit, else into a new buffer: t's slices may then alias room,
// which the caller must leave unchanged for as long as it uses t. t is
// overwritten; on error its contents are unspecified.
func ParseInto(t *JWS, token string, maxSize int, errs *Errors, room []byte) error {
	p, err := Split(token, maxSize, errs)
	if err != nil {
		return err
	}
	// One buffer for the three decoded segments.
	var buf []byte
	if n := p.DecodedLen(); n <= len(room) {
		buf = room[:n]
	} else {
		buf = make([]byte, n)
	}
	*t = JWS{SigningInput: p.SigningInput, errs: errs, parts: p}
	hdr, err := Decode(buf, p.Header, errs)
	if err != nil {
		return err
	}
	if kid, jwk, ok := decodeCommonHeader(hdr, &t.Header); ok {
		// The header's bytes in buf are never overwritten: the jwk may
		// alias them, saving a copy.
		t.Header.JWK = jwk
		if kid != nil {
			t.Header.Kid = string(kid)
		}
	} else if kid, err := decodeStrict(hdr, &t.Header, errs); err != nil {
		return err
	} else if kid != nil {
		t.Header.Kid = string(kid)
	}
	t.buf = buf[len(hdr):]
	return nil
}

// DecodePayload decodes the payload.
func (t *JWS) DecodePayload() error {
	p, err := Decode(t.buf, t.parts.Payload, t.errs)
	if err != nil {
		return err
	}
	t.Payload, t.buf = p, t.buf[len(p):]
	return nil
}

// DecodeSignature decodes the signature, after DecodePayload.
func (t *JWS) DecodeSignature() error {
	s, err := Decode(t.buf, t.parts.Signature, t.errs)
	if err != nil {
		return err
	}
	t.Signature = s
	return nil
}
