// Package webapp is a regular web application that signs users in with the
// OAuth 2.0 Authorization Code Flow (with PKCE and an OpenID Connect nonce)
// and calls a protected API with the access token, as in Auth0's "call your
// API using the Authorization Code Flow".
//
// It uses golang.org/x/oauth2 for the protocol and
// github.com/coreos/go-oidc/v3 to verify ID tokens. Tokens never reach the
// browser: they stay in a server-side session keyed by an HttpOnly cookie.
//
// When the API answers 401 error="insufficient_user_authentication" (step-up,
// RFC 9470), the application sends the user back to /authorize with the
// challenge's acr_values and max_age and, once signed in again, makes the
// call again (once: a second refusal is shown).
package webapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// DefaultScopes are requested when Config.Scopes is empty.
var DefaultScopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess, "read:contacts"}

// Endpoints lists the API paths the application can call, by short name.
var Endpoints = []string{"public", "private", "contacts", "claims", "mfa"}

// Config configures an App.
type Config struct {
	// Issuer is the authorization server's issuer URL, exactly as it
	// writes it in tokens: "https://tenant.us.auth0.com/" for Auth0 (with
	// the trailing slash), often without the slash elsewhere.
	Issuer string
	// ClientID and ClientSecret identify the application (Auth0:
	// Applications > Regular Web Application > Settings).
	ClientID     string
	ClientSecret string // keep it out of logs and commits
	// RedirectURL is the callback, such as "http://localhost:3000/callback";
	// it must be one of the Allowed Callback URLs.
	RedirectURL string
	// Audience is the API identifier the access token is for.
	Audience string
	// Scopes default to DefaultScopes.
	Scopes []string
	// APIBaseURL is where the protected API listens, such as
	// "http://127.0.0.1:8081".
	APIBaseURL string
	// HTTPClient is used for discovery, the token endpoint, the JWKS and the
	// API. It defaults to a client with a 10 second timeout.
	HTTPClient *http.Client
	// ExpiryLeeway is how long before its expiry an access token is
	// refreshed; it defaults to 10 seconds, as in x/oauth2.
	ExpiryLeeway time.Duration
	// OnToken, when set, is called with every token response the
	// application receives; reason is "code exchange", "refresh" or
	// "refresh (expired)". The demo uses it to print the flow. It must not
	// keep the token.
	OnToken func(reason string, t *oauth2.Token)
	// BearerOnly sends no DPoP proofs, so that the tokens stay bearer
	// tokens, for services that do not take DPoP yet. By default each
	// session has a DPoP key (dpop.go).
	BearerOnly bool
}

// App is the web application; it is an http.Handler.
type App struct {
	cfg      Config
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	base     *url.URL // scheme and host of RedirectURL
	mux      *http.ServeMux
	sessions *sessionStore
}

// New discovers the issuer's endpoints (OpenID discovery) and returns the
// application.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" || cfg.APIBaseURL == "" {
		return nil, errors.New("webapp: Issuer, ClientID, RedirectURL and APIBaseURL are required")
	}
	base, err := url.Parse(cfg.RedirectURL)
	if err != nil || !base.IsAbs() {
		return nil, fmt.Errorf("webapp: RedirectURL %q is not an absolute URL", cfg.RedirectURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.ExpiryLeeway <= 0 {
		cfg.ExpiryLeeway = 10 * time.Second
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	cfg.APIBaseURL = strings.TrimSuffix(cfg.APIBaseURL, "/")
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTPClient), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("webapp: OpenID discovery for %s: %w", cfg.Issuer, err)
	}
	ep := provider.Endpoint()
	// Say how to authenticate instead of letting x/oauth2 probe: one
	// request per exchange, and both Auth0 and devauth accept Basic.
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if !cfg.BearerOnly {
		cfg.HTTPClient = dpopClient(cfg.HTTPClient, ep.TokenURL)
	}
	a := &App{
		cfg: cfg,
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			Endpoint: ep, RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes,
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		base:     &url.URL{Scheme: base.Scheme, Host: base.Host},
		mux:      http.NewServeMux(),
		sessions: newSessionStore(base.Scheme == "https"),
	}
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /login", a.login)
	a.mux.HandleFunc("GET "+base.EscapedPath(), a.callback)
	a.mux.HandleFunc("GET /call/{name}", a.call)
	a.mux.HandleFunc("POST /refresh", a.refresh)
	a.mux.HandleFunc("POST /logout", a.logout)
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method == http.MethodPost && !a.sameOrigin(r) {
		// SameSite=Lax already keeps the session cookie off cross-site
		// POSTs; refusing them outright makes that explicit.
		a.render(w, http.StatusForbidden, "error", errorView{Error: "forbidden", Description: "cross-origin form post refused"})
		return
	}
	a.mux.ServeHTTP(w, a.withSession(r))
}

