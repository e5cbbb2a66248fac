package validator_test

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

const fuzzIssuer = "https://fuzz.example.com/"

// fuzzKeys are the keys FuzzValidate trusts: one per family, from the
// committed fixtures so that seeds stay valid across runs.
func fuzzKeys(f *testing.F) []*testkit.Key {
	return []*testkit.Key{
		secKey(f, "rsa-2048.pem", "rsa-1", "RS256"),
		secKey(f, "ec-p256.pem", "ec-256", "ES256"),
		secKey(f, "ed25519.pem", "ed-1", "EdDSA"),
	}
}

// FuzzValidate feeds arbitrary strings to Validate with a static key set.
// Invariants: it never panics; every refusal is a *validator.Error of
// exactly one class that does not quote the token; and nothing is
// accepted unless an independent verifier (the standard library, on the
// exact bytes) agrees that the configured key signed it, and, for the
// deterministic RS256 and EdDSA, unless it is byte for byte a token minted
// here.
func FuzzValidate(f *testing.F) {
	keys := fuzzKeys(f)
	pubs := make([]*validator.Key, len(keys))
	for i, k := range keys {
		pubs[i] = k.Public()
	}
	set, err := validator.NewKeySet(pubs...)
	if err != nil {
		f.Fatal(err)
	}
	v, err := validator.New(context.Background(), validator.Config{
		Issuer:     fuzzIssuer,
		Audiences:  []string{testkit.DefaultAudience},
		Algorithms: []string{"RS256", "ES256", "EdDSA"},
		Keys:       set,
		Now:        func() time.Time { return secNow },
	})
	if err != nil {
		f.Fatal(err)
	}

	minted := map[string]bool{}
	mint := func(k *testkit.Key, header, claims map[string]any) string {
		h := map[string]any{"alg": k.Algorithm, "typ": "JWT", "kid": k.ID}
		for n, x := range header {
			h[n] = x
		}
		c := testkit.DefaultClaims(fuzzIssuer)
		c["iat"] = secNow.Unix()
		c["exp"] = secNow.Add(time.Hour).Unix()
		for n, x := range claims {
			c[n] = x
		}
		tok := (&testkit.Token{Header: h, Claims: c, Key: k}).Sign()
		minted[tok] = true
		return tok
	}
	for _, k := range keys {
		good := mint(k, nil, nil)
		mint(k, map[string]any{"typ": "at+jwt"}, map[string]any{"client_id": "c", "jti": "j"})
		mint(k, nil, map[string]any{"scope": "read:contacts write:contacts", "permissions": []string{"a"}, "https://example.com/roles": []string{"admin"}})
		mint(k, nil, map[string]any{"aud": []string{"https://other.example.com", testkit.DefaultAudience}})
		mint(k, nil, map[string]any{"exp": secNow.Unix() - 5, "nbf": secNow.Unix() + 5})
		mint(k, nil, map[string]any{"exp": secNow.Unix() - 3600})
		mint(k, map[string]any{"jku": "https://evil.example/"}, nil)
		mint(k, map[string]any{"kid": "other"}, nil)
		h, p, s := testkit.Segments(good)
		for _, broken := range []string{
			h + "." + p + ".", h + "." + p, h + "." + p + "." + s + "=", h + "." + p + "." + s[:len(s)-2],
			h + "." + p + "." + s + "." + s, " " + good, good + "\n", strings.ToUpper(good),
		} {
			f.Add(broken)
		}
	}
	for tok := range minted {
		f.Add(tok)
	}
	for _, s := range []string{"", ".", "..", "...", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat(".", 100), "Bearer x.y.z"} {
		f.Add(s)
	}

	byKid := map[string]*testkit.Key{}
	for _, k := range keys {
		byKid[k.ID] = k
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Validate(context.Background(), token)
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			var e *validator.Error
			if !errors.As(err, &e) {
				t.Fatalf("%T is not *validator.Error", err)
			}
			n := 0
			for _, s := range secSentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 || !errors.Is(err, validator.ErrInvalidToken) || e.Reason == "" {
				t.Fatalf("error %q matches %d classes", err, n)
			}
			if len(token) >= 16 && strings.Contains(err.Error(), token) {
				t.Fatal("the error quotes the token")
			}
			return
		}
		if c == nil {
			t.Fatal("no error and no claims")
		}
		// Accepted: check it independently.
		alg, kid := independentVerify(t, token, byKid)
		if (alg == "RS256" || alg == "EdDSA") && !minted[token] {
			t.Fatalf("accepted a token that was never minted: %q", token)
		}
		if c.Issuer != fuzzIssuer || !c.HasAudience(testkit.DefaultAudience) || !secNow.Before(c.ExpiresAt.Add(validator.DefaultLeeway)) || c.Subject == "" {
			t.Fatalf("accepted claims that do not fit the configuration: %+v", c)
		}
		_ = kid
	})
}

