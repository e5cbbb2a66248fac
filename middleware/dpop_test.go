package middleware_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator/validatortest"
)

const algs = `algs="ES256 ES384 ES512 PS256 RS256 EdDSA"`

// dpopWhoami answers with the subject and the proof's key thumbprint.
var dpopWhoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, _ := claims.FromContext(r.Context())
	p, ok := dpop.FromContext(r.Context())
	_ = json.NewEncoder(w).Encode(map[string]any{"sub": c.Subject, "jkt": p.Thumbprint, "dpop": ok})
})

// serveDPoP starts an API with the middleware in mode; the verifier is
// built from cfg.
func serveDPoP(t *testing.T, mode middleware.DPoPMode, cfg dpop.Config, h http.Handler, opts ...middleware.Option) (url string, mint func(bound *dpoptest.Key) string) {
	t.Helper()
	iss, v := fixture(t)
	pv, err := dpop.NewVerifier(cfg)
	require.NoError(t, err)
	srv := serve(t, v, h, append([]middleware.Option{middleware.WithDPoP(pv, mode)}, opts...)...)
	return srv.URL, func(k *dpoptest.Key) string {
		if k == nil {
			return iss.Mint(validatortest.WithScope("read:contacts"))
		}
		return iss.Mint(validatortest.WithScope("read:contacts"), k.Bind())
	}
}

// dpopCall sends GET url with Authorization lines auth and, unless
// empty, a DPoP header.
func dpopCall(t *testing.T, url string, auth []string, proofs ...string) response {
	t.Helper()
	extra := http.Header{}
	if len(proofs) > 0 {
		extra["Dpop"] = proofs
	}
	return do(t, "GET", url, auth, extra)
}

// TestDPoPModes: which schemes each mode accepts, and the challenges a
// request without credentials gets.
func TestDPoPModes(t *testing.T) {
	k := dpoptest.GenerateKey("ES256")
	for _, tc := range []struct {
		mode         middleware.DPoPMode
		bearer, dpop int
		challenges   []string
	}{
		{middleware.DPoPAllowed, http.StatusOK, http.StatusOK, []string{`Bearer realm="api"`, `DPoP realm="api", ` + algs}},
		{middleware.DPoPRequired, http.StatusUnauthorized, http.StatusOK, []string{`DPoP realm="api", ` + algs}},
	} {
		t.Run(map[middleware.DPoPMode]string{middleware.DPoPAllowed: "allowed", middleware.DPoPRequired: "required"}[tc.mode], func(t *testing.T) {
			base, mint := serveDPoP(t, tc.mode, dpop.Config{}, dpopWhoami)
			url := base + "/api/private"

			res := dpopCall(t, url, nil)
			assert.Equal(t, http.StatusUnauthorized, res.Status)
			assert.Equal(t, tc.challenges, res.Header.Values("WWW-Authenticate"))

			unbound := mint(nil)
			res = dpopCall(t, url, []string{"Bearer " + unbound})
			assert.Equal(t, tc.bearer, res.Status, res.Dump)
			if tc.mode == middleware.DPoPRequired {
				assert.Equal(t, []string{`DPoP realm="api", ` + algs}, res.Header.Values("WWW-Authenticate"), "a Bearer request gets the DPoP challenge")
			}

			bound := mint(k)
			res = dpopCall(t, url, []string{"DPoP " + bound}, k.Proof("GET", url, dpoptest.WithAccessToken(bound)))
			require.Equal(t, tc.dpop, res.Status, res.Dump)
			assert.Contains(t, res.Body, `"jkt":"`+k.Thumbprint()+`"`, "the handler reads the proof's thumbprint")
			assert.Contains(t, res.Body, `"dpop":true`)
		})
	}
	t.Run("off", func(t *testing.T) {
		iss, v := fixture(t)
		srv := serve(t, v, dpopWhoami)
		bound := iss.Mint(k.Bind())
		res := dpopCall(t, srv.URL+"/x", []string{"DPoP " + bound}, k.Proof("GET", srv.URL+"/x", dpoptest.WithAccessToken(bound)))
		assert.Equal(t, http.StatusUnauthorized, res.Status)
		assert.Equal(t, []string{`Bearer realm="api"`}, res.Header.Values("WWW-Authenticate"), "the DPoP scheme is no credentials when DPoP is off")
		res = dpopCall(t, srv.URL+"/x", []string{"Bearer " + bound})
		assert.Equal(t, http.StatusUnauthorized, res.Status)
		assert.Contains(t, res.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	})
}

// TestDPoPAnswers: every refusal in the scheme the client used, with its
// status and challenge, and nothing of the token or proof in the answer.
func TestDPoPAnswers(t *testing.T) {
	k := dpoptest.GenerateKey("ES256")
	other := dpoptest.GenerateKey("ES256")
	base, mint := serveDPoP(t, middleware.DPoPAllowed, dpop.Config{}, dpopWhoami)
	url := base + "/api/private"
	bound, unbound := mint(k), mint(nil)
	proof := func(opts ...dpoptest.Option) string {
		return k.Proof("GET", url, append([]dpoptest.Option{dpoptest.WithAccessToken(bound)}, opts...)...)
	}
	used := proof()
	require.Equal(t, http.StatusOK, dpopCall(t, url, []string{"DPoP " + bound}, used).Status)

	for _, tc := range []struct {
		name      string
		auth      []string
		proofs    []string
		status    int
		challenge string
	}{
		{"bound token as Bearer", []string{"Bearer " + bound}, nil, 401,
			`Bearer realm="api", error="invalid_token", error_description="token is bound to a key and is not a bearer token"`},
		{"DPoP scheme with an unbound token", []string{"DPoP " + unbound}, []string{k.Proof("GET", url, dpoptest.WithAccessToken(unbound))}, 401,
			`DPoP realm="api", error="invalid_token", error_description="token is not DPoP-bound", ` + algs},
		{"DPoP scheme without a proof", []string{"DPoP " + bound}, nil, 401,
			`DPoP realm="api", error="invalid_dpop_proof", error_description="no DPoP header", ` + algs},
		{"two proofs", []string{"DPoP " + bound}, []string{proof(), proof()}, 401,
			`DPoP realm="api", error="invalid_dpop_proof", error_description="more than one DPoP header", ` + algs},
		{"replayed proof", []string{"DPoP " + bound}, []string{used}, 401,
			`DPoP realm="api", error="invalid_dpop_proof", error_description="proof jti already used", ` + algs},
		{"proof of another key", []string{"DPoP " + bound}, []string{other.Proof("GET", url, dpoptest.WithAccessToken(bound))}, 401,
			`DPoP realm="api", error="invalid_dpop_proof", error_description="proof key does not match the access token's cnf.jkt", ` + algs},
		{"proof for another method", []string{"DPoP " + bound}, []string{k.Proof("POST", url, dpoptest.WithAccessToken(bound))}, 401,
			`DPoP realm="api", error="invalid_dpop_proof", error_description="proof htm does not match the request method", ` + algs},
		{"invalid token with the DPoP scheme", []string{"DPoP " + bound + "x"}, []string{proof()}, 401,
			`DPoP realm="api", error="invalid_token", error_description="signature not verified", ` + algs},
		{"Bearer and DPoP Authorization headers", []string{"Bearer " + unbound, "DPoP " + bound}, []string{proof()}, 400,
			`Bearer realm="api", error="invalid_request", error_description="more than one Authorization header"`},
		{"Bearer token with a DPoP proof", []string{"Bearer " + unbound}, []string{proof()}, 400,
			`Bearer realm="api", error="invalid_request", error_description="Bearer token sent with a DPoP proof"`},
		{"DPoP scheme without a token", []string{"DPoP"}, []string{proof()}, 400,
			`DPoP realm="api", error="invalid_request", error_description="empty bearer token", ` + algs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := dpopCall(t, url, tc.auth, tc.proofs...)
			assert.Equal(t, tc.status, res.Status, res.Dump)
			assert.Equal(t, []string{tc.challenge}, res.Header.Values("WWW-Authenticate"))
			requireNoLeak(t, res.Dump, bound)
			for _, p := range tc.proofs {
				requireNoLeak(t, res.Dump, p)
			}
		})
	}
}

