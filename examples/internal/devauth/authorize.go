package devauth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// transactionLifetime bounds how long a login form stays valid.
const transactionLifetime = 15 * time.Minute

// browserCookie identifies the browser across /authorize, the login form and
// the consent form, and carries the single sign-on session.
const browserCookie = "devauth_browser"

// transaction is a pending /authorize request.
type transaction struct {
	id          string
	browser     string // the browser that started it; forms must come from it
	created     time.Time
	client      *Client
	redirectURI string
	state       string
	scopes      []string // as requested
	api         *API     // nil: no audience
	org         *Organization
	invitation  string
	prompt      []string
	challenge   string
	dpopJKT     string // dpop_jkt (RFC 9449 section 10)
	nonce       string
	userID      string // set once the user has logged in
	authTime    time.Time
	stepUp      stepUpRequest // acr_values and max_age
	amr         []string      // how the user authenticated: pwd, then mfa
	otp         string        // the one-time code shown, while the second factor is pending
	otpTries    int
}

// ssoSession is a browser's login at the authorization server.
type ssoSession struct {
	userID   string
	authTime time.Time
	amr      []string
}

// challengeRE matches an S256 code_challenge: 32 bytes, base64url, no padding.
var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

var knownPrompts = []string{"none", "login", "consent", "select_account"}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	client := s.cfg.client(q.Get("client_id"))
	if client == nil {
		s.errorPage(w, http.StatusBadRequest, "Unknown client",
			fmt.Sprintf("There is no application with client_id %q.", q.Get("client_id")))
		return
	}
	redirectURI := q.Get("redirect_uri")
	if len(q["redirect_uri"]) != 1 || !slices.Contains(client.Callbacks, redirectURI) {
		// Never redirect to an unregistered URI: that would make this an open
		// redirector leaking codes.
		s.errorPage(w, http.StatusBadRequest, "Callback URL mismatch",
			fmt.Sprintf("The provided redirect_uri %q is not in the list of Allowed Callback URLs of application %q.", redirectURI, client.ID))
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) { redirectError(w, r, redirectURI, state, code, desc) }

	// Before the repeated-parameter check, which would call several
	// resources invalid_request rather than RFC 8707's invalid_target.
	audience, aerr := s.requestedAudience(q)
	if aerr != nil {
		fail(aerr.code, aerr.desc)
		return
	}
	for k, v := range q {
		if len(v) > 1 {
			fail("invalid_request", fmt.Sprintf("Parameter %q must not be repeated", k))
			return
		}
	}
	if rt := q.Get("response_type"); rt != "code" {
		fail("unsupported_response_type", fmt.Sprintf("Unsupported response type: %s", rt))
		return
	}
	if rm := q.Get("response_mode"); rm != "" && rm != "query" {
		fail("invalid_request", fmt.Sprintf("Unsupported response_mode: %s", rm))
		return
	}
	dpopJKT, ok := dpopJKTParam(q.Get("dpop_jkt"))
	if !ok {
		fail("invalid_request", "Parameter 'dpop_jkt' is malformed")
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		fail("invalid_request", "Parameter 'code_challenge' is required when 'code_challenge_method' is present")
		return
	case challenge == "" && client.Secret == "":
		fail("invalid_request", "Parameter 'code_challenge' is required for public clients")
		return
	case challenge != "" && method != "S256":
		fail("invalid_request", "Parameter 'code_challenge_method' must be S256")
		return
	case challenge != "" && !challengeRE.MatchString(challenge):
		fail("invalid_request", "Parameter 'code_challenge' is malformed")
		return
	}
	api := s.cfg.api(audience) // checked by requestedAudience; nil for none
	var org *Organization
	if p := q.Get("organization"); p != "" {
		if org = s.cfg.organization(p); org == nil {
			fail("invalid_request", fmt.Sprintf("parameter organization is invalid: %s", p))
			return
		}
	}
	invitation := q.Get("invitation")
	if invitation != "" {
		if org == nil {
			fail("invalid_request", "parameter invitation requires parameter organization")
			return
		}
		if _, ok := org.Invitations[invitation]; !ok {
			fail("invalid_request", "invitation not found or expired")
			return
		}
	}
	prompt := strings.Fields(q.Get("prompt"))
	for _, p := range prompt {
		if !slices.Contains(knownPrompts, p) || (p == "none" && len(prompt) > 1) {
			fail("invalid_request", "Unsupported prompt: "+q.Get("prompt"))
			return
		}
	}
	stepUp, err := parseStepUp(q.Get("acr_values"), q.Get("max_age"))
	if err != nil {
		fail("invalid_request", err.Error())
		return
	}

	browser := s.browserID(w, r)
	tx := &transaction{
		id: randomToken(), browser: browser, created: s.now(),
		client: client, redirectURI: redirectURI, state: state,
		scopes: strings.Fields(q.Get("scope")), api: api, org: org,
		invitation: invitation, prompt: prompt, challenge: challenge,
		nonce: q.Get("nonce"), stepUp: stepUp,
	}
	tx.dpopJKT = dpopJKT
	s.mu.Lock()
	s.sweepLocked()
	sess := s.sessions[browser]
	s.mu.Unlock()

	// max_age: a sign-in older than that counts as none (OIDC Core 3.1.2.1).
	if sess != nil && !slices.Contains(prompt, "login") && !stepUp.tooOld(sess.authTime, s.now()) {
		tx.userID, tx.authTime, tx.amr = sess.userID, sess.authTime, slices.Clone(sess.amr)
		s.afterLogin(w, r, tx)
		return
	}
	if slices.Contains(prompt, "none") {
		fail("login_required", "Login required")
		return
	}
	s.putTx(tx)
	s.render(w, http.StatusOK, "login", s.loginView(tx, "", ""))
}

