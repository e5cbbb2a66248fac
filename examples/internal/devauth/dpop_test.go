package devauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/examples/internal/browser"
)

// postDPoP sends a form to the token endpoint with a DPoP proof of k for
// it (none when k is nil), changed by opts.
func (e *env) postDPoP(form url.Values, k *dpoptest.Key, opts ...dpoptest.Option) (int, map[string]any) {
	e.t.Helper()
	endpoint := e.issuer + "oauth/token"
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if k != nil {
		req.Header.Set("DPoP", k.Proof(http.MethodPost, endpoint, opts...))
	}
	return e.do(req)
}

func (e *env) codeForm(code string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.callback},
		"code_verifier": {verifier}, "client_id": {clientID}, "client_secret": {clientSecret},
	}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}, "client_secret": {clientSecret}}
}

// TestDPoPBoundTokens (RFC 9449 sections 5 and 6): a token request with a
// valid proof gets token_type DPoP and an access token with cnf.jkt, the
// thumbprint of the proof's key; its refresh token is bound to that key:
// a refresh without a proof, or with another key's, is refused, and with
// the key it gives a bound token again. Without a proof, nothing changes.
func TestDPoPBoundTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	k, other := dpoptest.GenerateKey("ES256"), dpoptest.GenerateKey("EdDSA")

	q := e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	status, tok := e.postDPoP(e.codeForm(q.Get("code")), k)
	require.Equal(t, 200, status, tok)
	assert.Equal(t, "DPoP", tok["token_type"])
	_, claims := e.verifyJWT(tok["access_token"].(string))
	assert.Equal(t, map[string]any{"jkt": k.Thumbprint()}, claims["cnf"])
	rt := tok["refresh_token"].(string)
	require.NotEmpty(t, rt)

	status, res := e.postDPoP(refreshForm(rt), nil)
	assert.Equal(t, 400, status)
	assert.Equal(t, "invalid_dpop_proof", res["error"])
	status, res = e.postDPoP(refreshForm(rt), other)
	assert.Equal(t, 400, status)
	assert.Equal(t, "invalid_dpop_proof", res["error"])
	status, tok = e.postDPoP(refreshForm(rt), k)
	require.Equal(t, 200, status, tok)
	assert.Equal(t, "DPoP", tok["token_type"])
	_, claims = e.verifyJWT(tok["access_token"].(string))
	assert.Equal(t, map[string]any{"jkt": k.Thumbprint()}, claims["cnf"])

	// No proof: a Bearer token without cnf, as before.
	q = e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	status, tok = e.postDPoP(e.codeForm(q.Get("code")), nil)
	require.Equal(t, 200, status, tok)
	assert.Equal(t, "Bearer", tok["token_type"])
	_, claims = e.verifyJWT(tok["access_token"].(string))
	assert.NotContains(t, claims, "cnf")
}

// TestDPoPTokenRequestProofChecked: a proof that package dpop refuses
// (wrong URL, wrong method, replayed, private key in jwk) is 400
// invalid_dpop_proof, and the code is not used up by it.
func TestDPoPTokenRequestProofChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	k := dpoptest.GenerateKey("ES256")
	q := e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	form := e.codeForm(q.Get("code"))
	replayed := k.Proof(http.MethodPost, e.issuer+"oauth/token")

	for name, opts := range map[string][]dpoptest.Option{
		"wrong URL":    {dpoptest.WithClaim("htu", e.issuer+"authorize")},
		"wrong method": {dpoptest.WithClaim("htm", "GET")},
		"private jwk":  {dpoptest.WithPrivateJWK()},
		"typ JWT":      {dpoptest.WithHeader("typ", "JWT")},
	} {
		status, res := e.postDPoP(form, k, opts...)
		assert.Equal(t, 400, status, name)
		assert.Equal(t, "invalid_dpop_proof", res["error"], name)
	}
	send := func() (int, map[string]any) {
		req, err := http.NewRequest(http.MethodPost, e.issuer+"oauth/token", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", replayed)
		return e.do(req)
	}
	status, tok := send()
	require.Equal(t, 200, status, tok)
	assert.Equal(t, "DPoP", tok["token_type"])
	status, res := send()
	assert.Equal(t, 400, status)
	assert.Equal(t, "invalid_dpop_proof", res["error"])
}

// TestDPoPJKTOnAuthorize (RFC 9449 section 10): dpop_jkt binds the code
// to a key; the token request must prove that key. A malformed dpop_jkt
// is invalid_request.
func TestDPoPJKTOnAuthorize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	k, other := dpoptest.GenerateKey("ES256"), dpoptest.GenerateKey("ES256")
	params := e.authParams()
	params.Set("dpop_jkt", k.Thumbprint())

	q := e.login(browser.New(), params, "alice", "pw-alice")
	form := e.codeForm(q.Get("code"))
	status, res := e.postDPoP(form, nil)
	assert.Equal(t, 400, status)
	assert.Equal(t, "invalid_dpop_proof", res["error"])
	status, res = e.postDPoP(form, other)
	assert.Equal(t, 400, status)
	assert.Equal(t, "invalid_dpop_proof", res["error"])
	status, tok := e.postDPoP(form, k)
	require.Equal(t, 200, status, tok)
	assert.Equal(t, "DPoP", tok["token_type"])

	params.Set("dpop_jkt", "not-a-thumbprint")
	b := browser.New()
	b.StopAt = func(u *url.URL) bool { return strings.HasPrefix(u.String(), e.callback) }
	p, err := b.Get(t.Context(), e.issuer+"authorize?"+params.Encode())
	require.NoError(t, err)
	loc, err := url.Parse(p.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "invalid_request", loc.Query().Get("error"))
	assert.Contains(t, loc.Query().Get("error_description"), "dpop_jkt")
}