// TestDPoPNonce: with server nonces, a proof without a current nonce is
// 401 use_dpop_nonce with exactly one DPoP-Nonce header; the retry with it
// passes and gets a fresh nonce too.
func TestDPoPNonce(t *testing.T) {
	k := dpoptest.GenerateKey("EdDSA")
	base, mint := serveDPoP(t, middleware.DPoPRequired, dpop.Config{NonceKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}}, dpopWhoami)
	url := base + "/api/private"
	bound := mint(k)
	res := dpopCall(t, url, []string{"DPoP " + bound}, k.Proof("GET", url, dpoptest.WithAccessToken(bound)))
	require.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, []string{`DPoP realm="api", error="use_dpop_nonce", error_description="proof has no nonce", ` + algs}, res.Header.Values("WWW-Authenticate"))
	nonces := res.Header.Values("DPoP-Nonce")
	require.Len(t, nonces, 1)

	res = dpopCall(t, url, []string{"DPoP " + bound}, k.Proof("GET", url, dpoptest.WithAccessToken(bound), dpoptest.WithNonce(nonces[0])))
	require.Equal(t, http.StatusOK, res.Status, res.Dump)
	assert.Len(t, res.Header.Values("DPoP-Nonce"), 1)
}

// TestDPoPStoreFailure: a replay store that cannot record the proof makes
// the request fail with 503, never pass.
func TestDPoPStoreFailure(t *testing.T) {
	k := dpoptest.GenerateKey("ES256")
	base, mint := serveDPoP(t, middleware.DPoPAllowed, dpop.Config{ReplayStore: dpop.NewMemoryStore(1)}, dpopWhoami)
	url := base + "/api/private"
	bound := mint(k)
	unavailable := 0
	for range 100 {
		res := dpopCall(t, url, []string{"DPoP " + bound}, k.Proof("GET", url, dpoptest.WithAccessToken(bound)))
		switch res.Status {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			unavailable++
			assert.Equal(t, "5", res.Header.Get("Retry-After"))
		default:
			t.Fatalf("status %d: %s", res.Status, res.Dump)
		}
	}
	assert.Positive(t, unavailable)
}

// TestDPoPGuards: guards after the middleware answer in the client's
// scheme.
func TestDPoPGuards(t *testing.T) {
	k := dpoptest.GenerateKey("ES256")
	base, mint := serveDPoP(t, middleware.DPoPAllowed, dpop.Config{}, scopes.RequireScope("write:contacts")(dpopWhoami))
	url := base + "/api/contacts"
	bound, unbound := mint(k), mint(nil)

	res := dpopCall(t, url, []string{"DPoP " + bound}, k.Proof("GET", url, dpoptest.WithAccessToken(bound)))
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.True(t, strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `DPoP realm="api", error="insufficient_scope"`), res.Header.Get("WWW-Authenticate"))
	assert.Contains(t, res.Header.Get("WWW-Authenticate"), algs)

	res = dpopCall(t, url, []string{"Bearer " + unbound})
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.True(t, strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `Bearer realm="api", error="insufficient_scope"`), res.Header.Get("WWW-Authenticate"))
}
