package jose

import (
	"bytes"
	"strings"
	"testing"
)

// checkDecodeB64 holds decodeB64 to B64 (encoding/base64's strict,
// unpadded base64url) on s, which it must also refuse when s holds CR or
// LF (B64 skips them), with a destination of exactly the decoded length
// and with room to spare.
func checkDecodeB64(t *testing.T, s string) {
	t.Helper()
	want, err := B64.DecodeString(s)
	wantOK := err == nil && !strings.ContainsAny(s, "\r\n")
	for _, extra := range []int{0, 8} {
		dst := make([]byte, B64.DecodedLen(len(s))+extra)
		n, ok := decodeB64(dst, s)
		if ok != wantOK || (ok && !bytes.Equal(dst[:n], want)) {
			t.Fatalf("decodeB64(%q) with %d spare = %x, %v; want %x, %v", s, extra, dst[:n], ok, want, wantOK)
		}
	}
}

func TestDecodeB64(t *testing.T) {
	for _, s := range []string{
		"", "A", "AA", "AB", "AAA", "AAE", "AAB", "AAAA", "_-_-", "____", "-_8",
		"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9", "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9a",
		"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9aa", "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9aaa",
		"AAAAAAA=", "AAAA====", "AAAAAAAAAA==", "AAAA+AAA", "AAAA/AAA", "AAAAAAA\n", "AAAA\rAAAAAAA",
		"AAAAAAAA AAAA", "AAAAAAAA\x00", "AAAAAAAA\xff", "AAAAAAAAAAAAAAA.", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	} {
		checkDecodeB64(t, s)
	}
	// Every byte at every place of the eight- and four-byte groups and of
	// the tails.
	for n := 1; n <= 19; n++ {
		for i := range n {
			for c := range 256 {
				b := bytes.Repeat([]byte("Q"), n)
				b[i] = byte(c)
				checkDecodeB64(t, string(b))
			}
		}
	}
}

func FuzzDecodeB64(f *testing.F) {
	for _, s := range []string{"", "AA", "AAE", "eyJhbGciOiJSUzI1NiJ9", "AAAAAAAA\n", "AAAA+/==", "_-_-_-_-_-_-_-_-_-Q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkDecodeB64(t, s)
	})
}

func BenchmarkDecodeB64(b *testing.B) {
	src := strings.Repeat("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9", 32)
	dst := make([]byte, B64.DecodedLen(len(src)))
	b.SetBytes(int64(len(src)))
	b.Run("apiguard", func(b *testing.B) {
		for b.Loop() {
			if _, ok := decodeB64(dst, src); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-base64", func(b *testing.B) {
		for b.Loop() {
			if _, err := B64.Decode(dst, []byte(src)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