// browserID returns the browser's ID cookie, setting a new one if absent.
func (s *Server) browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(browserCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	id := randomToken()
	s.setBrowserCookie(w, id)
	return id
}

func (s *Server) setBrowserCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: browserCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(s.cfg.Issuer, "https:"),
	})
}

// takeTx removes and returns the transaction a login or consent form
// names, only when the form comes from the browser that started it. A
// transaction is owned by one request at a time: a concurrent or repeated
// submission finds nothing. putTx hands it back when the login goes on.
func (s *Server) takeTx(r *http.Request, id string) *transaction {
	c, err := r.Cookie(browserCookie)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.txs[id]
	if tx == nil || subtle.ConstantTimeCompare([]byte(tx.browser), []byte(c.Value)) != 1 ||
		s.now().Sub(tx.created) > transactionLifetime {
		return nil
	}
	delete(s.txs, id)
	return tx
}

// putTx stores a transaction that waits for a form.
func (s *Server) putTx(tx *transaction) {
	s.mu.Lock()
	s.txs[tx.id] = tx
	s.mu.Unlock()
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	tx := s.takeTx(r, r.PostForm.Get("tx"))
	if tx == nil {
		s.errorPage(w, http.StatusBadRequest, "Login expired", "This login form is no longer valid. Go back to the application and sign in again.")
		return
	}
	user := s.cfg.userByName(r.PostForm.Get("username"))
	if user == nil || subtle.ConstantTimeCompare([]byte(user.Password), []byte(r.PostForm.Get("password"))) != 1 {
		s.putTx(tx)
		s.render(w, http.StatusUnauthorized, "login", s.loginView(tx, "Wrong username or password.", r.PostForm.Get("username")))
		return
	}
	// A new browser ID on login prevents session fixation.
	now := s.now()
	s.mu.Lock()
	delete(s.sessions, tx.browser)
	tx.browser = randomToken()
	s.sessions[tx.browser] = &ssoSession{userID: user.ID, authTime: now, amr: []string{AMRPassword}}
	tx.userID, tx.authTime, tx.amr = user.ID, now, []string{AMRPassword}
	s.mu.Unlock()
	s.setBrowserCookie(w, tx.browser)
	s.afterLogin(w, r, tx)
}

