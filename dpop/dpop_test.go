package dpop_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
)

// now is the fixed clock of most tests.
var now = time.Unix(1_800_000_000, 0)

const (
	target = "http://api.example.com/api/private"
	token  = "eyJhbGciOiJSUzI1NiJ9.eyJjbmYiOnt9fQ.c2ln" // any string: ath is its hash
)

type fixture struct {
	t   *testing.T
	v   *dpop.Verifier
	key *dpoptest.Key
}

func newFixture(t *testing.T, cfg dpop.Config) *fixture {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	v, err := dpop.NewVerifier(cfg)
	require.NoError(t, err)
	return &fixture{t: t, v: v, key: dpoptest.GenerateKey("ES256")}
}

// proof is a correct proof of f.key for GET target with token, changed by
// opts.
func (f *fixture) proof(opts ...dpoptest.Option) string {
	base := []dpoptest.Option{dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token)}
	return f.key.Proof(http.MethodGet, target, append(base, opts...)...)
}

// request returns GET target carrying token and the given DPoP headers.
func request(method, url string, proofs ...string) *http.Request {
	r := httptest.NewRequest(method, url, nil)
	r.Header.Set("Authorization", "DPoP "+token)
	for _, p := range proofs {
		r.Header.Add("DPoP", p)
	}
	return r
}

func (f *fixture) verify(r *http.Request) (dpop.Proof, error) {
	return f.v.Verify(context.Background(), r, token, f.key.Thumbprint())
}

