package main

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/examples/internal/jwtutil"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

// dpopWalk gets a DPoP-bound token (RFC 9449) for a key the demo holds,
// calls the API with it and a proof, replays the proof, and sends the
// bound token as a plain Bearer token: only the first call passes.
func (w *walk) dpopWalk(ctx context.Context) {
	w.step("DPoP: a token bound to the client's key, and a proof per request (RFC 9449)")
	if w.st.AuthServer == nil {
		w.p.printf("    (skipped: the demo's own authorization server issues the bound token)\n")
		return
	}
	key := dpoptest.GenerateKey("ES256") // the client's key pair; the demo plays the client
	token, err := w.st.DPoPAccessToken(ctx, stack.Alice, "openid read:contacts", func(method, url string) string {
		return key.Proof(method, url)
	})
	if !w.check(err == nil, "token request with a DPoP proof: a token bound to key %s", key.Thumbprint()) {
		w.p.printf("    %v\n", err)
		return
	}
	w.p.printf("    access token claims (decoded):\n%s\n", indent(jwtutil.Pretty(token), "      "))

	url := w.st.APIURL + "/api/claims"
	proof := key.Proof(http.MethodGet, url, dpoptest.WithAccessToken(token))
	status, body, _ := w.send(ctx, url, "DPoP "+token, proof)
	w.check(status == http.StatusOK && strings.Contains(body, key.Thumbprint()),
		"GET /api/claims with Authorization: DPoP and a proof -> %d (want 200; cnf_jkt is the key's thumbprint)", status)
	status, _, challenge := w.send(ctx, url, "DPoP "+token, proof)
	w.check(status == http.StatusUnauthorized && strings.Contains(challenge, "invalid_dpop_proof"),
		"the same proof again -> %d (want 401)  WWW-Authenticate: %s", status, challenge)
	status, _, challenge = w.send(ctx, url, "Bearer "+token, "")
	w.check(status == http.StatusUnauthorized && strings.Contains(challenge, "invalid_token"),
		"the bound token as a Bearer token -> %d (want 401)  WWW-Authenticate: %s", status, challenge)
}

// send calls url with an Authorization header and, unless empty, a DPoP
// proof, and returns the status, body and challenge.
func (w *walk) send(ctx context.Context, url, auth, proof string) (int, string, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err.Error(), ""
	}
	req.Header.Set("Authorization", auth)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error(), ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")
}