// afterLogin continues a transaction whose user is known: organization
// check, then consent, then the redirect with the code.
func (s *Server) afterLogin(w http.ResponseWriter, r *http.Request, tx *transaction) {
	fail := func(code, desc string) {
		redirectError(w, r, tx.redirectURI, tx.state, code, desc)
	}
	user := s.cfg.userByID(tx.userID)
	if user == nil {
		fail("access_denied", "User not found")
		return
	}
	if tx.needsSecondFactor() {
		if slices.Contains(tx.prompt, "none") {
			fail("interaction_required", "Multi-factor authentication required")
			return
		}
		s.secondFactor(w, tx, http.StatusOK, "")
		return
	}
	if tx.org != nil && !s.isMember(user, tx.org.ID) {
		if tx.invitation == "" || !strings.EqualFold(tx.org.Invitations[tx.invitation], user.Email) {
			fail("access_denied", fmt.Sprintf("user %s is not part of the %s organization", user.ID, tx.org.ID))
			return
		}
		s.mu.Lock()
		if s.joined[user.ID] == nil {
			s.joined[user.ID] = map[string]bool{}
		}
		s.joined[user.ID][tx.org.ID] = true
		s.mu.Unlock()
	}
	if s.needsConsent(tx) {
		if slices.Contains(tx.prompt, "none") {
			fail("consent_required", "Consent required")
			return
		}
		s.putTx(tx)
		http.Redirect(w, r, s.url("u/consent")+"?tx="+url.QueryEscape(tx.id), http.StatusSeeOther)
		return
	}
	s.finish(w, r, tx, user)
}

func (s *Server) isMember(u *User, orgID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return u.isMember(orgID) || s.joined[u.ID][orgID]
}

func consentKey(tx *transaction) string {
	aud := ""
	if tx.api != nil {
		aud = tx.api.Identifier
	}
	return tx.userID + "\x00" + tx.client.ID + "\x00" + aud
}

// needsConsent reports whether the user must confirm the requested scopes:
// always with prompt=consent, otherwise when some were never consented to.
func (s *Server) needsConsent(tx *transaction) bool {
	if slices.Contains(tx.prompt, "consent") {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	given := s.consents[consentKey(tx)]
	if given == nil {
		return true
	}
	for _, sc := range tx.scopes {
		if !given[sc] {
			return true
		}
	}
	return false
}

func (s *Server) consentPage(w http.ResponseWriter, r *http.Request) {
	tx := s.takeTx(r, r.URL.Query().Get("tx"))
	if tx != nil && tx.userID == "" {
		s.putTx(tx) // not logged in yet: the login form still holds it
		tx = nil
	}
	if tx == nil {
		s.errorPage(w, http.StatusBadRequest, "Login expired", "This consent page is no longer valid. Go back to the application and sign in again.")
		return
	}
	defer s.putTx(tx)
	user := s.cfg.userByID(tx.userID)
	v := consentView{Tx: tx.id, Client: tx.client.displayName(), User: user.Name, Org: orgName(tx.org), Scopes: tx.scopes}
	if tx.api != nil {
		v.API = tx.api.Name
		if v.API == "" {
			v.API = tx.api.Identifier
		}
	}
	s.render(w, http.StatusOK, "consent", v)
}

func (s *Server) consent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	tx := s.takeTx(r, r.PostForm.Get("tx"))
	if tx != nil && tx.userID == "" {
		s.putTx(tx)
		tx = nil
	}
	if tx == nil {
		s.errorPage(w, http.StatusBadRequest, "Login expired", "This consent form is no longer valid. Go back to the application and sign in again.")
		return
	}
	if r.PostForm.Get("decision") != "accept" {
		redirectError(w, r, tx.redirectURI, tx.state, "access_denied", "User did not authorize the request")
		return
	}
	s.mu.Lock()
	key := consentKey(tx)
	if s.consents[key] == nil {
		s.consents[key] = map[string]bool{}
	}
	for _, sc := range tx.scopes {
		s.consents[key][sc] = true
	}
	s.mu.Unlock()
	user := s.cfg.userByID(tx.userID)
	if user == nil {
		redirectError(w, r, tx.redirectURI, tx.state, "access_denied", "User not found")
		return
	}
	s.finish(w, r, tx, user)
}

