package validator_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/validator"
)

var b64u = base64.RawURLEncoding

// refThumbprint is an independent RFC 7638 computation: encoding/json
// sorts map keys and writes no whitespace.
func refThumbprint(t *testing.T, members map[string]string) string {
	t.Helper()
	b, err := json.Marshal(members)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	return b64u.EncodeToString(sum[:])
}

// ecMembers returns the required members of an EC key, coordinates at
// full length.
func ecMembers(pub *ecdsa.PublicKey) map[string]string {
	size := (pub.Curve.Params().BitSize + 7) / 8
	return map[string]string{
		"kty": "EC",
		"crv": pub.Curve.Params().Name,
		"x":   b64u.EncodeToString(pub.X.FillBytes(make([]byte, size))),
		"y":   b64u.EncodeToString(pub.Y.FillBytes(make([]byte, size))),
	}
}

// ecKeyWithLeadingZeroX generates P-256 keys until one has an x whose
// first octet is zero (one in 256).
func ecKeyWithLeadingZeroX(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	for range 1 << 14 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		if k.X.BitLen() <= 248 {
			return k
		}
	}
	t.Fatal("no P-256 key with a leading zero octet in x after 16384 tries")
	return nil
}

func jwkJSON(t *testing.T, members map[string]string) []byte {
	t.Helper()
	b, err := json.Marshal(members)
	require.NoError(t, err)
	return b
}

