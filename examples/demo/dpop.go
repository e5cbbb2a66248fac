package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/examples/internal/jwtutil"
)

// dpopWalk shows DPoP (RFC 9449) from a client's side: the demo gets its
// own DPoP-bound token (sign-in already done, so the authorization server
// answers at once), calls the API with it and a proof, then replays the
// same proof, which the API refuses, and sends the token as Bearer, which
// the API refuses too: a stolen token is useless without the key.
func (w *walk) dpopWalk(ctx context.Context) {
	w.step("DPoP: a token bound to the client's key, and a replayed proof refused (RFC 9449)")
	key := dpoptest.GenerateKey("ES256") // the client's key pair; a real client keeps it private
	w.p.printf("    client key thumbprint (jkt)  %s\n", key.Thumbprint())

	callback := w.st.WebAppURL + "/callback"
	verifier := oauth2.GenerateVerifier()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {w.st.ClientID}, "redirect_uri": {callback},
		"scope": {"openid read:contacts"}, "audience": {w.st.Audience}, "state": {"dpop-demo"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"dpop_jkt": {key.Thumbprint()}, // binds the code to the key (section 10)
	}
	w.b.StopAt = func(u *url.URL) bool { return strings.HasPrefix(u.String(), callback) }
	page, err := w.b.Get(ctx, w.st.Issuer+"authorize?"+q.Encode())
	w.b.StopAt = nil
	var code string
	if err == nil {
		if loc, perr := url.Parse(page.Header.Get("Location")); perr == nil {
			code = loc.Query().Get("code")
		}
	}
	if !w.check(code != "", "/authorize with dpop_jkt answered with a code at once (the browser is signed in)") {
		return
	}

	tokenURL := w.st.Issuer + "oauth/token"
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier},
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(w.st.ClientID), url.QueryEscape(w.st.ClientSecret))
	req.Header.Set("DPoP", key.Proof(http.MethodPost, tokenURL))
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	status, body := w.send(req)
	_ = json.Unmarshal([]byte(body), &tok)
	if !w.check(status == http.StatusOK && tok.TokenType == "DPoP", "POST /oauth/token with a DPoP proof -> %d, token_type %s", status, tok.TokenType) {
		return
	}
	if c, err := jwtutil.Claims(tok.AccessToken); err == nil {
		cnf, _ := json.Marshal(c["cnf"])
		w.check(strings.Contains(string(cnf), key.Thumbprint()), "the access token carries cnf %s", cnf)
	}

	apiURL := w.st.APIURL + "/api/claims"
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, apiURL, nil)
	key.Authorize(req, tok.AccessToken) // Authorization: DPoP <token>, DPoP: <proof with ath>
	proof := req.Header.Get("DPoP")
	w.p.printf("    Authorization: DPoP %s\n    DPoP: %s\n", jwtutil.Short(tok.AccessToken), jwtutil.Short(proof))
	status, body = w.send(req)
	var claims struct {
		JKT string `json:"cnf_jkt"`
	}
	_ = json.Unmarshal([]byte(body), &claims)
	w.check(status == http.StatusOK && claims.JKT == key.Thumbprint(), "GET /api/claims with DPoP -> %d, cnf_jkt %s", status, claims.JKT)

	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, apiURL, nil)
	req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
	req.Header.Set("DPoP", proof)
	status, www := w.sendForChallenge(req)
	w.check(status == http.StatusUnauthorized && strings.Contains(www, `error="invalid_dpop_proof"`),
		"the same proof again (a replay) -> %d  WWW-Authenticate: %s", status, www)

	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, apiURL, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	status, www = w.sendForChallenge(req)
	w.check(status == http.StatusUnauthorized && strings.Contains(www, `error="invalid_token"`),
		"the token as Bearer, without the key (a stolen token) -> %d  WWW-Authenticate: %s", status, www)
}

// send sends req and returns the status and body.
func (w *walk) send(req *http.Request) (int, string) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(b)
}

// sendForChallenge sends req and returns the status and WWW-Authenticate.
func (w *walk) sendForChallenge(req *http.Request) (int, string) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}
