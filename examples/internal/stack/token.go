package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/apiguard/apiguard/examples/internal/browser"
)

// AccessToken signs user in at devauth as the web app would, with a
// scripted browser that stops at the callback, exchanges the code and
// returns a fresh access token for the API with scope. It needs devauth:
// a script cannot log in to a real tenant.
func (st *Stack) AccessToken(ctx context.Context, user DemoUser, scope string) (string, error) {
	return st.accessToken(ctx, user, scope, nil)
}

// DPoPAccessToken is AccessToken with a DPoP proof at the token endpoint,
// made by proof for the method and URL it is given: devauth then binds the
// access token to the proof's key (cnf.jkt, token_type DPoP).
func (st *Stack) DPoPAccessToken(ctx context.Context, user DemoUser, scope string, proof func(method, url string) string) (string, error) {
	return st.accessToken(ctx, user, scope, proof)
}

func (st *Stack) accessToken(ctx context.Context, user DemoUser, scope string, proof func(method, url string) string) (string, error) {
	if st.AuthServer == nil {
		return "", errors.New("an access token can be minted only with the demo's own authorization server, not with Auth0")
	}
	callback := st.WebAppURL + "/callback"
	b := browser.New()
	b.StopAt = func(u *url.URL) bool { return strings.HasPrefix(u.String(), callback) }
	q := url.Values{
		"response_type": {"code"}, "client_id": {st.ClientID}, "redirect_uri": {callback},
		"scope": {scope}, "audience": {st.Audience}, "state": {"token"},
	}
	p, err := b.Get(ctx, st.Issuer+"authorize?"+q.Encode())
	if err != nil {
		return "", err
	}
	if p.Has("login-form") {
		if p, err = b.Submit(ctx, p, "login-form", map[string]string{"username": user.Username, "password": user.Password}, "login"); err != nil {
			return "", err
		}
	}
	if p.Has("consent-form") {
		if p, err = b.Submit(ctx, p, "consent-form", nil, "consent-accept"); err != nil {
			return "", err
		}
	}
	loc, err := url.Parse(p.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("sign-in as %s did not come back with a code (status %d)", user.Username, p.Status)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.Issuer+"oauth/token", strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {callback},
	}.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(st.ClientID), url.QueryEscape(st.ClientSecret))
	if proof != nil {
		req.Header.Set("DPoP", proof(http.MethodPost, st.Issuer+"oauth/token"))
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("code exchange: status %d %s", resp.StatusCode, tok.Error)
	}
	return tok.AccessToken, nil
}
