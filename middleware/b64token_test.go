package middleware

import (
	"strings"
	"testing"
)

// isB64tokenBytewise is RFC 6750's b64token, a byte at a time: what
// isB64token's eight-at-a-time check must agree with.
func isB64tokenBytewise(s string) bool {
	i := 0
	for i < len(s) && (isAlnum(s[i]) || strings.IndexByte("-._~+/", s[i]) >= 0) {
		i++
	}
	if i == 0 {
		return false
	}
	return strings.Trim(s[i:], "=") == ""
}

func FuzzIsB64token(f *testing.F) {
	for _, s := range []string{"", "a", "abcdefgh", "abcdefghi", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "abcdefg=", "abcdefgh==",
		"abc+/~==", "abcdefg+hijklmn/", "abcd efgh", "abcdefg\x80", "abcdefg\xff", "@[`{,:/ \x7f", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=", "a=b", "========"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isB64token(s), isB64tokenBytewise(s); got != want {
			t.Fatalf("isB64token(%q) = %v, want %v", s, got, want)
		}
	})
}

// Every byte value in every position of a word is classified as the
// bytewise check does.
func TestIsB64tokenEveryByte(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			b := []byte("aaaaaaaaaaaaaaaa")
			b[pos] = byte(c)
			if got, want := isB64token(string(b)), isB64tokenBytewise(string(b)); got != want {
				t.Fatalf("byte %#x at %d: %v, want %v", c, pos, got, want)
			}
		}
	}
}

func BenchmarkIsB64token(b *testing.B) {
	tok := strings.Repeat("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.", 30)
	b.Run("words", func(b *testing.B) {
		for b.Loop() {
			if !isB64token(tok) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("bytewise", func(b *testing.B) {
		for b.Loop() {
			if !isB64tokenBytewise(tok) {
				b.Fatal("refused")
			}
		}
	})
}
