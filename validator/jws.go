package validator

import (
	"crypto"
	"strings"
	"sync"
	"sync/atomic"

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

// method returns the hash that the signature algorithm alg signs, and
// whether this package verifies alg at all. PS* use a salt as long as the
// hash, as RFC 7518 section 3.5 requires (golang-jwt's defaults accept any
// salt length). A switch: no hashing of alg on every token.
func method(alg string) (crypto.Hash, bool) {
	switch alg {
	case "RS256", "PS256", "ES256":
		return crypto.SHA256, true
	case "RS384", "PS384", "ES384":
		return crypto.SHA384, true
	case "RS512", "PS512", "ES512":
		return crypto.SHA512, true
	case "EdDSA":
		return 0, true // Ed25519 hashes the message itself
	}
	return 0, false
}

// decodeRoom is the stack room Validate decodes a token's header and
// signature into: enough for an RSA-4096 signature and a header of a few
// hundred bytes. Larger ones (up to the size cap) decode into the heap.
const decodeRoom = 1024

// maxHeaders bounds headerTable: an issuer signs with a few keys at once,
// and keys rotate seldom.
const maxHeaders = 32

// headerTable remembers the decoded headers of tokens that verified, by
// their encoded segment. An issuer's tokens share a handful of headers
// (one per signing key), so nearly every token's header is a lookup
// rather than a decoding, and its kid a string without an allocation.
// The decoded header is a function of the segment's bytes alone; the
// allow-list and profile checks still run on every token. Only headers
// of verified tokens get in, so no attacker can fill it; when it is full,
// a new one takes the place of one at random, so that the headers of
// rotated keys make room.
type headerTable struct {
	m  atomic.Pointer[map[string]header] // read without locking
	mu sync.Mutex                        // serializes add
}

// get returns the header decoded from seg, if the table has it.
func (t *headerTable) get(seg string) (header, bool) {
	if m := t.m.Load(); m != nil {
		h, ok := (*m)[seg]
		return h, ok
	}
	return header{}, false
}

// add remembers h as the decoding of seg.
func (t *headerTable) add(seg string, h header) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.m.Load()
	var m map[string]header
	if old == nil {
		m = make(map[string]header, 1)
	} else {
		if _, ok := (*old)[seg]; ok {
			return
		}
		m = make(map[string]header, min(len(*old)+1, maxHeaders))
		// Full: leave out the first entry, which map iteration picks at
		// random.
		evict := len(*old) >= maxHeaders
		for k, v := range *old {
			if evict {
				evict = false
				continue
			}
			m[k] = v
		}
	}
	// A copy: seg is part of the caller's token, which must not stay
	// alive for it.
	m[strings.Clone(seg)] = h
	t.m.Store(&m)
}