// finish computes the grant, runs the post-login actions and redirects to
// the callback with a fresh authorization code.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, tx *transaction, user *User) {
	g := &grant{
		userID: user.ID, clientID: tx.client.ID, nonce: tx.nonce, authTime: tx.authTime,
		amr: slices.Clone(tx.amr),
	}
	var perms []string
	if tx.api != nil {
		g.audience = tx.api.Identifier
		perms = user.Permissions[tx.api.Identifier]
	}
	if tx.org != nil {
		g.orgID = tx.org.ID
	}
	for _, sc := range tx.scopes {
		if slices.Contains(g.scopes, sc) {
			continue
		}
		switch sc {
		case "openid", "profile", "email":
			g.scopes = append(g.scopes, sc)
		case "offline_access":
			if tx.api != nil && tx.api.AllowOfflineAccess {
				g.scopes = append(g.scopes, sc)
			}
		default:
			// Only scopes the API defines; with RBAC only those the user
			// holds.
			if tx.api != nil && slices.Contains(tx.api.Scopes, sc) && (!tx.api.RBAC || slices.Contains(perms, sc)) {
				g.scopes = append(g.scopes, sc)
			}
		}
	}

	event := &PostLoginEvent{
		User:     EventUser{ID: user.ID, Name: user.Name, Email: user.Email, Permissions: slices.Clone(perms)},
		ClientID: tx.client.ID, ClientName: tx.client.displayName(), Audience: g.audience,
		OrganizationID: g.orgID, RequestedScopes: slices.Clone(tx.scopes),
	}
	api := &PostLoginAPI{}
	for _, action := range s.cfg.Actions {
		if err := runAction(r.Context(), action, event, api); err != nil {
			redirectError(w, r, tx.redirectURI, tx.state, "access_denied", err.Error())
			return
		}
		if api.Access.denied != "" {
			redirectError(w, r, tx.redirectURI, tx.state, "access_denied", api.Access.denied)
			return
		}
	}
	for _, sc := range api.AccessToken.added {
		if !slices.Contains(g.scopes, sc) {
			g.scopes = append(g.scopes, sc)
		}
	}
	g.scopes = slices.DeleteFunc(g.scopes, func(sc string) bool { return slices.Contains(api.AccessToken.removed, sc) })
	g.atClaims, g.idClaims = api.AccessToken.claims, api.IDToken.claims

	code := randomToken()
	s.mu.Lock()
	s.codes[code] = &authCode{grant: g, redirectURI: tx.redirectURI, challenge: tx.challenge, expires: s.now().Add(s.cfg.CodeLifetime), dpopJKT: tx.dpopJKT}
	s.mu.Unlock()
	redirectWith(w, r, tx.redirectURI, url.Values{"code": {code}}, tx.state)
}

// runAction runs one action, turning a panic into a denied login: a broken
// hook must not take the server down or answer 500.
func runAction(ctx context.Context, action PostLoginAction, event *PostLoginEvent, api *PostLoginAPI) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("post-login action failed")
		}
	}()
	if err := action(ctx, event, api); err != nil {
		return fmt.Errorf("post-login action failed: %v", err)
	}
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	returnTo := q.Get("returnTo")
	if returnTo != "" {
		client := s.cfg.client(q.Get("client_id"))
		if client == nil || !slices.Contains(client.LogoutURLs, returnTo) {
			s.errorPage(w, http.StatusBadRequest, "Logout URL not allowed",
				fmt.Sprintf("returnTo %q is not in the Allowed Logout URLs of the application.", returnTo))
			return
		}
	}
	if c, err := r.Cookie(browserCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
	if returnTo != "" {
		http.Redirect(w, r, returnTo, http.StatusFound)
		return
	}
	s.render(w, http.StatusOK, "message", messageView{Title: "Logged out", Message: "You are logged out of the development authorization server."})
}

