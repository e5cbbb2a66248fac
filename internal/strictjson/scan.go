package strictjson

import "strings"

// Word-at-a-time byte tests (a classic bit trick): lsb and msb are the
// lowest and highest bit of every byte of a 64-bit word.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasLess reports whether a byte of w is below n (n <= 128). Exact for
// the question "is there such a byte": a byte at or above n never borrows
// from the next one.
func hasLess(w uint64, n byte) bool { return (w-lsb*uint64(n))&^w&msb != 0 }

// ScanString reads the JSON string that starts at s[i] when it has no
// escapes and no control characters, the strings nearly every token is
// made of: it returns the string's contents, the index after its closing
// quote, and whether the contents are all ASCII (if not, the caller must
// still check that they are valid UTF-8). ok is false for anything else,
// which the caller hands to a full decoder.
//
// It finds the closing quote with strings.IndexByte and checks the
// contents eight bytes at a time: several times faster than a loop over
// bytes on the strings of a token.
func ScanString(s string, i int) (v string, next int, ascii, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false, false
	}
	n := strings.IndexByte(s[i+1:], '"')
	if n < 0 {
		return "", 0, false, false
	}
	v = s[i+1 : i+1+n]
	var high uint64
	w := v
	for len(w) >= 8 {
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		if hasLess(x, 0x20) || hasLess(x^(lsb*'\\'), 1) {
			return "", 0, false, false
		}
		high |= x
		w = w[8:]
	}
	for j := 0; j < len(w); j++ {
		c := w[j]
		if c < 0x20 || c == '\\' {
			return "", 0, false, false
		}
		high |= uint64(c)
	}
	return v, i + 2 + n, high&msb == 0, true
}

// PlainASCII returns the contents of the JSON string at data[i] and the
// index after it, when it holds only printable ASCII other than '"' and
// '\\' (so has no escapes and is valid UTF-8): the strings of JOSE
// headers and DPoP proofs. ok is false for anything else.
func PlainASCII(data []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j], j + 1, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// SkipSpace returns the index of the first byte of data at or after i
// that is not JSON whitespace.
func SkipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}
