package dpop_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"maps"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func splitJWS(s string) (h, p, sig string) {
	parts := strings.SplitN(s, ".", 3)
	return parts[0], parts[1], parts[2]
}

func segment(s string, i int) string { return strings.Split(s, ".")[i] }

// flip flips one bit of an encoded signature.
func flip(sig string) string {
	b, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		panic(err)
	}
	b[len(b)/2] ^= 1
	return base64.RawURLEncoding.EncodeToString(b)
}

// withMember returns a copy of jwk with member name set to v.
func withMember(jwk map[string]any, name string, v any) map[string]any {
	m := maps.Clone(jwk)
	m[name] = v
	return m
}

// malleate replaces the (r, s) of an ES256 proof's signature with
// (r, n-s), which verifies the same.
func malleate(t *testing.T, proof string) string {
	t.Helper()
	h, p, sig := splitJWS(proof)
	b, err := base64.RawURLEncoding.DecodeString(sig)
	require.NoError(t, err)
	require.Len(t, b, 64)
	n := elliptic.P256().Params().N
	s := new(big.Int).SetBytes(b[32:])
	s.Sub(n, s)
	s.FillBytes(b[32:])
	return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(b)
}

// stdAlphabet returns a proof of f whose signature is encoded in the
// standard base64 alphabet, with at least one '+' or '/'.
func stdAlphabet(t *testing.T, f *fixture) string {
	t.Helper()
	for range 200 {
		h, p, sig := splitJWS(f.proof())
		raw, err := base64.RawURLEncoding.DecodeString(sig)
		require.NoError(t, err)
		if std := base64.RawStdEncoding.EncodeToString(raw); std != sig {
			return h + "." + p + "." + std
		}
	}
	t.Fatal("no signature with a '+' or '/' in 200 proofs")
	return ""
}
