package strictjson

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// scanStringSlow is ScanString one byte at a time: what it must equal.
func scanStringSlow(s string, i int) (v string, next int, kind Kind, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, 0, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, kind, true
		case c < 0x20 || c == '\\':
			return "", 0, 0, false
		case c >= 0x80:
			kind = NonASCII
		case c == 0x7f:
			kind = max(kind, ASCII)
		}
	}
	return "", 0, 0, false
}

// plainASCIISlow is PlainASCII one byte at a time.
func plainASCIISlow(data []byte, i int) (s []byte, next int, ok bool) {
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

// checkScan holds ScanString and PlainASCII to their slow forms on s.
func checkScan(t *testing.T, s string, i int) {
	t.Helper()
	v, next, kind, ok := ScanString(s, i)
	wv, wnext, wkind, wok := scanStringSlow(s, i)
	if v != wv || next != wnext || kind != wkind || ok != wok {
		t.Fatalf("ScanString(%q, %d) = %q %d %v %v, want %q %d %v %v", s, i, v, next, kind, ok, wv, wnext, wkind, wok)
	}
	b, bnext, bok := PlainASCII([]byte(s), i)
	wb, wbnext, wbok := plainASCIISlow([]byte(s), i)
	if string(b) != string(wb) || bnext != wbnext || bok != wbok {
		t.Fatalf("PlainASCII(%q, %d) = %q %d %v, want %q %d %v", s, i, b, bnext, bok, wb, wbnext, wbok)
	}
}

func TestScanString(t *testing.T) {
	for _, s := range []string{
		`""`, `"a"`, `"abcdefgh"`, `"abcdefghi"`, `"https://tenant.us.auth0.com/"`,
		`"abc\"def"`, `"abcdefg\\"`, `"abcdefgh\\"`, "\"abcdefg\x1f\"", "\"abcdefgh\x00ijk\"",
		"\"abcdefg\x7f\"", "\"abcdefg\x80\"", "\"\xe2\x82\xac1234567\"", "\"1234567\xff\"",
		`"unterminated`, `x"`, ``, `"`, "\"\x20\x5b\x5d\x5c\"", "\"\x21\x22",
		// The quote, a backslash or a control byte at each place of a
		// word, DEL and high bytes before and after the quote, 0xff
		// carrying into the byte above.
		`"abcdefg"xyz`, `"abcdefgh"x`, `"a"bcdefghijklmnop`, `"abcdefghijklmno"p`,
		"\"\x7f\"abcdefghij", "\"abc\"\x7f\x80defghij", "\"abcdefgh\x7f\"", "\"\xff\x7e234567\"",
		"\"\xff\"\x7f\x80bcdefgh", "\"abcdef\x7e\x7e\"", "\"abc\\\"defghijk\"", "\"abcdefghijklmn\x1f\"\"",
		"\"\x1f\"abcdefghij", "\"1234567\xc3\xa9\"",
	} {
		for i := range 2 {
			checkScan(t, s, i)
		}
	}
	assert.Equal(t, Printable, kindOf(0, 0), "no byte at all")
}

func FuzzScanString(f *testing.F) {
	for _, s := range []string{`"abcdefghijk"`, `"abc\"d"`, "\"\x1f\"", "\"\xc3\xa9\"", `"0123456789abcdef\\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkScan(t, s, 0)
	})
}
