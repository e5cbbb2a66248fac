package validator

import (
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/golang-jwt/jwt/v5"

	"github.com/apiguard/apiguard/internal/strictjson"
)

// b64 decodes unpadded base64url and refuses non-zero trailing bits, so
// every token has exactly one encoding (RFC 7515 section 2; RFC 8725
// section 3.1 on ambiguous encodings).
var b64 = base64.RawURLEncoding.Strict()

// header is the JOSE header. The parameters held as booleans are refused
// whenever present, whatever their value.
type header struct {
	Alg, Typ, Kid, Cty string

	Crit, B64, Jku, X5u, Jwk, X5c bool
}

// commonValues are the alg and typ values of nearly every token, by their
// JSON text, so that decoding them allocates nothing.
var commonValues = func() map[string]string {
	m := make(map[string]string)
	for _, v := range []string{"JWT", "at+jwt", "application/at+jwt",
		"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		m[`"`+v+`"`] = v
	}
	return m
}()

// headerNames are the members read above; case variants of them are
// refused like those of registered claims.
var headerNames = [...]string{"alg", "typ", "kid", "cty", "crit", "b64", "jku", "x5u", "jwk", "x5c"}

// decodeHeader decodes a JOSE header strictly: one JSON object in valid
// UTF-8 with unique member names, the string parameters as strings, no
// case variants of the parameters read here.
func decodeHeader(data []byte, h *header) error {
	d := strictjson.NewDecoder(data)
	err := h.decode(&d.Decoder)
	d.Release()
	return err
}

