package strictjson

import "math/bits"

// Word-at-a-time byte tests (a classic bit trick): lsb and msb are the
// lowest and highest bit of every byte of a 64-bit word.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// zeroBytes flags (in msb) the bytes of w that are zero. Only the lowest
// flag is exact: a borrow can flag the byte above a zero byte too.
func zeroBytes(w uint64) uint64 { return (w - lsb) &^ w & msb }

// lessBytes flags the bytes of w below n (n <= 128), the lowest exactly,
// as zeroBytes.
func lessBytes(w uint64, n byte) uint64 { return (w - lsb*uint64(n)) &^ w & msb }

// Kind tells what the contents of a string ScanString read hold beyond
// what every such string has (no quote, backslash or control character).
type Kind uint8

const (
	// Printable: printable ASCII only, 0x20 to 0x7e.
	Printable Kind = iota
	// ASCII: ASCII with at least one DEL (0x7f).
	ASCII
	// NonASCII: some byte at or above 0x80; the caller must still check
	// that the contents are valid UTF-8.
	NonASCII
)

// ScanString reads the JSON string that starts at s[i] when it has no
// escapes and no control characters, the strings nearly every token is
// made of: it returns the string's contents, the index after its closing
// quote, and what bytes the contents hold. ok is false for anything else,
// which the caller hands to a full decoder.
//
// It reads eight bytes at a time, looking for the closing quote and for
// the bytes that end the fast path in the same pass: several times faster
// than a loop over bytes on the short strings of a token, and than
// finding the quote first and checking the contents after.
func ScanString(s string, i int) (v string, next int, kind Kind, ok bool) {
	end, kind, ok := scanString(s, i)
	if !ok {
		return "", 0, 0, false
	}
	return s[i+1 : end], end + 1, kind, true
}

// scanString is ScanString on a string or a byte slice; end is the index
// of the closing quote.
func scanString[T string | []byte](s T, i int) (end int, kind Kind, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return 0, 0, false
	}
	// high collects the contents' bytes, del those plus one: a byte above
	// 0x7e sets the msb of one of them (0xff carries into the byte above,
	// which does not matter: its msb is set in high already).
	var high, del uint64
	j := i + 1
	for ; len(s)-j >= 8; j += 8 {
		w := s[j : j+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		stop := zeroBytes(x^(lsb*'"')) | zeroBytes(x^(lsb*'\\')) | lessBytes(x, 0x20)
		if stop != 0 {
			n := bits.TrailingZeros64(stop) >> 3
			if w[n] != '"' {
				return 0, 0, false
			}
			x &= 1<<(8*n) - 1 // the contents' bytes only; n <= 7
			high |= x
			del |= x + lsb
			return j + n, kindOf(high, del), true
		}
		high |= x
		del |= x + lsb
	}
	for ; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '"':
			return j, kindOf(high, del), true
		case c < 0x20 || c == '\\':
			return 0, 0, false
		}
		high |= uint64(c)
		del |= uint64(c) + 1
	}
	return 0, 0, false
}

func kindOf(high, del uint64) Kind {
	switch {
	case high&msb != 0:
		return NonASCII
	case del&msb != 0:
		return ASCII
	}
	return Printable
}

// PlainASCII returns the contents of the JSON string at data[i] and the
// index after it, when it holds only printable ASCII other than '"' and
// '\\' (so has no escapes and is valid UTF-8): the strings of JOSE
// headers and DPoP proofs. ok is false for anything else.
func PlainASCII(data []byte, i int) (s []byte, next int, ok bool) {
	end, kind, ok := scanString(data, i)
	if !ok || kind != Printable {
		return nil, 0, false
	}
	return data[i+1 : end], end + 1, true
}

// SkipSpace returns the index of the first byte of data at or after i
// that is not JSON whitespace.
func SkipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}
