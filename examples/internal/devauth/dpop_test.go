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

// postDPoP sends a form to the token endpoint with a DPoP proof (none
// when proof is "").
func (e *env) postDPoP(form url.Values, proof string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return e.do(req)
}

// TestDPoPTokens: a token request with a valid DPoP proof gets a
// DPoP-bound access token (token_type DPoP, cnf.jkt) and refresh tokens
// bound to the same key; dpop_jkt on /authorize binds the code; bad proofs
// are invalid_dpop_proof.
func TestDPoPTokens(t *testing.T) {
	e := newEnv(t, nil)
	k := dpoptest.GenerateKey("ES256")
	other := dpoptest.GenerateKey("EdDSA")
	tokenURL := e.issuer + "oauth/token"
	codeForm := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.callback}, "code_verifier": {verifier}}
	}

	q := e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	status, tok := e.postDPoP(codeForm(q.Get("code")), k.Proof("POST", tokenURL))
	require.Equal(t, http.StatusOK, status, tok)
	assert.Equal(t, "DPoP", tok["token_type"])
	_, at := e.verifyJWT(tok["access_token"].(string))
	assert.Equal(t, map[string]any{"jkt": k.Thumbprint()}, at["cnf"])

	// The refresh token is bound to k: a proof of k refreshes, another key
	// or no proof does not.
	rt := tok["refresh_token"].(string)
	refresh := func(rt, proof string) (int, map[string]any) {
		return e.postDPoP(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, proof)
	}
	status, body := refresh(rt, other.Proof("POST", tokenURL))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_dpop_proof", body["error"])
	status, body = refresh(rt, "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_dpop_proof", body["error"])
	status, tok2 := refresh(rt, k.Proof("POST", tokenURL))
	require.Equal(t, http.StatusOK, status, tok2)
	assert.Equal(t, "DPoP", tok2["token_type"])
	_, at2 := e.verifyJWT(tok2["access_token"].(string))
	assert.Equal(t, map[string]any{"jkt": k.Thumbprint()}, at2["cnf"])

	// Proofs are checked: wrong htu, replay, private key.
	used := k.Proof("POST", tokenURL)
	for name, proof := range map[string]string{
		"wrong htu":   k.Proof("POST", e.issuer+"authorize"),
		"private jwk": k.Proof("POST", tokenURL, dpoptest.WithPrivateJWK()),
	} {
		q := e.login(browser.New(), e.authParams(), "alice", "pw-alice")
		status, body := e.postDPoP(codeForm(q.Get("code")), proof)
		assert.Equal(t, http.StatusBadRequest, status, name)
		assert.Equal(t, "invalid_dpop_proof", body["error"], name)
	}
	q = e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	status, _ = e.postDPoP(codeForm(q.Get("code")), used)
	require.Equal(t, http.StatusOK, status)
	q = e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	status, body = e.postDPoP(codeForm(q.Get("code")), used)
	assert.Equal(t, http.StatusBadRequest, status, "replayed proof")
	assert.Equal(t, "invalid_dpop_proof", body["error"])

	// dpop_jkt binds the code to a key.
	params := e.authParams()
	params.Set("dpop_jkt", k.Thumbprint())
	q = e.login(browser.New(), params, "alice", "pw-alice")
	status, body = e.postDPoP(codeForm(q.Get("code")), other.Proof("POST", tokenURL))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_dpop_proof", body["error"])
	status, tok3 := e.postDPoP(codeForm(q.Get("code")), k.Proof("POST", tokenURL))
	require.Equal(t, http.StatusOK, status, tok3)

	// Without a proof, tokens are Bearer tokens as before.
	q = e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	status, tok4 := e.postDPoP(codeForm(q.Get("code")), "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Bearer", tok4["token_type"])
	_, at4 := e.verifyJWT(tok4["access_token"].(string))
	assert.NotContains(t, at4, "cnf")
}