// independentVerify re-checks an accepted token with the standard library
// only: three strict base64url segments, a header that encoding/json reads
// as an object with a supported alg and a known kid and none of the
// refused parameters, and a signature that verifies with that key.
func independentVerify(t *testing.T, token string, byKid map[string]*testkit.Key) (alg, kid string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("accepted %d segments", len(parts))
	}
	strict := base64.RawURLEncoding.Strict()
	var raw [3][]byte
	for i, p := range parts {
		if strings.ContainsAny(p, "\r\n") {
			t.Fatal("accepted CR or LF")
		}
		b, err := strict.DecodeString(p)
		if err != nil {
			t.Fatalf("accepted a segment that is not strict base64url: %v", err)
		}
		raw[i] = b
	}
	var header map[string]any
	if err := json.Unmarshal(raw[0], &header); err != nil {
		t.Fatalf("accepted a header encoding/json refuses: %v", err)
	}
	for _, p := range []string{"crit", "b64", "jku", "x5u", "jwk", "x5c"} {
		if _, ok := header[p]; ok {
			t.Fatalf("accepted a header with %s", p)
		}
	}
	alg, _ = header["alg"].(string)
	kid, _ = header["kid"].(string)
	k := byKid[kid]
	if k == nil || k.Algorithm != alg {
		t.Fatalf("accepted alg %q kid %q", alg, kid)
	}
	input := []byte(parts[0] + "." + parts[1])
	sig := raw[2]
	ok := false
	switch pub := k.Private.Public().(type) {
	case *rsa.PublicKey:
		d := sha256.Sum256(input)
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
	case *ecdsa.PublicKey:
		d := sha256.Sum256(input)
		ok = len(sig) == 64 && pub.Curve == elliptic.P256() &&
			ecdsa.Verify(pub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case ed25519.PublicKey:
		ok = ed25519.Verify(pub, input, sig)
	}
	if !ok {
		t.Fatalf("accepted a token the standard library does not verify: %q", token)
	}
	return alg, kid
}