func TestThumbprintSpecVectors(t *testing.T) {
	for _, tc := range []struct {
		name, jwk, want string
	}{
		{
			// RFC 7638 section 3.1.
			name: "RFC 7638 RSA",
			jwk:  `{"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`,
			want: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
		},
		{
			// RFC 8037 appendix A.3.
			name: "RFC 8037 Ed25519",
			jwk:  `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
			want: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
		},
		{
			// RFC 9449 section 6.1: the jwk of the section 4.2 proof and
			// the cnf.jkt of the token bound to it.
			name: "RFC 9449 EC P-256",
			jwk:  `{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}`,
			want: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := validator.ParseJWK([]byte(tc.jwk))
			require.NoError(t, err)
			got, err := k.Thumbprint()
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestThumbprintKeyTypes(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	zeroX := ecKeyWithLeadingZeroX(t)

	type keyCase struct {
		name    string
		pub     any
		members map[string]string
	}
	cases := []keyCase{
		{"RSA-2048", &rsaKey.PublicKey, map[string]string{
			"kty": "RSA",
			"n":   b64u.EncodeToString(rsaKey.N.Bytes()),
			"e":   b64u.EncodeToString(big.NewInt(int64(rsaKey.E)).Bytes()),
		}},
		{"Ed25519", edPub, map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64u.EncodeToString(edPub)}},
		{"P-256 x with a leading zero octet", &zeroX.PublicKey, ecMembers(&zeroX.PublicKey)},
	}
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		require.NoError(t, err)
		cases = append(cases, keyCase{c.Params().Name, &k.PublicKey, ecMembers(&k.PublicKey)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := refThumbprint(t, tc.members)
			got, err := (&validator.Key{Public: tc.pub}).Thumbprint()
			require.NoError(t, err)
			assert.Equal(t, want, got)

			// The same key as a JWK with optional members around it:
			// they are not hashed.
			full := map[string]string{"kid": "k1", "use": "sig"}
			for n, v := range tc.members {
				full[n] = v
			}
			k, err := validator.ParseJWK(jwkJSON(t, full))
			require.NoError(t, err)
			got, err = k.Thumbprint()
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}

	t.Run("the leading zero is hashed", func(t *testing.T) {
		m := ecMembers(&zeroX.PublicKey)
		raw, err := b64u.DecodeString(m["x"])
		require.NoError(t, err)
		require.Len(t, raw, 32)
		require.Zero(t, raw[0])
		m["x"] = b64u.EncodeToString(raw[1:])
		got, err := (&validator.Key{Public: &zeroX.PublicKey}).Thumbprint()
		require.NoError(t, err)
		assert.NotEqual(t, refThumbprint(t, m), got, "a shortened coordinate must not give the thumbprint")
	})

	t.Run("unsupported keys", func(t *testing.T) {
		for _, k := range []*validator.Key{nil, {}, {Public: []byte("secret")}, {Public: ed25519.PublicKey{1, 2}}, {Public: (*rsa.PublicKey)(nil)}} {
			_, err := k.Thumbprint()
			assert.Error(t, err)
		}
	})
}

func TestParseJWKRefuses(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	good := ecMembers(&ec.PublicKey)
	with := func(extra map[string]any) []byte {
		m := map[string]any{}
		for n, v := range good {
			m[n] = v
		}
		for n, v := range extra {
			if v == nil {
				delete(m, n)
				continue
			}
			m[n] = v
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	zeroX := ecMembers(&ecKeyWithLeadingZeroX(t).PublicKey)
	shortX, err := b64u.DecodeString(zeroX["x"])
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	big2048, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	nWithZero := b64u.EncodeToString(append([]byte{0}, big2048.N.Bytes()...))

	ecJSON := string(jwkJSON(t, good))
	for _, tc := range []struct {
		name string
		jwk  string
	}{
		{"d", string(with(map[string]any{"d": "AAAA"}))},
		{"empty d", string(with(map[string]any{"d": ""}))},
		{"null d", `{"d":null,` + ecJSON[1:]},
		{"RSA private members", `{"kty":"RSA","n":"` + b64u.EncodeToString(big2048.N.Bytes()) + `","e":"AQAB","p":"AQ"}`},
		{"oth", `{"oth":[],` + ecJSON[1:]},
		{"oct", `{"kty":"oct","k":"c2VjcmV0"}`},
		{"oct without k", `{"kty":"oct"}`},
		{"case variant X", `{"X":"AA",` + ecJSON[1:]},
		{"case variant D", `{"D":"AAAA",` + ecJSON[1:]},
		{"case variant KTY", `{"KTY":"oct",` + ecJSON[1:]},
		{"duplicate x", `{"x":"` + good["x"] + `",` + ecJSON[1:]},
		{"not an object", `["EC"]`},
		{"two objects", ecJSON + ecJSON},
		{"trailing garbage", ecJSON + "x"},
		{"invalid UTF-8", `{"kid":"` + "\xff" + `",` + ecJSON[1:]},
		{"x missing its leading zero", string(jwkJSON(t, map[string]string{"kty": "EC", "crv": "P-256", "x": b64u.EncodeToString(shortX[1:]), "y": zeroX["y"]}))},
		{"x too long", string(with(map[string]any{"x": b64u.EncodeToString(append([]byte{0}, ec.X.FillBytes(make([]byte, 32))...))}))},
		{"x padded", string(with(map[string]any{"x": good["x"] + "="}))},
		{"y missing", string(with(map[string]any{"y": nil}))},
		{"curve mismatch", string(with(map[string]any{"crv": "P-384"}))},
		{"unknown curve", string(with(map[string]any{"crv": "P-192"}))},
		{"point off the curve", string(with(map[string]any{"y": good["x"]}))},
		{"Ed25519 short x", `{"kty":"OKP","crv":"Ed25519","x":"AAAA"}`},
		{"X25519", `{"kty":"OKP","crv":"X25519","x":"` + b64u.EncodeToString(make([]byte, 32)) + `"}`},
		{"RSA n with a leading zero", `{"kty":"RSA","n":"` + nWithZero + `","e":"AQAB"}`},
		{"RSA e with a leading zero", `{"kty":"RSA","n":"` + b64u.EncodeToString(big2048.N.Bytes()) + `","e":"AAEAAQ"}`},
		{"RSA-1024", `{"kty":"RSA","n":"` + b64u.EncodeToString(small.N.Bytes()) + `","e":"AQAB"}`},
		{"use enc", string(with(map[string]any{"use": "enc"}))},
		{"alg of another curve", string(with(map[string]any{"alg": "ES384"}))},
		{"unknown kty", `{"kty":"XYZ"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := validator.ParseJWK([]byte(tc.jwk))
			require.Error(t, err)
			assert.Nil(t, k)
			assert.True(t, errors.Is(err, validator.ErrJWK), "%v", err)
			assert.NotContains(t, err.Error(), good["x"])
		})
	}
}

func TestKeyVerify(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	const input = "eyJhbGciOiJFUzI1NiJ9.e30"
	digest := sha256.Sum256([]byte(input))

	r, s, err := ecdsa.Sign(rand.Reader, ec, digest[:])
	require.NoError(t, err)
	esSig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	rsSig, err := rsa.SignPKCS1v15(rand.Reader, rs, crypto.SHA256, digest[:])
	require.NoError(t, err)
	psSig, err := rsa.SignPSS(rand.Reader, rs, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	require.NoError(t, err)
	psSaltShort, err := rsa.SignPSS(rand.Reader, rs, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: 8})
	require.NoError(t, err)
	edSig := ed25519.Sign(edPriv, []byte(input))
	der, err := ecdsa.SignASN1(rand.Reader, ec, digest[:])
	require.NoError(t, err)

	ecKey := &validator.Key{Public: &ec.PublicKey}
	rsKey := &validator.Key{Public: &rs.PublicKey}
	edKey := &validator.Key{Public: edPriv.Public()}
	for _, tc := range []struct {
		name string
		key  *validator.Key
		alg  string
		sig  []byte
		ok   bool
	}{
		{"ES256", ecKey, "ES256", esSig, true},
		{"RS256", rsKey, "RS256", rsSig, true},
		{"PS256", &validator.Key{Algorithm: "PS256", Public: &rs.PublicKey}, "PS256", psSig, true},
		{"PS256 with an RSA key without alg (RS256 only)", rsKey, "PS256", psSig, false},
		{"EdDSA", edKey, "EdDSA", edSig, true},
		{"ES256 DER", ecKey, "ES256", der, false},
		{"ES256 as ES384", ecKey, "ES384", esSig, false},
		{"PS256 short salt", &validator.Key{Algorithm: "PS256", Public: &rs.PublicKey}, "PS256", psSaltShort, false},
		{"RS256 as PS256", &validator.Key{Algorithm: "PS256", Public: &rs.PublicKey}, "PS256", rsSig, false},
		{"none", ecKey, "none", nil, false},
		{"HS256 with an RSA key", rsKey, "HS256", rsSig, false},
		{"empty signature", ecKey, "ES256", nil, false},
		{"flipped bit", ecKey, "ES256", append([]byte{esSig[0] ^ 1}, esSig[1:]...), false},
		{"key restricted to another alg", &validator.Key{Algorithm: "PS256", Public: &rs.PublicKey}, "RS256", rsSig, false},
		{"nil key", nil, "ES256", esSig, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.key.Verify(tc.alg, input, tc.sig)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, validator.ErrSignature), "%v", err)
		})
	}
}

func ExampleKey_Thumbprint() {
	k, err := validator.ParseJWK([]byte(`{"kty":"EC","crv":"P-256",` +
		`"x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",` +
		`"y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	jkt, _ := k.Thumbprint()
	fmt.Println(jkt)
	_, err = validator.ParseJWK([]byte(`{"kty":"EC","crv":"P-256","d":"private"}`))
	fmt.Println(strings.TrimPrefix(err.Error(), "validator: "))
	// Output:
	// 0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I
	// unacceptable JWK: carries private or symmetric key material
}
