package webapp

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

var nonceKey = []byte("0123456789abcdef0123456789abcdef")

// thumbprint is the RFC 7638 thumbprint of the session key's jwk.
func thumbprint(k *dpopKey) string {
	k.init()
	b, _ := json.Marshal(map[string]string{"crv": k.jwk["crv"], "kty": k.jwk["kty"], "x": k.jwk["x"], "y": k.jwk["y"]})
	sum := sha256.Sum256(b)
	return b64(sum[:])
}

// TestDPoPTransportAPINonce: the transport signs API calls with the
// session's key; an API that requires server nonces (apiguard's middleware
// with nonces) gets the proof again with its nonce, once, and the next
// call carries the nonce from the start.
func TestDPoPTransportAPINonce(t *testing.T) {
	iss := validatortest.NewIssuer()
	t.Cleanup(iss.Close)
	v, err := validator.New(t.Context(), iss.Config())
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	dv, err := dpop.NewVerifier(dpop.Config{NonceKeys: [][]byte{nonceKey}})
	require.NoError(t, err)
	var hits atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		middleware.New(v, middleware.WithDPoP(dv, middleware.DPoPRequired))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			jkt, _ := middleware.DPoPThumbprint(r.Context())
			io.WriteString(w, jkt)
		})).ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)

	s := &session{}
	token := iss.Mint(validatortest.WithClaim("cnf", map[string]any{"jkt": thumbprint(&s.dpop)}))
	client := dpopClient(&http.Client{}, "http://127.0.0.1:1/oauth/token")
	ctx := context.WithValue(t.Context(), sessionCtxKey{}, s)
	call := func() (int, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.URL+"/api/private?x=1", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "DPoP "+token)
		res, err := client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body := call()
	assert.Equal(t, 200, status, body)
	assert.Equal(t, thumbprint(&s.dpop), body)
	assert.Equal(t, int64(2), hits.Load(), "refused once for the nonce, then accepted")
	status, _ = call()
	assert.Equal(t, 200, status)
	assert.Equal(t, int64(3), hits.Load(), "the nonce is remembered")
}

// TestDPoPTransportTokenEndpointNonce: a token endpoint that wants a
// nonce answers 400 use_dpop_nonce with one; the transport sends the
// request again, body included, with a proof carrying it.
func TestDPoPTransportTokenEndpointNonce(t *testing.T) {
	dv, err := dpop.NewVerifier(dpop.Config{NonceKeys: [][]byte{nonceKey}})
	require.NoError(t, err)
	var tokenURL string
	var forms []string
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil { // not require: this is the server's goroutine
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		forms = append(forms, r.PostForm.Encode())
		_, err := dv.Check(r.Context(), dpop.Request{Proofs: r.Header.Values("DPoP"), Method: r.Method, URL: tokenURL})
		w.Header().Set("Content-Type", "application/json")
		if errors.Is(err, dpop.ErrUseNonce) {
			w.Header().Set("DPoP-Nonce", dv.Nonce())
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"use_dpop_nonce"}`)
			return
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_dpop_proof"}`)
			return
		}
		io.WriteString(w, `{"access_token":"x","token_type":"DPoP"}`)
	}))
	t.Cleanup(as.Close)
	tokenURL = as.URL + "/oauth/token"

	s := &session{}
	client := dpopClient(&http.Client{}, tokenURL)
	ctx := context.WithValue(t.Context(), sessionCtxKey{}, s)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := client.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode, string(b))
	assert.Equal(t, []string{form.Encode(), form.Encode()}, forms, "sent twice, the body both times")
}