// requireRefused checks the class and exact reason of a refusal, and that
// the message quotes neither the proof nor the token and fits a
// quoted-string without escapes.
func requireRefused(t *testing.T, err error, class error, reason string, proof string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, class)
	var e *dpop.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, reason, e.Reason)
	msg := err.Error()
	assert.NotContains(t, msg, `"`)
	assert.NotContains(t, msg, `\`)
	assert.NotContains(t, msg, token)
	if proof != "" {
		for _, seg := range strings.Split(proof, ".") {
			if len(seg) > 8 {
				assert.NotContains(t, msg, seg)
			}
		}
	}
}

func TestVerifyAccepts(t *testing.T) {
	for _, alg := range []string{"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, dpop.Config{Algorithms: []string{alg}})
			f.key = dpoptest.GenerateKey(alg)
			p, err := f.verify(request("GET", target, f.proof(dpoptest.WithJTI("jti-1"))))
			require.NoError(t, err)
			assert.Equal(t, f.key.Thumbprint(), p.Thumbprint)
			assert.Equal(t, "jti-1", p.JTI)
			assert.True(t, p.IssuedAt.Equal(now))
		})
	}
}

// TestVerifyRefuses holds every check of RFC 9449 section 4.3 (and this
// package's stricter parsing) to a refusing case with its exact reason.
func TestVerifyRefuses(t *testing.T) {
	f := newFixture(t, dpop.Config{})
	other := dpoptest.GenerateKey("ES256")
	p384 := dpoptest.GenerateKey("ES384")
	good := f.proof()
	h, pl, sig := splitJWS(good)
	b64 := base64.RawURLEncoding.EncodeToString
	jwkJSON, err := json.Marshal(f.key.JWK())
	require.NoError(t, err)
	raw := func(header, payload string) string {
		return f.key.SignRaw([]byte(header), []byte(payload))
	}
	claims := func(extra string) string {
		return `{"jti":"j1","htm":"GET","htu":"` + target + `","iat":` + itoa(now.Unix()) + `,"ath":"` + dpoptest.AccessTokenHash(token) + `"` + extra + `}`
	}
	hdr := `{"typ":"dpop+jwt","alg":"ES256","jwk":` + string(jwkJSON) + `}`

	tests := []struct {
		name   string
		proofs []string
		method string
		url    string
		class  error
		reason string
	}{
		// Exactly one DPoP header holding one compact JWS.
		{name: "no DPoP header", reason: "no DPoP header"},
		{name: "empty DPoP header", proofs: []string{""}, reason: "no DPoP header"},
		{name: "two DPoP headers", proofs: []string{good, f.proof()}, reason: "more than one DPoP header"},
		{name: "two proofs in one header", proofs: []string{good + "," + f.proof()}, reason: "proof is not a compact JWS of three segments"},
		{name: "two segments", proofs: []string{h + "." + pl}, reason: "proof is not a compact JWS of three segments"},
		{name: "padded segment", proofs: []string{h + "=." + pl + "." + sig}, reason: "proof segment is not canonical unpadded base64url"},
		{name: "standard base64 alphabet", proofs: []string{stdAlphabet(t, f)}, reason: "proof segment is not canonical unpadded base64url"},
		{name: "whitespace", proofs: []string{h + " ." + pl + "." + sig}, reason: "proof segment is not canonical unpadded base64url"},
		{name: "too large", proofs: []string{f.proof(dpoptest.WithClaim("pad", strings.Repeat("x", 9000)))}, reason: "proof too large"},
		{name: "JWE", proofs: []string{h + ".." + pl + ".." + sig}, reason: "proof is not a compact JWS of three segments"},

		// Header: strict JSON, typ, alg, jwk.
		{name: "header duplicate member", proofs: []string{raw(`{"typ":"dpop+jwt","alg":"ES256","alg":"ES256","jwk":`+string(jwkJSON)+`}`, claims(""))}, reason: "proof header is not a valid JSON object"},
		{name: "header case variant Alg", proofs: []string{raw(`{"typ":"dpop+jwt","alg":"ES256","Alg":"none","jwk":`+string(jwkJSON)+`}`, claims(""))}, reason: "proof header is not a valid JSON object"},
		{name: "header case variant JWK", proofs: []string{raw(`{"typ":"dpop+jwt","alg":"ES256","JWK":`+string(jwkJSON)+`}`, claims(""))}, reason: "proof header is not a valid JSON object"},
		{name: "header not an object", proofs: []string{b64([]byte(`["dpop+jwt"]`)) + "." + pl + "." + sig}, reason: "proof header is not a valid JSON object"},
		{name: "typ missing", proofs: []string{f.proof(dpoptest.WithoutHeader("typ"))}, reason: "proof typ is not dpop+jwt"},
		{name: "typ JWT", proofs: []string{f.proof(dpoptest.WithHeader("typ", "JWT"))}, reason: "proof typ is not dpop+jwt"},
		{name: "typ at+jwt (an access token)", proofs: []string{f.proof(dpoptest.WithHeader("typ", "at+jwt"))}, reason: "proof typ is not dpop+jwt"},
		{name: "typ number", proofs: []string{f.proof(dpoptest.WithHeader("typ", 1))}, reason: "proof header is not a valid JSON object"},
		{name: "alg missing", proofs: []string{f.proof(dpoptest.WithoutHeader("alg"))}, reason: "proof alg missing or not a string"},
		{name: "alg number", proofs: []string{f.proof(dpoptest.WithHeader("alg", 256))}, reason: "proof alg missing or not a string"},
		{name: "alg none", proofs: []string{f.proof(dpoptest.WithHeader("alg", "none"), dpoptest.WithSignature([]byte{}))}, reason: "proof alg not allowed"},
		{name: "alg None", proofs: []string{f.proof(dpoptest.WithHeader("alg", "None"), dpoptest.WithSignature([]byte{}))}, reason: "proof alg not allowed"},
		{name: "HS256 with an oct jwk", proofs: []string{f.proof(dpoptest.WithSymmetricJWK([]byte("0123456789abcdef0123456789abcdef")))}, reason: "proof alg not allowed"},
		{name: "alg outside the allow-list", proofs: []string{f.proof(dpoptest.WithHeader("alg", "PS512"))}, reason: "proof alg not allowed"},
		{name: "alg of another curve", proofs: []string{f.proof(dpoptest.WithHeader("alg", "ES384"))}, reason: "proof jwk does not fit alg"},
		{name: "alg of another key type", proofs: []string{f.proof(dpoptest.WithHeader("alg", "RS256"))}, reason: "proof jwk does not fit alg"},
		{name: "jwk missing", proofs: []string{f.proof(dpoptest.WithoutHeader("jwk"))}, reason: "proof header has no jwk"},
		{name: "jwk null", proofs: []string{f.proof(dpoptest.WithHeader("jwk", nil))}, reason: "proof jwk is not an acceptable public key: not one JSON object with unique member names"},
		{name: "jwk string", proofs: []string{f.proof(dpoptest.WithHeader("jwk", "key"))}, reason: "proof jwk is not an acceptable public key: not one JSON object with unique member names"},
		{name: "jwk with the private key", proofs: []string{f.proof(dpoptest.WithPrivateJWK())}, reason: "proof jwk is not an acceptable public key: carries private or symmetric key material"},
		{name: "jwk oct under an asymmetric alg", proofs: []string{f.proof(dpoptest.WithSymmetricJWK([]byte("0123456789abcdef0123456789abcdef")), dpoptest.WithHeader("alg", "ES256"))}, reason: "proof jwk is not an acceptable public key: carries private or symmetric key material"},
		{name: "jwk oct without k", proofs: []string{f.proof(dpoptest.WithHeader("jwk", map[string]any{"kty": "oct"}))}, reason: "proof jwk is not an acceptable public key: kty 'oct' is a symmetric key"},
		{name: "jwk with d null", proofs: []string{f.proof(dpoptest.WithHeader("jwk", withMember(f.key.JWK(), "d", nil)))}, reason: "proof jwk is not an acceptable public key: carries private or symmetric key material"},
		{name: "jwk case variant X", proofs: []string{f.proof(dpoptest.WithHeader("jwk", withMember(f.key.JWK(), "X", "AA")))}, reason: "proof jwk is not an acceptable public key: a member name is a letter-case variant of a JWK member"},
		{name: "crit", proofs: []string{f.proof(dpoptest.WithHeader("crit", []string{"exp"}))}, reason: "proof header has crit, b64, jku, x5u, x5c or a nested cty"},
		{name: "jku", proofs: []string{f.proof(dpoptest.WithHeader("jku", "https://evil.example/jwks"))}, reason: "proof header has crit, b64, jku, x5u, x5c or a nested cty"},
		{name: "x5u", proofs: []string{f.proof(dpoptest.WithHeader("x5u", "https://evil.example/cert"))}, reason: "proof header has crit, b64, jku, x5u, x5c or a nested cty"},
		{name: "x5c", proofs: []string{f.proof(dpoptest.WithHeader("x5c", []string{"MII"}))}, reason: "proof header has crit, b64, jku, x5u, x5c or a nested cty"},
		{name: "b64", proofs: []string{f.proof(dpoptest.WithHeader("b64", false))}, reason: "proof header has crit, b64, jku, x5u, x5c or a nested cty"},
		{name: "nested cty", proofs: []string{f.proof(dpoptest.WithHeader("cty", "JWT"))}, reason: "proof header has crit, b64, jku, x5u, x5c or a nested cty"},

		// Claims: present, of their types, strict JSON.
		{name: "payload not an object", proofs: []string{raw(hdr, `["GET"]`)}, reason: "proof claims are not a valid JSON object"},
		{name: "duplicate htu", proofs: []string{raw(hdr, claims(`,"htu":"https://evil.example/"`))}, reason: "proof claims are not a valid JSON object"},
		{name: "case variant HTU", proofs: []string{raw(hdr, claims(`,"HTU":"https://evil.example/"`))}, reason: "proof claim name is a letter-case variant of a DPoP claim"},
		{name: "escaped htm name", proofs: []string{raw(hdr, `{"jti":"j","\u0068tm":"GET"}`)}, reason: "proof claim name is a letter-case variant of a DPoP claim"},
		{name: "jti missing", proofs: []string{f.proof(dpoptest.WithoutClaim("jti"))}, reason: "proof jti missing or not a non-empty string"},
		{name: "jti empty", proofs: []string{f.proof(dpoptest.WithJTI(""))}, reason: "proof jti missing or not a non-empty string"},
		{name: "jti number", proofs: []string{f.proof(dpoptest.WithClaim("jti", 7))}, reason: "proof jti missing or not a non-empty string"},
		{name: "htm missing", proofs: []string{f.proof(dpoptest.WithoutClaim("htm"))}, reason: "proof htm missing or not a string"},
		{name: "htm array", proofs: []string{f.proof(dpoptest.WithClaim("htm", []string{"GET"}))}, reason: "proof htm missing or not a string"},
		{name: "htu missing", proofs: []string{f.proof(dpoptest.WithoutClaim("htu"))}, reason: "proof htu missing or not a string"},
		{name: "htu null", proofs: []string{f.proof(dpoptest.WithClaim("htu", nil))}, reason: "proof htu missing or not a string"},
		{name: "iat missing", proofs: []string{f.proof(dpoptest.WithoutClaim("iat"))}, reason: "proof iat missing or not a number"},
		{name: "iat string", proofs: []string{f.proof(dpoptest.WithClaim("iat", itoa(now.Unix())))}, reason: "proof iat missing or not a number"},
		{name: "iat negative", proofs: []string{f.proof(dpoptest.WithClaim("iat", -1))}, reason: "proof iat missing or not a number"},
		{name: "ath missing", proofs: []string{f.proof(dpoptest.WithoutClaim("ath"))}, reason: "proof ath missing or not a string"},
		{name: "ath number", proofs: []string{f.proof(dpoptest.WithClaim("ath", 1))}, reason: "proof ath missing or not a string"},
		{name: "nonce number", proofs: []string{f.proof(dpoptest.WithClaim("nonce", 1))}, reason: "proof nonce is not a string"},
		{name: "invalid UTF-8", proofs: []string{raw(hdr, claims(`,"x":"`+"\xff"+`"`))}, reason: "proof claims are not a valid JSON object"},

		// The proof names this request.
		{name: "htm POST on GET", proofs: []string{f.key.Proof("POST", target, dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token))}, reason: "proof htm does not match the request method"},
		{name: "htm lower case", proofs: []string{f.key.Proof("get", target, dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token))}, reason: "proof htm does not match the request method"},
		{name: "htu another path", proofs: []string{f.proof(dpoptest.WithClaim("htu", "http://api.example.com/api/admin"))}, reason: "proof htu does not match the request URL"},
		{name: "htu another host", proofs: []string{f.proof(dpoptest.WithClaim("htu", "http://evil.example.com/api/private"))}, reason: "proof htu does not match the request URL"},
		{name: "htu https on http", proofs: []string{f.proof(dpoptest.WithClaim("htu", "https://api.example.com/api/private"))}, reason: "proof htu does not match the request URL"},
		{name: "htu another port", proofs: []string{f.proof(dpoptest.WithClaim("htu", "http://api.example.com:8080/api/private"))}, reason: "proof htu does not match the request URL"},
		{name: "htu trailing slash", proofs: []string{f.proof(dpoptest.WithClaim("htu", target+"/"))}, reason: "proof htu does not match the request URL"},
		{name: "htu path case", proofs: []string{f.proof(dpoptest.WithClaim("htu", "http://api.example.com/API/private"))}, reason: "proof htu does not match the request URL"},
		{name: "htu encoded slash", proofs: []string{f.proof(dpoptest.WithClaim("htu", "http://api.example.com/api%2Fprivate"))}, reason: "proof htu does not match the request URL"},
		{name: "htu relative", proofs: []string{f.proof(dpoptest.WithClaim("htu", "/api/private"))}, reason: "proof htu is not an absolute http or https URL"},
		{name: "htu with user info", proofs: []string{f.proof(dpoptest.WithClaim("htu", "http://user@api.example.com/api/private"))}, reason: "proof htu is not an absolute http or https URL"},
		{name: "htu ftp", proofs: []string{f.proof(dpoptest.WithClaim("htu", "ftp://api.example.com/api/private"))}, reason: "proof htu is not an absolute http or https URL"},
		{name: "htu empty", proofs: []string{f.proof(dpoptest.WithClaim("htu", ""))}, reason: "proof htu is not an absolute http or https URL"},

		// iat within the window: 300 s old, 30 s ahead.
		{name: "iat 301 s old", proofs: []string{f.proof(dpoptest.WithIssuedAt(now.Add(-301 * time.Second)))}, reason: "proof iat is too old"},
		{name: "iat 31 s ahead", proofs: []string{f.proof(dpoptest.WithIssuedAt(now.Add(31 * time.Second)))}, reason: "proof iat is in the future"},
		{name: "iat far past", proofs: []string{f.proof(dpoptest.WithClaim("iat", 0))}, reason: "proof iat is too old"},

		// ath and the key binding.
		{name: "ath of another token", proofs: []string{f.proof(dpoptest.WithAccessToken(token + "x"))}, reason: "proof ath does not match the access token"},
		{name: "ath padded", proofs: []string{f.proof(dpoptest.WithClaim("ath", dpoptest.AccessTokenHash(token)+"="))}, reason: "proof ath does not match the access token"},
		{name: "ath of the token itself", proofs: []string{f.proof(dpoptest.WithClaim("ath", token))}, reason: "proof ath does not match the access token"},
		{name: "key not the token's (cnf.jkt)", proofs: []string{other.Proof("GET", target, dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token))}, reason: "proof key does not match the access token's cnf.jkt"},

		// Signature by the jwk.
		{name: "signed by another key", proofs: []string{f.proof(dpoptest.WithSigner(other))}, reason: "proof signature does not verify"},
		{name: "signed by a key of another curve", proofs: []string{f.proof(dpoptest.WithSigner(p384))}, reason: "proof signature does not verify"},
		{name: "empty signature", proofs: []string{h + "." + pl + "."}, reason: "proof signature does not verify"},
		{name: "flipped signature bit", proofs: []string{h + "." + pl + "." + flip(sig)}, reason: "proof signature does not verify"},
		{name: "payload of another proof", proofs: []string{h + "." + segment(f.proof(dpoptest.WithJTI("other")), 1) + "." + sig}, reason: "proof signature does not verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method, url := "GET", target
			if tc.method != "" {
				method, url = tc.method, tc.url
			}
			class := tc.class
			if class == nil {
				class = dpop.ErrInvalidProof
			}
			_, err := f.verify(request(method, url, tc.proofs...))
			var proof string
			if len(tc.proofs) > 0 {
				proof = tc.proofs[0]
			}
			requireRefused(t, err, class, tc.reason, proof)
			var e *dpop.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "invalid_dpop_proof", e.Code())
		})
	}
	// The good proof still passes after all of the above: none of the
	// refusals recorded its jti.
	_, err = f.verify(request("GET", target, good))
	require.NoError(t, err)
}

func TestVerifyIatWindow(t *testing.T) {
	for _, tc := range []struct {
		name              string
		cfg               dpop.Config
		iat               time.Duration
		ok                bool
		reasonWhenRefused string
	}{
		{"default: 300 s old", dpop.Config{}, -300 * time.Second, true, ""},
		{"default: 30 s ahead", dpop.Config{}, 30 * time.Second, true, ""},
		{"default: 300.5 s old", dpop.Config{}, -300500 * time.Millisecond, false, "proof iat is too old"},
		{"MaxAge 60 s: 61 s old", dpop.Config{MaxAge: time.Minute}, -61 * time.Second, false, "proof iat is too old"},
		{"MaxAge 60 s: 60 s old", dpop.Config{MaxAge: time.Minute}, -60 * time.Second, true, ""},
		{"MaxFuture 5 s: 6 s ahead", dpop.Config{MaxFuture: 5 * time.Second}, 6 * time.Second, false, "proof iat is in the future"},
		{"MaxFuture 5 s: 5 s ahead", dpop.Config{MaxFuture: 5 * time.Second}, 5 * time.Second, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.cfg)
			iat := now.Add(tc.iat)
			p := f.proof(dpoptest.WithClaim("iat", float64(iat.UnixNano())/1e9))
			_, err := f.verify(request("GET", target, p))
			if tc.ok {
				require.NoError(t, err)
				return
			}
			requireRefused(t, err, dpop.ErrInvalidProof, tc.reasonWhenRefused, p)
		})
	}
}

func TestVerifyUnboundToken(t *testing.T) {
	f := newFixture(t, dpop.Config{})
	_, err := f.v.Verify(context.Background(), request("GET", target, f.proof()), token, "")
	requireRefused(t, err, dpop.ErrUnboundToken, "access token has no cnf.jkt", "")
	var e *dpop.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "invalid_token", e.Code())
	assert.NotErrorIs(t, err, dpop.ErrInvalidProof)
}

// TestHTUComparison: htu names the request's URL without query and
// fragment, scheme and host in any case, default ports dropped,
// percent-encoding normalized (RFC 3986 section 6.2.2).
func TestHTUComparison(t *testing.T) {
	for _, tc := range []struct {
		name, request, htu string
		ok                 bool
	}{
		{"compliant proof on a request with a query", "http://api.example.com/r?a=1", "http://api.example.com/r", true},
		{"htu with the query too", "http://api.example.com/r?a=1", "http://api.example.com/r?a=1", true},
		{"htu with another query", "http://api.example.com/r?a=1", "http://api.example.com/r?b=2", true},
		{"htu with a fragment", "http://api.example.com/r", "http://api.example.com/r#frag", true},
		{"scheme and host case", "http://api.example.com/r", "HTTP://API.Example.COM/r", true},
		{"default port in htu", "http://api.example.com/r", "http://api.example.com:80/r", true},
		{"default port in the request", "http://api.example.com:80/r", "http://api.example.com/r", true},
		{"empty port", "http://api.example.com/r", "http://api.example.com:/r", true},
		{"other port", "http://api.example.com:8080/r", "http://api.example.com:8080/r", true},
		{"port 443 is not http's default", "http://api.example.com/r", "http://api.example.com:443/r", false},
		{"unreserved character encoded in htu", "http://api.example.com/~user/a-b", "http://api.example.com/%7Euser/a%2Db", true},
		{"unreserved character encoded in the request", "http://api.example.com/%7euser", "http://api.example.com/~user", true},
		{"hex case of a reserved character", "http://api.example.com/a%2fb", "http://api.example.com/a%2Fb", true},
		{"encoded slash is not a slash", "http://api.example.com/a%2Fb", "http://api.example.com/a/b", false},
		{"non-ASCII raw and encoded", "http://api.example.com/caf%C3%A9", "http://api.example.com/caf%c3%a9", true},
		{"dot segments", "http://api.example.com/r", "http://api.example.com/a/../r", true},
		{"encoded dot segments", "http://api.example.com/r", "http://api.example.com/a/%2E%2E/r", true},
		{"empty path is /", "http://api.example.com/", "http://api.example.com", true},
		{"path case matters", "http://api.example.com/r", "http://api.example.com/R", false},
		{"trailing slash matters", "http://api.example.com/r", "http://api.example.com/r/", false},
		{"IPv6 literal", "http://[::1]:8080/r", "http://[::1]:8080/r", true},
		{"IPv6 literal default port", "http://[::1]/r", "http://[::1]:80/r", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, dpop.Config{})
			p := f.key.Proof("GET", tc.htu, dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token), dpoptest.WithClaim("htu", tc.htu))
			_, err := f.verify(request("GET", tc.request, p))
			if tc.ok {
				require.NoError(t, err)
				return
			}
			requireRefused(t, err, dpop.ErrInvalidProof, "proof htu does not match the request URL", p)
		})
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://API.example.com:443/a/./b/../c?x#y": "https://api.example.com/a/c",
		"http://h:80":                     "http://h/",
		"http://h/%7e%41%2f%2F%25":        "http://h/~A%2F%2F%25",
		"http://h/a b":                    "http://h/a%20b",
		"http://h/..":                     "http://h/",
		"http://h/a/b/..":                 "http://h/a/",
		"HTTPS://h/":                      "https://h/",
		"http://h:8443/x":                 "http://h:8443/x",
		"http://[2001:DB8::1]:443/":       "http://[2001:db8::1]:443/",
		"https://[2001:db8::1]:443/a/%2e": "https://[2001:db8::1]/a/",
	} {
		got, err := dpop.NormalizeURL(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "/r", "h/r", "ftp://h/", "http://", "http://u:p@h/", "mailto:a@b", "http://h:x/", "http://h/%zz", "http://h/%4"} {
		_, err := dpop.NormalizeURL(in)
		assert.Error(t, err, in)
	}
}

// TestReplay: a proof is accepted once; its jti is scoped to the key, the
// method and the URL; it is recorded only once every other check passed.
func TestReplay(t *testing.T) {
	f := newFixture(t, dpop.Config{})
	p := f.proof(dpoptest.WithJTI("once"))
	_, err := f.verify(request("GET", target, p))
	require.NoError(t, err)

	_, err = f.verify(request("GET", target, p))
	requireRefused(t, err, dpop.ErrReplay, "proof jti already used", p)
	assert.ErrorIs(t, err, dpop.ErrInvalidProof, "a replay is an invalid proof")

	// The same jti from another key, or for another URL or method, is
	// another proof.
	k2 := dpoptest.GenerateKey("EdDSA")
	_, err = f.v.Verify(context.Background(),
		request("GET", target, k2.Proof("GET", target, dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token), dpoptest.WithJTI("once"))),
		token, k2.Thumbprint())
	require.NoError(t, err)
	_, err = f.verify(request("GET", target+"/x", f.key.Proof("GET", target+"/x", dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token), dpoptest.WithJTI("once"))))
	require.NoError(t, err)
	_, err = f.verify(request("DELETE", target, f.key.Proof("DELETE", target, dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token), dpoptest.WithJTI("once"))))
	require.NoError(t, err)

	// A proof refused late (bad signature, wrong ath) leaves no trace:
	// the right proof with its jti still passes.
	_, err = f.verify(request("GET", target, f.proof(dpoptest.WithJTI("late"), dpoptest.WithSignature(make([]byte, 64)))))
	requireRefused(t, err, dpop.ErrInvalidProof, "proof signature does not verify", "")
	_, err = f.verify(request("GET", target, f.proof(dpoptest.WithJTI("late"), dpoptest.WithAccessToken("another"))))
	requireRefused(t, err, dpop.ErrInvalidProof, "proof ath does not match the access token", "")
	_, err = f.verify(request("GET", target, f.proof(dpoptest.WithJTI("late"))))
	require.NoError(t, err)

	// ECDSA signatures are malleable: (r, n-s) verifies like (r, s). The
	// same proof under the other signature is a replay all the same,
	// because the jti is what is recorded, not the proof's bytes.
	m := f.proof(dpoptest.WithJTI("malleable"))
	_, err = f.verify(request("GET", target, m))
	require.NoError(t, err)
	twin := malleate(t, m)
	require.NotEqual(t, m, twin)
	_, err = f.verify(request("GET", target, twin))
	requireRefused(t, err, dpop.ErrReplay, "proof jti already used", "")
}

func TestReplayConcurrent(t *testing.T) {
	f := newFixture(t, dpop.Config{})
	p := f.proof()
	var accepted, replayed atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			_, err := f.verify(request("GET", target, p))
			switch {
			case err == nil:
				accepted.Add(1)
			case errors.Is(err, dpop.ErrReplay):
				replayed.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), accepted.Load())
	assert.Equal(t, int32(31), replayed.Load())
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	clock := now
	s := dpop.NewMemoryStore(64) // 2 entries per shard
	s.SetClock(func() time.Time { return clock })

	ok, err := s.CheckAndSet(ctx, "a", clock.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = s.CheckAndSet(ctx, "a", clock.Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, ok, "an unexpired key is refused")

	// Fill the store with unexpired entries: it refuses new keys rather
	// than forgetting any, and still knows every key it took.
	var taken []string
	full := 0
	for i := range 1000 {
		k := "k" + itoa(int64(i))
		ok, err := s.CheckAndSet(ctx, k, clock.Add(time.Minute))
		switch {
		case errors.Is(err, dpop.ErrStoreFull):
			full++
		case err != nil:
			t.Fatal(err)
		case ok:
			taken = append(taken, k)
		}
	}
	assert.LessOrEqual(t, s.Len(), 64)
	assert.Positive(t, full)
	for _, k := range append(taken, "a") {
		ok, err := s.CheckAndSet(ctx, k, clock.Add(time.Minute))
		require.NoError(t, err)
		assert.False(t, ok, "key %s forgotten", k)
	}

	// Once the entries expire, the space is reused and the keys are
	// accepted again.
	clock = clock.Add(time.Minute)
	for _, k := range append(taken, "a") {
		ok, err := s.CheckAndSet(ctx, k, clock.Add(time.Minute))
		require.NoError(t, err)
		assert.True(t, ok, "expired key %s", k)
	}
}

// TestStoreFullFailsClosed: a full store refuses the proof, as
// ErrStoreUnavailable, never accepts it.
func TestStoreFullFailsClosed(t *testing.T) {
	store := dpop.NewMemoryStore(1) // one entry per shard
	f := newFixture(t, dpop.Config{ReplayStore: store})
	refusals := 0
	for range 200 {
		_, err := f.verify(request("GET", target, f.proof()))
		if err == nil {
			continue
		}
		refusals++
		requireRefused(t, err, dpop.ErrStoreUnavailable, "replay store failed", "")
		assert.ErrorIs(t, err, dpop.ErrStoreFull)
		assert.NotErrorIs(t, err, dpop.ErrInvalidProof)
		var e *dpop.Error
		require.ErrorAs(t, err, &e)
		assert.Empty(t, e.Code(), "a store failure is a server error")
	}
	assert.Positive(t, refusals)
	assert.LessOrEqual(t, store.Len(), 32)
}

// TestNonces: with NonceKeys every proof needs a current nonce; replicas
// with the same keys accept each other's nonces; nonces expire; keys
// rotate.
func TestNonces(t *testing.T) {
	oldKey, newKey := randomKey(t), randomKey(t)
	clock := now
	cfg := func(keys ...[]byte) dpop.Config {
		return dpop.Config{NonceKeys: keys, NonceWindow: time.Minute, Now: func() time.Time { return clock }}
	}
	a := newFixture(t, cfg(oldKey))
	b, err := dpop.NewVerifier(cfg(oldKey)) // another replica
	require.NoError(t, err)
	c, err := dpop.NewVerifier(cfg(randomKey(t))) // another deployment
	require.NoError(t, err)
	assert.True(t, a.v.NoncesRequired())

	_, err = a.verify(request("GET", target, a.proof()))
	requireRefused(t, err, dpop.ErrUseNonce, "proof has no nonce", "")
	var e *dpop.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "use_dpop_nonce", e.Code())

	n := a.v.Nonce()
	require.NotEmpty(t, n)
	assert.Equal(t, n, b.Nonce(), "replicas with one key issue the same nonce")
	_, err = a.verify(request("GET", target, a.proof(dpoptest.WithNonce(n))))
	require.NoError(t, err)
	_, err = b.Verify(context.Background(), request("GET", target, a.proof(dpoptest.WithNonce(n))), token, a.key.Thumbprint())
	require.NoError(t, err, "another replica accepts the nonce")
	_, err = c.Verify(context.Background(), request("GET", target, a.proof(dpoptest.WithNonce(n))), token, a.key.Thumbprint())
	requireRefused(t, err, dpop.ErrUseNonce, "proof nonce is stale or unknown", "")

	for _, bad := range []string{"", "x", n + "A", strings.ToUpper(n), base64.RawURLEncoding.EncodeToString(make([]byte, 24))} {
		_, err = a.verify(request("GET", target, a.proof(dpoptest.WithNonce(bad))))
		requireRefused(t, err, dpop.ErrUseNonce, "proof nonce is stale or unknown", "")
	}

	// Accepted in its window and the next; stale after.
	clock = now.Add(time.Minute)
	_, err = a.verify(request("GET", target, a.proof(dpoptest.WithNonce(n), dpoptest.WithIssuedAt(clock))))
	require.NoError(t, err, "one window later")
	assert.NotEqual(t, n, a.v.Nonce(), "a new window issues a new nonce")
	clock = now.Add(2 * time.Minute)
	_, err = a.verify(request("GET", target, a.proof(dpoptest.WithNonce(n), dpoptest.WithIssuedAt(clock))))
	requireRefused(t, err, dpop.ErrUseNonce, "proof nonce is stale or unknown", "")

	// Rotation: the replica with the new key first issues nonces with it
	// and still accepts the old key's.
	rotated, err := dpop.NewVerifier(cfg(newKey, oldKey))
	require.NoError(t, err)
	oldNonce := a.v.Nonce()
	newNonce := rotated.Nonce()
	assert.NotEqual(t, oldNonce, newNonce)
	for _, nonce := range []string{oldNonce, newNonce} {
		_, err = rotated.Verify(context.Background(), request("GET", target, a.proof(dpoptest.WithNonce(nonce), dpoptest.WithIssuedAt(clock))), token, a.key.Thumbprint())
		require.NoError(t, err)
	}

	// Without NonceKeys a nonce is neither issued nor required.
	off := newFixture(t, dpop.Config{})
	assert.Empty(t, off.v.Nonce())
	assert.False(t, off.v.NoncesRequired())
	_, err = off.verify(request("GET", target, off.proof(dpoptest.WithNonce("anything"))))
	require.NoError(t, err)
}

func TestNewVerifierRefuses(t *testing.T) {
	for name, cfg := range map[string]dpop.Config{
		"alg none":                          {Algorithms: []string{"none"}},
		"alg HS256":                         {Algorithms: []string{"ES256", "HS256"}},
		"unknown alg":                       {Algorithms: []string{"ES256K"}},
		"MaxAge too long":                   {MaxAge: 2 * time.Hour},
		"MaxAge negative":                   {MaxAge: -time.Second},
		"MaxFuture too long":                {MaxFuture: 10 * time.Minute},
		"MaxProofSize negative":             {MaxProofSize: -1},
		"PublicBaseURL with a query":        {PublicBaseURL: "https://api.example.com/?a=1"},
		"PublicBaseURL relative":            {PublicBaseURL: "/api"},
		"PublicBaseURL ftp":                 {PublicBaseURL: "ftp://api.example.com"},
		"PublicBaseURL with user info":      {PublicBaseURL: "https://u@api.example.com"},
		"PublicBaseURL and trusted proxies": {PublicBaseURL: "https://api.example.com", TrustedProxies: loopback},
		"short nonce key":                   {NonceKeys: [][]byte{make([]byte, 16)}},
		"nonce window without keys":         {NonceWindow: time.Minute},
		"nonce window under a second":       {NonceKeys: [][]byte{make([]byte, 32)}, NonceWindow: time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			v, err := dpop.NewVerifier(cfg)
			assert.Error(t, err)
			assert.Nil(t, v)
		})
	}
	v, err := dpop.NewVerifier(dpop.Config{})
	require.NoError(t, err)
	assert.Equal(t, []string{"ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA"}, v.Algorithms())
	assert.Equal(t, "ES256 ES384 ES512 PS256 RS256 EdDSA", v.AlgorithmsParam())
}

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}
