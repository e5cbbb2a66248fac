package webapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/apiguard/apiguard/examples/internal/jwtutil"
)

// refreshWithScope asks the token endpoint for tokens with a narrower
// scope, authenticating like x/oauth2 does (HTTP Basic, form-encoded
// credentials).
func (a *App) refreshWithScope(ctx context.Context, refreshToken, scope string) (*oauth2.Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "scope": {scope}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.oauth.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(a.cfg.ClientID), url.QueryEscape(a.cfg.ClientSecret))
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var tr struct {
		AccessToken      string `json:"access_token"`
		TokenType        string `json:"token_type"`
		RefreshToken     string `json:"refresh_token"`
		ExpiresIn        int64  `json:"expires_in"`
		IDToken          string `json:"id_token"`
		Scope            string `json:"scope"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("token endpoint answered %s with a body that is not JSON", resp.Status)
	}
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		return nil, &oauth2.RetrieveError{Response: resp, Body: body, ErrorCode: tr.Error, ErrorDescription: tr.ErrorDescription}
	}
	t := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: tr.TokenType, RefreshToken: tr.RefreshToken, ExpiresIn: tr.ExpiresIn}
	if tr.ExpiresIn > 0 {
		t.Expiry = time.Now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	extra := map[string]any{"scope": tr.Scope}
	if tr.IDToken != "" {
		extra["id_token"] = tr.IDToken
	}
	return t.WithExtra(extra), nil
}

// prettyJSON indents a JSON body for display and returns anything else as
// it is.
func prettyJSON(body []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, body, "", "  ") != nil {
		return string(body)
	}
	return buf.String()
}

// homeView is the data of the home page.
type homeView struct {
	SignedIn     bool
	Profile      *Profile
	Scope        string
	Expiry       string
	AccessToken  string // shortened
	RefreshToken string // shortened
	IDToken      string // shortened
	Claims       string // decoded access token payload
	Endpoints    []string
	NarrowScope  string
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	v := homeView{Endpoints: Endpoints}
	if s := a.sessions.get(r); s != nil {
		s.mu.Lock()
		if s.token != nil {
			v.SignedIn = true
			v.Profile = s.profile
			v.Scope, _ = s.token.Extra("scope").(string)
			v.Expiry = s.token.Expiry.Format(time.RFC3339)
			v.AccessToken = jwtutil.Short(s.token.AccessToken)
			v.RefreshToken = jwtutil.Short(s.token.RefreshToken)
			id, _ := s.token.Extra("id_token").(string)
			v.IDToken = jwtutil.Short(id)
			v.Claims = jwtutil.Pretty(s.token.AccessToken)
			v.NarrowScope = withoutScope(v.Scope, "read:contacts")
		}
		s.mu.Unlock()
	}
	a.render(w, http.StatusOK, "home", v)
}

// withoutScope removes one scope from a space-delimited list.
func withoutScope(scope, drop string) string {
	var out []string
	for _, s := range strings.Fields(scope) {
		if s != drop {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// errorView is the data of the error page.
type errorView struct {
	Error       string
	Description string
}

// oauthErrorView describes a failed token request, showing the server's
// error code when there is one.
func oauthErrorView(what string, err error) errorView {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return errorView{Error: re.ErrorCode, Description: what + ": " + re.ErrorDescription}
	}
	return errorView{Error: "server_error", Description: what + ": " + err.Error()}
}

func (a *App) render(w http.ResponseWriter, status int, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, data)
}

var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}} · apiguard example web app</title>
<style>
body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}
pre{background:#f4f4f4;padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere}td,th{text-align:left;padding:.2rem .6rem}
form{display:inline}button{margin:.3rem .3rem .3rem 0}.error{color:#b00020}
</style></head><body>
<nav><a id="home" href="/">Home</a></nav>
{{end}}
{{define "home"}}{{template "head" "Home"}}
<h1>apiguard example web app</h1>
{{if .SignedIn}}
<p id="welcome">Signed in as <strong id="user-name">{{.Profile.Name}}</strong>
(<span id="user-sub">{{.Profile.Subject}}</span>{{if .Profile.OrgID}}, organization <span id="user-org">{{.Profile.OrgID}}</span>{{end}})</p>
<h2>Call the API</h2>
<ul id="calls">{{range .Endpoints}}<li><a id="call-{{.}}" href="/call/{{.}}">GET /api/{{.}}</a></li>{{end}}</ul>
<h2>Tokens (kept on the server)</h2>
<table>
<tr><th>scope</th><td id="token-scope">{{.Scope}}</td></tr>
<tr><th>expires</th><td id="token-expiry">{{.Expiry}}</td></tr>
<tr><th>access token</th><td id="access-token">{{.AccessToken}}</td></tr>
<tr><th>refresh token</th><td id="refresh-token">{{.RefreshToken}}</td></tr>
<tr><th>ID token</th><td id="id-token">{{.IDToken}}</td></tr>
</table>
<p>Access token claims (decoded, not verified here):</p>
<pre id="access-claims">{{.Claims}}</pre>
<form id="refresh-form" method="post" action="/refresh"><button id="refresh" type="submit">Refresh tokens</button></form>
<form id="refresh-narrow-form" method="post" action="/refresh"><input type="hidden" name="scope" value="{{.NarrowScope}}">
<button id="refresh-narrow" type="submit">Refresh without read:contacts</button></form>
<form id="logout-form" method="post" action="/logout"><button id="logout" type="submit">Log out</button></form>
{{else}}
<p>You are not signed in.</p>
<p><a id="signin" href="/login">Sign in</a></p>
<form id="signin-org-form" method="get" action="/login">
<label>Organization <input id="organization" name="organization" placeholder="org_acme"></label>
<button id="signin-org" type="submit">Sign in to organization</button></form>
<p>Without signing in: {{range .Endpoints}}<a id="call-{{.}}" href="/call/{{.}}">/api/{{.}}</a> {{end}}</p>
{{end}}
</body></html>
{{end}}
{{define "call"}}{{template "head" .Path}}
<h1>GET <span id="api-path">{{.Path}}</span></h1>
<p>{{if .SentToken}}Sent with the access token.{{else}}Sent without a token.{{end}}</p>
<p>Status: <strong id="api-status">{{.Status}}</strong></p>
{{if .WWWAuthenticate}}<p>WWW-Authenticate: <code id="api-www-authenticate">{{.WWWAuthenticate}}</code></p>{{end}}
<pre id="api-result">{{.Body}}</pre>
</body></html>
{{end}}
{{define "error"}}{{template "head" "Error"}}
<h1>Something went wrong</h1>
<p class="error">Error: <strong id="error">{{.Error}}</strong></p>
<p id="error-description">{{.Description}}</p>
<p><a id="signin" href="/login">Sign in again</a></p>
</body></html>
{{end}}
`))