func (a *App) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o == "" || o == a.base.String()
}

// oauthContext makes x/oauth2 use the configured HTTP client.
func (a *App) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
}

// login starts a sign-in: a fresh state, PKCE verifier and nonce are kept in
// the browser's session and the browser goes to /authorize.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	a.startLogin(w, r, &pendingLogin{org: r.URL.Query().Get("organization")})
}

// startLogin sends the browser to /authorize for p, whose org, stepUp
// and returnTo the caller set.
func (a *App) startLogin(w http.ResponseWriter, r *http.Request, p *pendingLogin) {
	s := a.sessions.getOrCreate(w, r)
	p.state = oauth2.GenerateVerifier() // 256 random bits, URL-safe
	p.verifier = oauth2.GenerateVerifier()
	p.nonce = oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(p.verifier),
		oidc.Nonce(p.nonce),
	}
	opts = append(opts, p.stepUp.authParams()...)
	if a.cfg.Audience != "" {
		opts = append(opts, oauth2.SetAuthURLParam("audience", a.cfg.Audience))
	}
	if p.org != "" {
		opts = append(opts, oauth2.SetAuthURLParam("organization", p.org))
	}
	if inv := r.URL.Query().Get("invitation"); inv != "" {
		opts = append(opts, oauth2.SetAuthURLParam("invitation", inv))
	}
	if pr := r.URL.Query().Get("prompt"); pr != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", pr))
	}
	s.mu.Lock()
	s.pending = p
	s.mu.Unlock()
	http.Redirect(w, r, a.oauth.AuthCodeURL(p.state, opts...), http.StatusFound)
}

// callback finishes a sign-in: the state must be the one this browser's
// session holds (CSRF), the code is exchanged with the PKCE verifier and the
// ID token is verified, nonce included.
func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s := a.sessions.get(r)
	if s == nil {
		a.render(w, http.StatusBadRequest, "error", errorView{Error: "invalid_state", Description: "No sign-in is in progress in this browser."})
		return
	}
	s.mu.Lock()
	p := s.pending
	s.pending = nil // one try per sign-in
	s.mu.Unlock()
	if p == nil || !p.stateMatches(q.Get("state")) {
		a.render(w, http.StatusBadRequest, "error", errorView{Error: "invalid_state", Description: "The state parameter is missing or does not match this browser's sign-in."})
		return
	}
	if e := q.Get("error"); e != "" {
		a.render(w, http.StatusForbidden, "error", errorView{Error: e, Description: q.Get("error_description")})
		return
	}
	code := q.Get("code")
	if code == "" {
		a.render(w, http.StatusBadRequest, "error", errorView{Error: "invalid_request", Description: "The callback has no code."})
		return
	}
	ctx := a.oauthContext(r.Context())
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		a.render(w, http.StatusBadGateway, "error", oauthErrorView("code exchange failed", err))
		return
	}
	a.report("code exchange", tok)
	idt, prof, err := a.verifyIDToken(ctx, tok)
	if err != nil {
		a.render(w, http.StatusBadGateway, "error", errorView{Error: "invalid_id_token", Description: err.Error()})
		return
	}
	if idt.Nonce != p.nonce {
		a.render(w, http.StatusBadGateway, "error", errorView{Error: "invalid_id_token", Description: "The ID token's nonce does not match this sign-in."})
		return
	}
	if p.org != "" && prof.OrgID != p.org {
		// Auth0's advice: check org_id when an organization was asked for.
		a.render(w, http.StatusForbidden, "error", errorView{Error: "invalid_id_token", Description: "The ID token is not for the requested organization."})
		return
	}
	// A new session ID at sign-in prevents session fixation.
	a.sessions.signIn(w, s, prof, tok)
	http.Redirect(w, r, p.afterSignIn(), http.StatusSeeOther)
}

// verifyIDToken checks the id_token of a token response and returns its
// profile claims.
func (a *App) verifyIDToken(ctx context.Context, tok *oauth2.Token) (*oidc.IDToken, *Profile, error) {
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, nil, errors.New("the token response has no id_token")
	}
	idt, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	prof := &Profile{}
	if err := idt.Claims(prof); err != nil {
		return nil, nil, err
	}
	return idt, prof, nil
}

func (a *App) report(reason string, t *oauth2.Token) {
	if a.cfg.OnToken != nil {
		a.cfg.OnToken(reason, t)
	}
}