// redirectError sends the browser back to the client with an OAuth error,
// keeping state untouched.
func redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, desc string) {
	redirectWith(w, r, redirectURI, url.Values{"error": {code}, "error_description": {desc}}, state)
}

func redirectWith(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values, state string) {
	u, err := url.Parse(redirectURI) // registered, so it parses
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (c *Client) displayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

func orgName(o *Organization) string {
	if o == nil {
		return ""
	}
	if o.Name != "" {
		return o.Name
	}
	return o.ID
}

type loginView struct {
	Tx, Client, Org, Error, Username string
	Users                            []User // listed when Config.ShowUsersOnLogin
}

func (s *Server) loginView(tx *transaction, errMsg, username string) loginView {
	v := loginView{Tx: tx.id, Client: tx.client.displayName(), Org: orgName(tx.org), Error: errMsg, Username: username}
	if s.cfg.ShowUsersOnLogin {
		v.Users = s.cfg.Users
	}
	return v
}

type consentView struct {
	Tx, Client, User, Org, API string
	Scopes                     []string
}

type messageView struct {
	Title, Message string
}

func (s *Server) errorPage(w http.ResponseWriter, status int, title, msg string) {
	s.render(w, status, "message", messageView{Title: title, Message: msg})
}

func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// No scripts, no framing. form-action is left out on purpose: Chromium
	// applies it to the redirect that follows the form, and that redirect
	// goes to the application.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, data)
}

var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}} · devauth</title>
<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
.banner{background:#b00020;color:#fff;padding:.5rem;font-weight:bold;text-align:center}
label{display:block;margin:.5rem 0}input{width:100%;padding:.4rem}button{margin:.5rem .5rem 0 0;padding:.4rem 1rem}
.error{color:#b00020}
</style></head><body>
<div class="banner" id="dev-banner">DEVELOPMENT ONLY: devauth authorization server</div>
{{end}}
{{define "login"}}{{template "head" "Log in"}}
<h1>Log in</h1>
<p>to continue to <strong id="client-name">{{.Client}}</strong>{{if .Org}} as a member of <strong id="org-name">{{.Org}}</strong>{{end}}</p>
{{if .Error}}<p class="error" id="error">{{.Error}}</p>{{end}}
<form id="login-form" method="post" action="/u/login">
<input type="hidden" name="tx" value="{{.Tx}}">
<label>Username <input id="username" name="username" autocomplete="username" value="{{.Username}}" required></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
<button id="login" type="submit">Log in</button>
</form>
{{if .Users}}<table id="demo-users">
<caption>Demo users</caption>
<tr><th>username</th><th>password</th><th></th></tr>
{{range .Users}}<tr><td class="username">{{.Username}}</td><td class="password">{{.Password}}</td><td>{{.Hint}}</td></tr>
{{end}}</table>{{end}}
</body></html>
{{end}}
{{define "consent"}}{{template "head" "Authorize"}}
<h1>Authorize {{.Client}}</h1>
<p>Hi <strong id="user-name">{{.User}}</strong>, <strong>{{.Client}}</strong> is requesting access{{if .API}} to <strong id="api-name">{{.API}}</strong>{{end}}{{if .Org}} in <strong>{{.Org}}</strong>{{end}}:</p>
<ul id="scopes">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form id="consent-form" method="post" action="/u/consent">
<input type="hidden" name="tx" value="{{.Tx}}">
<button id="consent-accept" type="submit" name="decision" value="accept">Accept</button>
<button id="consent-deny" type="submit" name="decision" value="deny">Decline</button>
</form></body></html>
{{end}}
{{define "message"}}{{template "head" .Title}}
<h1 id="title">{{.Title}}</h1>
<p id="message">{{.Message}}</p>
</body></html>
{{end}}
`))
