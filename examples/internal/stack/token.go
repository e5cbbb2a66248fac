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