func (h *header) decode(dec *jsontext.Decoder) error {
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return errHeaderJSON
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return errHeaderJSON
		}
		var str *string
		switch string(name) {
		case `"alg"`:
			if dec.PeekKind() != '"' {
				return errNoAlg
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
			h.Jwk = true
		case `"x5c"`:
			h.X5c = true
		default:
			n, err := strictjson.Unquote(name)
			if err != nil || strictjson.FoldsToAny(n, headerNames[:]) {
				return errHeaderJSON
			}
		}
		v, err := dec.ReadValue()
		if err != nil {
			return errHeaderJSON
		}
		if str != nil {
			if v.Kind() != '"' {
				return errHeaderJSON
			}
			if known, ok := commonValues[string(v)]; ok {
				*str = known
			} else if *str, err = strictjson.Unquote(v); err != nil {
				return errHeaderJSON
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return errHeaderJSON
	}
	if _, err := dec.ReadValue(); err != io.EOF {
		return errHeaderJSON
	}
	return nil
}

// isJWTMediaType reports whether cty names a JWT: "JWT" or
// "application/jwt" (RFC 7515 section 4.1.10), in any letter case, with or
// without media type parameters and surrounding spaces.
func isJWTMediaType(cty string) bool {
	mt, _, _ := strings.Cut(cty, ";")
	mt = strings.TrimSpace(mt)
	if len(mt) > len("application/") && strings.EqualFold(mt[:len("application/")], "application/") {
		mt = mt[len("application/"):]
	}
	return strings.EqualFold(mt, "jwt")
}

// maxKidLen bounds kid: longer ones are junk and never worth a key fetch.
const maxKidLen = 256

// jws is a compact JWS split into its parts.
type jws struct {
	header       header
	signingInput string // header.payload, as signed
	payload      []byte
	signature    []byte

	token      string
	dot1, dot2 int
	buf        []byte // room for the decoded payload and signature
}

// parseJWS checks the compact serialization and decodes the header. The
// payload and the signature wait for decodePayload and decodeSignature, so
// that tokens refused for their header or issuer cost little. It does no
// crypto and no key lookup.
func parseJWS(token string, maxSize int) (*jws, error) {
	if len(token) > maxSize {
		return nil, errTooLarge
	}
	// The base64url decoder refuses every byte outside its alphabet except
	// CR and LF, which it skips: refuse those here.
	if strings.IndexByte(token, '\r') >= 0 || strings.IndexByte(token, '\n') >= 0 {
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
	if dot1 == 0 || dot2 == dot1+1 {
		return nil, errSegments
	}
	t := &jws{signingInput: token[:dot2], token: token, dot1: dot1, dot2: dot2}
	// One buffer for the three decoded segments. The []byte conversions
	// below are only read, so the compiler does not copy the token.
	t.buf = make([]byte, b64.DecodedLen(dot1)+b64.DecodedLen(len(token)-dot1))
	hn, err := b64.Decode(t.buf, []byte(token[:dot1]))
	if err != nil {
		return nil, errEncoding
	}
	if err := decodeHeader(t.buf[:hn], &t.header); err != nil {
		return nil, err
	}
	t.buf = t.buf[hn:]
	return t, nil
}

// decodePayload decodes the payload.
func (t *jws) decodePayload() error {
	n, err := b64.Decode(t.buf, []byte(t.token[t.dot1+1:t.dot2]))
	if err != nil {
		return errEncoding
	}
	t.payload, t.buf = t.buf[:n:n], t.buf[n:]
	return nil
}

// decodeSignature decodes the signature, after decodePayload.
func (t *jws) decodeSignature() error {
	n, err := b64.Decode(t.buf, []byte(t.token[t.dot2+1:]))
	if err != nil {
		return errEncoding
	}
	t.signature = t.buf[:n:n]
	return nil
}

// check refuses what RFC 8725 section 3.1 and RFC 7515 section 4.1.11
// say a verifier must not silently accept: parameters that point at keys
// the attacker chose, or that change how the token is processed.
func (h *header) check() error {
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
	case h.Jwk:
		return errJwk
	case h.X5c:
		return errX5c
	// RFC 7515 section 4.1.10: a cty without "/" means "application/" + cty.
	case isJWTMediaType(h.Cty):
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

// peekIssuer returns the first top-level iss member of a claims set
// without decoding the rest, so that a token from an unknown issuer is
// refused before the claims are decoded. ok is false when iss is absent,
// not a string, or the payload is not a JSON object: the full parse then
// reports why. The bytes may alias payload.
//
// It only finds the member and skips the others, without checking what it
// skips: claims.Parse checks everything afterwards. For every payload that
// claims.Parse accepts it returns the Issuer that Parse returns (a fuzz
// test holds it to that), so it can refuse a token early but never accept
// one.
func peekIssuer(p []byte) (iss []byte, ok bool) {
	i := skipSpace(p, 0)
	if i == len(p) || p[i] != '{' {
		return nil, false
	}
	for i++; ; i++ { // i++: past '{' or ','
		i = skipSpace(p, i)
		name := i
		if i, ok = skipString(p, i); !ok {
			return nil, false
		}
		isIss := string(p[name:i]) == `"iss"`
		if i = skipSpace(p, i); i == len(p) || p[i] != ':' {
			return nil, false
		}
		start := skipSpace(p, i+1)
		if i, ok = skipValue(p, start); !ok {
			return nil, false
		}
		if isIss {
			v := jsontext.Value(p[start:i])
			if v.Kind() != '"' {
				return nil, false
			}
			if plain := strictjson.Plain(v); plain != nil {
				if !utf8.Valid(plain) {
					return nil, false
				}
				return plain, true
			}
			u, err := jsontext.AppendUnquote(nil, v)
			return u, err == nil
		}
		if i = skipSpace(p, i); i == len(p) || p[i] != ',' {
			return nil, false
		}
	}
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string at p[i].
func skipString(p []byte, i int) (int, bool) {
	if i == len(p) || p[i] != '"' {
		return i, false
	}
	for i++; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return i, false
}

// skipValue returns the index after the JSON value at p[i]. It matches
// brackets and skips strings, and takes anything else up to a delimiter as
// a number or literal.
func skipValue(p []byte, i int) (int, bool) {
	if i == len(p) {
		return i, false
	}
	switch p[i] {
	case '"':
		return skipString(p, i)
	case '{', '[':
		depth := 0
		for i < len(p) {
			switch p[i] {
			case '"':
				var ok bool
				if i, ok = skipString(p, i); !ok {
					return i, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	}
	start := i
	for i < len(p) && p[i] != ',' && p[i] != '}' && p[i] != ']' && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' {
		i++
	}
	return i, i > start
}
