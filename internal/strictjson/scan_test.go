package strictjson

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// scanStringSlow is ScanString one byte at a time: what it must equal.
func scanStringSlow(s string, i int) (v string, next int, ascii, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false, false
	}
	ascii = true
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, ascii, true
		case c < 0x20 || c == '\\':
			return "", 0, false, false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", 0, false, false
}

func TestScanString(t *testing.T) {
	for _, s := range []string{
		`""`, `"a"`, `"abcdefgh"`, `"abcdefghi"`, `"https://tenant.us.auth0.com/"`,
		`"abc\"def"`, `"abcdefg\\"`, `"abcdefgh\\"`, "\"abcdefg\x1f\"", "\"abcdefgh\x00ijk\"",
		"\"abcdefg\x7f\"", "\"abcdefg\x80\"", "\"\xe2\x82\xac1234567\"", "\"1234567\xff\"",
		`"unterminated`, `x"`, ``, `"`, "\"\x20\x5b\x5d\x5c\"", "\"\x21\x22",
	} {
		for i := range 2 {
			v, next, ascii, ok := ScanString(s, i)
			wv, wnext, wascii, wok := scanStringSlow(s, i)
			assert.Equal(t, []any{wv, wnext, wascii, wok}, []any{v, next, ascii, ok}, "%q at %d", s, i)
		}
	}
}

func FuzzScanString(f *testing.F) {
	for _, s := range []string{`"abcdefghijk"`, `"abc\"d"`, "\"\x1f\"", "\"\xc3\xa9\"", `"0123456789abcdef\\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, next, ascii, ok := ScanString(s, 0)
		wv, wnext, wascii, wok := scanStringSlow(s, 0)
		if v != wv || next != wnext || ascii != wascii || ok != wok {
			t.Fatalf("ScanString(%q) = %q %d %v %v, want %q %d %v %v", s, v, next, ascii, ok, wv, wnext, wascii, wok)
		}
	})
}
