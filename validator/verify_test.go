package validator

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	mrand "math/rand/v2"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/racedetect"
)

// golangJWTMethods are the verifiers verify replaced: golang-jwt's, with
// PS* held to a salt as long as the hash.
var golangJWTMethods = map[string]jwt.SigningMethod{
	"RS256": jwt.SigningMethodRS256,
	"RS384": jwt.SigningMethodRS384,
	"RS512": jwt.SigningMethodRS512,
	"PS256": strictPSS(jwt.SigningMethodRS256, crypto.SHA256),
	"PS384": strictPSS(jwt.SigningMethodRS384, crypto.SHA384),
	"PS512": strictPSS(jwt.SigningMethodRS512, crypto.SHA512),
	"ES256": jwt.SigningMethodES256,
	"ES384": jwt.SigningMethodES384,
	"ES512": jwt.SigningMethodES512,
	"EdDSA": jwt.SigningMethodEdDSA,
}

func strictPSS(rs *jwt.SigningMethodRSA, h crypto.Hash) jwt.SigningMethod {
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
	return &jwt.SigningMethodRSAPSS{
		SigningMethodRSA: &jwt.SigningMethodRSA{Name: "PS" + rs.Name[2:], Hash: h},
		Options:          opts,
		VerifyOptions:    opts,
	}
}

// TestVerifyMatchesGolangJWT holds verify, which calls the standard
// library directly, to golang-jwt's decisions: on valid signatures, and on
// signatures mutated in the ways that matter to the encodings (flipped
// bits, truncated, extended, r or s zero or with the high bit set, PSS
// signed with another salt length).
func TestVerifyMatchesGolangJWT(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKeys := map[string]*ecdsa.PrivateKey{}
	for alg, c := range map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()} {
		ecKeys[alg], err = ecdsa.GenerateKey(c, rand.Reader)
		require.NoError(t, err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rng := mrand.New(mrand.NewPCG(1, 2))
	const input = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0"
	for alg, m := range golangJWTMethods {
		t.Run(alg, func(t *testing.T) {
			var priv crypto.Signer
			switch alg[0] {
			case 'R', 'P':
				priv = rsaKey
			case 'E':
				if alg == "EdDSA" {
					priv = edKey
				} else {
					priv = ecKeys[alg]
				}
			}
			pub := priv.Public()
			k := &Key{Algorithm: alg, Public: pub}
			sig, err := m.Sign(input, priv)
			require.NoError(t, err)
			sigs := [][]byte{sig}
			for range 200 {
				s := append([]byte(nil), sig...)
				switch rng.IntN(6) {
				case 0: // flip a bit
					i := rng.IntN(len(s))
					s[i] ^= 1 << rng.IntN(8)
				case 1: // truncate
					s = s[:rng.IntN(len(s))]
				case 2: // extend
					s = append(s, byte(rng.IntN(256)))
				case 3: // zero the first half (r), or the second (s)
					h := len(s) / 2
					if rng.IntN(2) == 0 {
						clear(s[:h])
					} else {
						clear(s[h:])
					}
				case 4: // leading zeros or high bits in r and s
					h := len(s) / 2
					s[0], s[h] = byte(rng.IntN(2))*0xff, byte(rng.IntN(2))*0x80
				case 5: // a leading zero byte, as a non-canonical encoder might
					s = append([]byte{0}, s[:len(s)-1]...)
				}
				sigs = append(sigs, s)
			}
			if alg[0] == 'P' {
				// PSS with another salt length: golang-jwt's defaults would
				// accept it, the strict options do not.
				h, _ := method(alg)
				d := hashOf(t, h, input)
				s, err := rsa.SignPSS(rand.Reader, rsaKey, h, d, &rsa.PSSOptions{SaltLength: 8})
				require.NoError(t, err)
				sigs = append(sigs, s)
			}
			accepted := 0
			for i, s := range sigs {
				want := len(s) > 0 && m.Verify(input, s, pub) == nil
				got := verify(&jws{Header: header{Alg: alg}, SigningInput: input, Signature: s}, k) == nil
				require.Equal(t, want, got, "signature %d (%x)", i, s)
				if got {
					accepted++
				}
			}
			require.GreaterOrEqual(t, accepted, 1, "the valid signature")
		})
	}
}

func hashOf(t *testing.T, h crypto.Hash, input string) []byte {
	t.Helper()
	w := h.New()
	w.Write([]byte(input))
	return w.Sum(nil)
}

// TestVerifyAllocations pins what verify allocates above the standard
// library's verifiers themselves: nothing.
func TestVerifyAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	const input = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0"
	sig, err := jwt.SigningMethodEdDSA.Sign(input, edKey)
	require.NoError(t, err)
	tok := &jws{Header: header{Alg: "EdDSA"}, SigningInput: input, Signature: sig}
	k := &Key{Public: edKey.Public()}
	require.NoError(t, verify(tok, k))
	require.Zero(t, testing.AllocsPerRun(50, func() { _ = verify(tok, k) }))
}

// TestVerifyECDSAAllocations pins what verify allocates for ES256 above
// ecdsa.VerifyASN1 itself: nothing (the DER encoding of the signature
// reuses pooled buffers).
func TestVerifyECDSAAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	const input = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0"
	sig, err := jwt.SigningMethodES256.Sign(input, ecKey)
	require.NoError(t, err)
	tok := &jws{Header: header{Alg: "ES256"}, SigningInput: input, Signature: sig}
	k := &Key{Public: ecKey.Public()}
	require.NoError(t, verify(tok, k))
	digest := hashOf(t, crypto.SHA256, input)
	der, err := ecdsa.SignASN1(rand.Reader, ecKey, digest)
	require.NoError(t, err)
	require.True(t, ecdsa.VerifyASN1(&ecKey.PublicKey, digest, der))
	std := testing.AllocsPerRun(50, func() { _ = ecdsa.VerifyASN1(&ecKey.PublicKey, digest, der) })
	require.Equal(t, std, testing.AllocsPerRun(50, func() { _ = verify(tok, k) }))
}

// method knows exactly the algorithms of the JOSE registry (RFC 7518)
// that this package verifies, with the hash each signs.
func TestMethod(t *testing.T) {
	want := map[string]crypto.Hash{
		"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512,
		"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512,
		"ES256": crypto.SHA256, "ES384": crypto.SHA384, "ES512": crypto.SHA512,
		"EdDSA": 0,
	}
	for alg, h := range want {
		got, ok := method(alg)
		assert.True(t, ok, alg)
		assert.Equal(t, h, got, alg)
	}
	for _, alg := range []string{"", "none", "HS256", "HS384", "HS512", "rs256", "RS256 ", "ES256K", "Ed25519", "EDDSA", "PS256\x00"} {
		_, ok := method(alg)
		assert.False(t, ok, alg)
	}
}