// FuzzParseJWKS checks that ParseJWKS never panics and that every key it
// keeps passes the key policy: NewKeySet accepts it, and its type, size,
// curve and alg are among those the package verifies with.
func FuzzParseJWKS(f *testing.F) {
	var jwks []map[string]any
	for _, k := range []*testkit.Key{
		secKey(f, "rsa-2048.pem", "rsa-1", "RS256"),
		secKey(f, "rsa-2048.pem", "rsa-ps", "PS256"),
		secKey(f, "ec-p256.pem", "ec-256", "ES256"),
		secKey(f, "ec-p384.pem", "ec-384", "ES384"),
		secKey(f, "ec-p521.pem", "ec-521", "ES512"),
		secKey(f, "ed25519.pem", "ed-1", "EdDSA"),
	} {
		jwks = append(jwks, k.JWK())
	}
	weak := secKey(f, "rsa-1024-weak.pem", "weak", "RS256").JWK()
	all := secJSON(map[string]any{"keys": jwks})
	f.Add(all)
	for _, j := range jwks {
		f.Add(secJSON(map[string]any{"keys": []any{j}}))
		noAlg := map[string]any{}
		for n, x := range j {
			if n != "alg" {
				noAlg[n] = x
			}
		}
		f.Add(secJSON(map[string]any{"keys": []any{noAlg}}))
	}
	ec := jwks[2]
	for _, s := range []string{
		`{"keys":[]}`, `{}`, `[]`, `null`, `{"keys":null}`, `{"keys":{}}`, `{"keys":[null,1,"x",[]]}`,
		`{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}]}`,
		`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}]}`,
		`{"keys":[{"kty":"OKP","crv":"X25519","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`,
		string(secJSON(map[string]any{"keys": []any{weak}})),
		string(secJSON(map[string]any{"keys": []any{withMember(jwks[0], "use", "enc")}})),
		string(secJSON(map[string]any{"keys": []any{withMember(jwks[0], "key_ops", []string{"encrypt"})}})),
		string(secJSON(map[string]any{"keys": []any{withMember(jwks[0], "alg", "ES256")}})),
		string(secJSON(map[string]any{"keys": []any{withMember(jwks[0], "d", "AQAB")}})),
		string(secJSON(map[string]any{"keys": []any{withMember(jwks[0], "e", "AQ")}})),
		string(secJSON(map[string]any{"keys": []any{withMember(ec, "crv", "P-384")}})),
		string(secJSON(map[string]any{"keys": []any{withMember(ec, "alg", "ES384")}})),
		string(secJSON(map[string]any{"keys": []any{jwks[0], withMember(jwks[2], "kid", "rsa-1")}})),
		`{"keys":[` + strings.Repeat(`{"kty":"oct","k":"AA"},`, 100) + `{"kty":"oct","k":"AA"}]}`,
	} {
		f.Add([]byte(s))
	}
	// The Wycheproof key-set cases (see wycheproofFile for where they are).
	dir := cmp.Or(os.Getenv("WYCHEPROOF_DIR"), "testdata/wycheproof")
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, "json_web_key_test.json"))
	if err != nil {
		f.Fatal(err)
	}
	var file struct {
		TestGroups []struct {
			Public  json.RawMessage `json:"public"`
			Private json.RawMessage `json:"private"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		f.Fatal(err)
	}
	for _, g := range file.TestGroups {
		for _, raw := range []json.RawMessage{g.Public, g.Private} {
			if raw != nil {
				f.Add([]byte(raw))
			}
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := validator.ParseJWKS(data)
		if err != nil {
			if set != nil {
				t.Fatal("a set and an error")
			}
			return
		}
		if set == nil || set.Len() < 1 || set.Len() > validator.MaxJWKSKeys || len(set.Keys()) != set.Len() {
			t.Fatalf("bad set size")
		}
		for _, k := range set.Keys() {
			if _, err := validator.NewKeySet(k); err != nil {
				t.Fatalf("ParseJWKS kept a key that NewKeySet refuses: %v", err)
			}
			checkPolicy(t, k)
		}
	})
}

func withMember(m map[string]any, name string, v any) map[string]any {
	out := map[string]any{name: v}
	for n, x := range m {
		if n != name {
			out[n] = x
		}
	}
	return out
}

// checkPolicy restates the key policy without the package's code.
func checkPolicy(t *testing.T, k *validator.Key) {
	t.Helper()
	var algs []string
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < validator.MinRSABits || pub.E < 3 || pub.E%2 == 0 {
			t.Fatalf("weak RSA key kept: %d bits, e=%d", pub.N.BitLen(), pub.E)
		}
		algs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case *ecdsa.PublicKey:
		if _, err := pub.Bytes(); err != nil {
			t.Fatalf("invalid EC point kept: %v", err)
		}
		switch pub.Curve {
		case elliptic.P256():
			algs = []string{"ES256"}
		case elliptic.P384():
			algs = []string{"ES384"}
		case elliptic.P521():
			algs = []string{"ES512"}
		default:
			t.Fatalf("curve %v kept", pub.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		if len(pub) != ed25519.PublicKeySize {
			t.Fatalf("Ed25519 key of %d bytes kept", len(pub))
		}
		algs = []string{"EdDSA"}
	default:
		t.Fatalf("key of type %T kept", k.Public)
	}
	if k.Algorithm != "" && !slices.Contains(algs, k.Algorithm) {
		t.Fatalf("key with alg %q kept for a %T", k.Algorithm, k.Public)
	}
}
