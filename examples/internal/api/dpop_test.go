package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/validator/validatortest"

	"github.com/apiguard/apiguard/examples/internal/api"
)

const dpopChallenge = `DPoP realm="api", algs="ES256 ES384 ES512 PS256 RS256 EdDSA"`

// dpopDo sends GET path with Authorization: DPoP token and a proof of k
// (or the given proof) and decodes the answer.
func (c *contract) dpopDo(t *testing.T, path, token string, k *dpoptest.Key, proof string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, c.srv.URL+path, nil)
	require.NoError(t, err)
	if proof == "" {
		k.Authorize(req, token)
	} else {
		req.Header.Set("Authorization", "DPoP "+token)
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

// TestDPoPContract pins issue 12 item 9: by default every protected
// route takes DPoP-bound tokens with a proof, /api/claims adds cnf_jkt,
// a proof is accepted once, and a bound token is never a Bearer token.
func TestDPoPContract(t *testing.T) {
	c := newContract(t, api.DPoP{})
	k := dpoptest.GenerateKey("ES256")
	bound := c.iss.Mint(validatortest.WithScope("read:contacts"), k.Bind())
	for _, path := range []string{"/api/private", "/api/contacts", "/api/claims"} {
		resp, body := c.dpopDo(t, path, bound, k, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %v", path, body)
		if path == "/api/claims" {
			assert.Equal(t, k.Thumbprint(), body["cnf_jkt"])
		}
	}
	_, body := c.do(t, http.MethodGet, "/api/claims", c.iss.Mint(), "")
	assert.NotContains(t, body, "cnf_jkt", "absent for Bearer tokens")

	resp, _ := c.do(t, http.MethodGet, "/api/private", bound, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a bound token sent as Bearer")
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	url := c.srv.URL + "/api/private"
	proof := k.Proof("GET", url, dpoptest.WithAccessToken(bound))
	resp, _ = c.dpopDo(t, "/api/private", bound, k, proof)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body = c.dpopDo(t, "/api/private", bound, k, proof)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "invalid_dpop_proof", body["error"])
	assert.Equal(t, "proof jti already used", body["error_description"])

	resp, _ = c.do(t, http.MethodGet, "/api/private", "", "")
	assert.Equal(t, []string{`Bearer realm="api", resource_metadata="` + c.srv.URL + `/.well-known/oauth-protected-resource"`,
		dpopChallenge + `, resource_metadata="` + c.srv.URL + `/.well-known/oauth-protected-resource"`}, resp.Header.Values("WWW-Authenticate"))
}

func TestDPoPContractModes(t *testing.T) {
	k := dpoptest.GenerateKey("EdDSA")
	t.Run("required", func(t *testing.T) {
		c := newContract(t, api.DPoP{Mode: api.DPoPRequired})
		resp, _ := c.do(t, http.MethodGet, "/api/private", c.iss.Mint(), "")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), dpopChallenge)
		resp, _ = c.dpopDo(t, "/api/private", c.iss.Mint(k.Bind()), k, "")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("off", func(t *testing.T) {
		c := newContract(t, api.DPoP{Mode: api.DPoPOff})
		resp, _ := c.dpopDo(t, "/api/private", c.iss.Mint(k.Bind()), k, "")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.NotContains(t, resp.Header.Get("WWW-Authenticate"), "DPoP")
		resp, _ = c.do(t, http.MethodGet, "/api/private", c.iss.Mint(), "")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("nonce", func(t *testing.T) {
		c := newContract(t, api.DPoP{Nonce: true})
		token := c.iss.Mint(k.Bind())
		resp, body := c.dpopDo(t, "/api/private", token, k, "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, "use_dpop_nonce", body["error"])
		nonce := resp.Header.Get("DPoP-Nonce")
		require.NotEmpty(t, nonce)
		resp, _ = c.dpopDo(t, "/api/private", token, k, k.Proof("GET", c.srv.URL+"/api/private", dpoptest.WithAccessToken(token), dpoptest.WithNonce(nonce)))
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}