// call calls one API endpoint, with the session's access token when signed
// in, and shows the status and body.
func (a *App) call(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !isEndpoint(name) {
		a.render(w, http.StatusNotFound, "error", errorView{Error: "not_found", Description: "Unknown API endpoint."})
		return
	}
	s := a.sessions.get(r)
	var token string
	if s != nil {
		var err error
		token, err = a.accessToken(r.Context(), s)
		if err != nil {
			a.sessions.signOut(w, s)
			a.render(w, http.StatusUnauthorized, "error", oauthErrorView("refreshing the access token failed; sign in again", err))
			return
		}
	}
	v := a.callAPI(r.Context(), "/api/"+name, token)
	if su, ok := stepUpChallenge(v); ok && !r.URL.Query().Has(steppedUp) {
		// The API wants a stronger or fresher sign-in (RFC 9470): sign in
		// again with its acr_values and max_age, then call again. Once
		// only: if the new token fails too, the answer is shown.
		a.startLogin(w, r, &pendingLogin{stepUp: su, returnTo: "/call/" + name + "?" + steppedUp})
		return
	}
	a.render(w, http.StatusOK, "call", v)
}

// accessToken returns a valid access token, refreshing it through
// oauth2.TokenSource when it expires within ExpiryLeeway. The new tokens
// (with the rotated refresh token) replace the old ones in the session.
func (a *App) accessToken(ctx context.Context, s *session) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock() // one refresh at a time: rotation makes the old token unusable
	if s.token == nil {
		return "", nil
	}
	if s.token.Expiry.IsZero() || time.Until(s.token.Expiry) > a.cfg.ExpiryLeeway {
		return s.token.AccessToken, nil
	}
	if s.token.RefreshToken == "" {
		return "", errors.New("the access token expired and there is no refresh token")
	}
	// The copy's past expiry makes the TokenSource refresh now, whatever
	// its own leeway.
	old := *s.token
	old.Expiry = time.Unix(1, 0)
	ctx = a.oauthContext(ctx)
	tok, err := a.oauth.TokenSource(ctx, &old).Token()
	if err != nil {
		return "", err
	}
	a.report("refresh (expired)", tok)
	if err := a.updateLocked(ctx, s, tok); err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// updateLocked stores a refreshed token, verifying a new ID token if one
// came. s.mu must be held.
func (a *App) updateLocked(ctx context.Context, s *session, tok *oauth2.Token) error {
	if _, ok := tok.Extra("id_token").(string); ok {
		_, prof, err := a.verifyIDToken(ctx, tok)
		if err != nil {
			return err
		}
		s.profile = prof
	}
	s.token = tok
	return nil
}

// APIResult is the outcome of one API call.
type APIResult struct {
	Path            string // such as /api/contacts
	Status          int    // 0 when the request failed
	Body            string // JSON indented for display
	WWWAuthenticate string // the challenge of a rejection
	SentToken       bool   // whether an access token was sent
}

func (a *App) callAPI(ctx context.Context, path, token string) APIResult {
	res := APIResult{Path: path, SentToken: token != ""}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.APIBaseURL+path, nil)
	if err != nil {
		res.Body = err.Error()
		return res
	}
	if token != "" {
		req.Header.Set("Authorization", authScheme(ctx)+" "+token)
	}
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		res.Body = "request failed: " + err.Error()
		return res
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res.Status = resp.StatusCode
	res.Body = prettyJSON(body)
	res.WWWAuthenticate = resp.Header.Get("WWW-Authenticate")
	return res
}

// refresh refreshes the tokens on request. With a scope form value it asks
// for that narrower scope; x/oauth2 cannot send scope on a refresh, so that
// request is made by hand.
func (a *App) refresh(w http.ResponseWriter, r *http.Request) {
	s := a.sessions.get(r)
	if s == nil || !s.signedIn() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	scope := ""
	if err := r.ParseForm(); err == nil {
		scope = strings.Join(strings.Fields(r.PostForm.Get("scope")), " ")
	}
	ctx := a.oauthContext(r.Context())
	s.mu.Lock()
	var tok *oauth2.Token
	var err error
	if scope == "" {
		old := *s.token
		old.Expiry = time.Unix(1, 0)
		tok, err = a.oauth.TokenSource(ctx, &old).Token()
	} else {
		tok, err = a.refreshWithScope(ctx, s.token.RefreshToken, scope)
	}
	if err == nil {
		a.report("refresh", tok)
		err = a.updateLocked(ctx, s, tok)
	}
	s.mu.Unlock()
	if err != nil {
		a.render(w, http.StatusBadGateway, "error", oauthErrorView("refresh failed", err))
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the local session and then the authorization server's
// (Auth0's /v2/logout), which sends the browser back here.
func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	if s := a.sessions.get(r); s != nil {
		a.sessions.signOut(w, s)
	}
	q := url.Values{"client_id": {a.cfg.ClientID}, "returnTo": {a.base.String() + "/"}}
	http.Redirect(w, r, a.cfg.Issuer+"v2/logout?"+q.Encode(), http.StatusSeeOther)
}

func isEndpoint(name string) bool {
	for _, e := range Endpoints {
		if e == name {
			return true
		}
	}
	return false
}
