package validator

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"slices"
	"sync"
	"unsafe"
)

// verify checks t's signature with k, which must fit t's alg.
//
// It calls the standard library's verifiers directly with the digest in a
// stack array: a generic SigningMethod.Verify (golang-jwt) allocates a
// hasher and a digest on every call, and ecdsa.Verify re-encodes r and s
// through math/big into a DER signature it allocates. The decisions are
// golang-jwt's, which TestVerifyMatchesGolangJWT holds it to.
func verify(t *jws, k *Key) error {
	alg := t.Header.Alg
	h, ok := method(alg)
	if !ok || !k.fits(alg) {
		return errKeyMismatch
	}
	sig := t.Signature
	if len(sig) == 0 {
		return errNoSignature
	}
	if !verifySignature(alg, h, t.SigningInput, sig, k.Public) {
		return errNoSignature
	}
	return nil
}

// verifySignature reports whether sig is a valid alg signature of input
// by pub, which must be of the type alg needs.
func verifySignature(alg string, h crypto.Hash, input string, sig []byte, pub any) bool {
	if alg == "EdDSA" {
		pub, ok := pub.(ed25519.PublicKey)
		// ed25519.Verify panics on a key of another length.
		return ok && len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, readOnly(input), sig)
	}
	var buf [sha512.Size]byte
	digest := hash(&buf, h, input)
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		switch alg[0] {
		case 'R':
			return rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
		case 'P':
			// VerifyPSS lets its digest escape, which would move buf to
			// the heap on every path: it gets a copy.
			return rsa.VerifyPSS(pub, h, slices.Clone(digest), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}) == nil
		}
	case *ecdsa.PublicKey:
		return verifyECDSA(pub, digest, sig)
	}
	return false
}

// readOnly returns the bytes of s without copying them, for the hash
// functions and ed25519.Verify, which only read their input: []byte(s)
// copies a signing input of hundreds of bytes into a new allocation on
// every call. The result must never be written.
func readOnly(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// hash returns the h digest of input in buf.
func hash(buf *[sha512.Size]byte, h crypto.Hash, input string) []byte {
	switch h {
	case crypto.SHA256:
		*(*[sha256.Size]byte)(buf[:]) = sha256.Sum256(readOnly(input))
		return buf[:sha256.Size]
	case crypto.SHA384:
		*(*[sha512.Size384]byte)(buf[:]) = sha512.Sum384(readOnly(input))
		return buf[:sha512.Size384]
	case crypto.SHA512:
		*buf = sha512.Sum512(readOnly(input))
		return buf[:]
	}
	return nil
}

// maxECDSAInt is the byte length of P-521's r and s.
const maxECDSAInt = 66

// derRoom is the longest DER ECDSA signature: SEQUENCE { INTEGER r,
// INTEGER s }, each INTEGER at most 2 + 1 + 66 bytes, the SEQUENCE header
// at most 3.
const derRoom = 3 + 2*(3+maxECDSAInt)

// verifyECDSA checks a JWS ECDSA signature (RFC 7518 section 3.4: r and s
// as big-endian integers of the curve's size, concatenated) by encoding it
// as the ASN.1 DER that ecdsa.VerifyASN1 takes, in a stack buffer.
func verifyECDSA(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	size := (pub.Curve.Params().BitSize + 7) / 8
	if size > maxECDSAInt || len(sig) != 2*size {
		return false
	}
	// VerifyASN1 hides where sig goes, so a local array would move to the
	// heap on every call; it keeps no reference after returning.
	der := derPool.Get().(*[derRoom]byte)
	defer derPool.Put(der)
	body := der[3:3]
	var ok bool
	if body, ok = appendDERInt(body, sig[:size]); !ok {
		return false
	}
	if body, ok = appendDERInt(body, sig[size:]); !ok {
		return false
	}
	// The SEQUENCE header goes right before the body: a short-form
	// length below 128 bytes, else 0x81 and one byte (at most 138).
	n := len(body)
	start := 1
	if n >= 0x80 {
		start = 0
		der[1] = 0x81
	}
	der[start] = 0x30
	der[2] = byte(n)
	return ecdsa.VerifyASN1(pub, digest, der[start:3+n])
}

// derPool holds the buffers verifyECDSA encodes signatures into.
var derPool = sync.Pool{New: func() any { return new([derRoom]byte) }}

// appendDERInt appends the DER INTEGER of the unsigned big-endian b, and
// false when b is zero: ecdsa.Verify refuses r or s of zero.
func appendDERInt(dst, b []byte) ([]byte, bool) {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 {
		return dst, false
	}
	n := len(b)
	if b[0]&0x80 != 0 {
		n++ // a leading zero keeps it positive
	}
	// n is at most 67: a short-form length.
	dst = append(dst, 0x02, byte(n))
	if n > len(b) {
		dst = append(dst, 0)
	}
	return append(dst, b...), true
}
