package e2e_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

func TestSignInAndCallAPI(t *testing.T) {
	st := startStack(t, stack.Options{})
	tests := []struct {
		user stack.DemoUser
		want map[string]string // endpoint -> status
	}{
		{stack.Alice, map[string]string{"public": "200", "private": "200", "contacts": "200", "claims": "200"}},
		// RBAC: bob holds no permission, so read:contacts is not granted.
		{stack.Bob, map[string]string{"public": "200", "private": "200", "contacts": "403", "claims": "200"}},
	}
	for _, tt := range tests {
		t.Run(tt.user.Username, func(t *testing.T) {
			b := browser.New()
			for name := range tt.want {
				if name == "public" {
					continue
				}
				// Signed out, the web app calls without a token.
				if got, _ := call(t, st, b, name); got != "401" {
					t.Errorf("signed out /api/%s = %s, want 401", name, got)
				}
			}
			mustSignIn(t, st, b, tt.user)
			for name, want := range tt.want {
				if got, body := call(t, st, b, name); got != want {
					t.Errorf("/api/%s = %s, want %s: %s", name, got, want, body)
				}
			}
		})
	}

	b := browser.New()
	mustSignIn(t, st, b, stack.Alice)
	_, body := call(t, st, b, "claims")
	c := decodeJSON(t, body)
	custom, _ := c["custom"].(map[string]any)
	if c["sub"] != "auth0|alice" || c["azp"] != stack.ClientID || custom[stack.RolesClaim] == nil || custom[stack.GreetingClaim] == nil {
		t.Errorf("claims = %v", c)
	}
	if !slices.Contains(toStrings(c["scopes"]), "read:contacts") || !slices.Contains(toStrings(c["permissions"]), "write:contacts") {
		t.Errorf("scopes/permissions = %v / %v", c["scopes"], c["permissions"])
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestCallbackRefusesBadState covers the web app's CSRF defence: the
// callback's state must be the one this browser's session sent.
func TestCallbackRefusesBadState(t *testing.T) {
	st := startStack(t, stack.Options{})
	tests := []struct {
		name    string
		deliver func(t *testing.T, b *browser.Browser, cb *url.URL) *browser.Page
	}{
		{"missing state", func(t *testing.T, b *browser.Browser, cb *url.URL) *browser.Page {
			q := cb.Query()
			q.Del("state")
			return get(t, b, withQuery(cb, q))
		}},
		{"forged state", func(t *testing.T, b *browser.Browser, cb *url.URL) *browser.Page {
			q := cb.Query()
			q.Set("state", oauth2.GenerateVerifier())
			return get(t, b, withQuery(cb, q))
		}},
		{"another browser", func(t *testing.T, _ *browser.Browser, cb *url.URL) *browser.Page {
			// Login CSRF: the attacker's callback URL in the victim's browser.
			return get(t, browser.New(), cb.String())
		}},
		{"replayed callback", func(t *testing.T, b *browser.Browser, cb *url.URL) *browser.Page {
			if p := get(t, b, cb.String()); !p.Has("welcome") {
				t.Fatalf("first delivery failed: %s", p.Text("error-description"))
			}
			return get(t, b, cb.String())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := browser.New()
			cb := holdCallback(t, st, b, stack.Alice)
			p := tt.deliver(t, b, cb)
			if p.Status != http.StatusBadRequest || p.Text("error") != "invalid_state" {
				t.Errorf("got %d %q, want 400 invalid_state", p.Status, p.Text("error"))
			}
		})
	}
}

func get(t *testing.T, b *browser.Browser, u string) *browser.Page {
	t.Helper()
	p, err := b.Get(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func withQuery(u *url.URL, q url.Values) string {
	c := *u
	c.RawQuery = q.Encode()
	return c.String()
}

// TestInjectedCodeFailsPKCE: an attacker's code delivered to the victim's
// session (with the victim's state) fails, because the victim's PKCE
// verifier does not match the attacker's challenge.
func TestInjectedCodeFailsPKCE(t *testing.T) {
	st := startStack(t, stack.Options{})
	attacker := browser.New()
	stolen := holdCallback(t, st, attacker, stack.Bob)

	victim := browser.New()
	first, err := victim.NoFollow(t.Context(), st.WebAppURL+"/login")
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := url.Parse(first.Header.Get("Location"))
	q := stolen.Query()
	q.Set("state", auth.Query().Get("state"))
	p := get(t, victim, withQuery(stolen, q))
	if p.Text("error") != "invalid_grant" || p.Has("welcome") {
		t.Errorf("injected code: %d %q %q", p.Status, p.Text("error"), p.Text("error-description"))
	}
}

// TestTokenEndpoint exercises the code exchange directly: a wrong PKCE
// verifier and a reused code are invalid_grant, and the API accepts only
// the access token.
func TestTokenEndpoint(t *testing.T) {
	st := startStack(t, stack.Options{})
	c := newClient(st)
	code := c.code(t, st, stack.Alice)
	ctx := t.Context()

	_, err := c.cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("wrong PKCE verifier: %v", err)
	}
	tok, err := c.cfg.Exchange(ctx, code, oauth2.VerifierOption(c.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if _, err := c.cfg.Exchange(ctx, code, oauth2.VerifierOption(c.verifier)); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("reused code: %v", err)
	}

	idToken, _ := tok.Extra("id_token").(string)
	tests := []struct {
		name, token string
		status      int
		challenge   string
	}{
		{"access token", tok.AccessToken, 200, ""},
		{"ID token", idToken, 401, `error="invalid_token"`},
		{"refresh token", tok.RefreshToken, 401, `error="invalid_token"`},
		{"no token", "", 401, `Bearer realm=`},
		{"tampered access token", tok.AccessToken[:len(tok.AccessToken)-4] + "AAAA", 401, `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, challenge, body := apiGet(t, st, "/api/private", tt.token)
			if status != tt.status || !strings.Contains(challenge, tt.challenge) {
				t.Errorf("got %d %q %s, want %d %q", status, challenge, body, tt.status, tt.challenge)
			}
		})
	}

	// The refresh token from the exchange was revoked with the reused code.
	_, err = c.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("refresh after code reuse: %v", err)
	}
}

func TestRefreshAndNarrowing(t *testing.T) {
	st := startStack(t, stack.Options{})
	b := browser.New()
	mustSignIn(t, st, b, stack.Alice)
	if got, _ := call(t, st, b, "contacts"); got != "200" {
		t.Fatalf("contacts before narrowing = %s", got)
	}
	if p := press(t, st, b, "refresh-narrow"); !p.Has("welcome") || strings.Contains(p.Text("token-scope"), "read:contacts") {
		t.Fatalf("narrowing refresh: %d %q %q", p.Status, p.Text("token-scope"), p.Text("error-description"))
	}
	if got, _ := call(t, st, b, "contacts"); got != "403" {
		t.Errorf("contacts after narrowing = %s, want 403", got)
	}
	if got, _ := call(t, st, b, "private"); got != "200" {
		t.Errorf("private after narrowing = %s, want 200", got)
	}
	// A plain refresh gets the original grant back.
	if p := press(t, st, b, "refresh"); !strings.Contains(p.Text("token-scope"), "read:contacts") {
		t.Fatalf("refresh: %q %q", p.Text("token-scope"), p.Text("error-description"))
	}
	if got, _ := call(t, st, b, "contacts"); got != "200" {
		t.Errorf("contacts after full refresh = %s, want 200", got)
	}
}

// TestRefreshWhenExpired: with a leeway longer than the token's lifetime,
// every call finds the access token expiring and refreshes it first.
func TestRefreshWhenExpired(t *testing.T) {
	rec := &tokenRecorder{}
	st := startStack(t, stack.Options{ExpiryLeeway: time.Hour, OnToken: rec.record})
	b := browser.New()
	mustSignIn(t, st, b, stack.Alice)
	for i := 1; i <= 3; i++ {
		if got, body := call(t, st, b, "contacts"); got != "200" {
			t.Fatalf("call %d = %s %s", i, got, body)
		}
		if n := rec.count("refresh (expired)"); n != i {
			t.Fatalf("after call %d: %d refreshes", i, n)
		}
	}
}

// TestExpiredAccessTokenRejected: tokens minted an hour ago are expired;
// the API answers 401 invalid_token.
func TestExpiredAccessTokenRejected(t *testing.T) {
	st := startStack(t, stack.Options{AuthClock: func() time.Time { return time.Now().Add(-time.Hour) }})
	b := browser.New()
	mustSignIn(t, st, b, stack.Alice)
	p := get(t, b, st.WebAppURL+"/call/private")
	if p.Text("api-status") != "401" || !strings.Contains(p.Text("api-www-authenticate"), `error="invalid_token"`) {
		t.Errorf("expired token: %s %s", p.Text("api-status"), p.Text("api-www-authenticate"))
	}
}

func TestOrganizations(t *testing.T) {
	st := startStack(t, stack.Options{})
	tests := []struct {
		name      string
		user      stack.DemoUser
		loginPath string
		wantErr   string
	}{
		{"member", stack.Alice, "/login?organization=" + stack.OrgAcme, ""},
		{"not a member", stack.Bob, "/login?organization=" + stack.OrgAcme, "access_denied"},
		{"member elsewhere only", stack.Alice, "/login?organization=" + stack.OrgGlobex, "access_denied"},
		{"invited", stack.Carol, "/login?organization=" + stack.OrgAcme + "&invitation=" + stack.CarolInvitation, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := browser.New()
			p := signIn(t, st, b, tt.user, tt.loginPath)
			if tt.wantErr != "" {
				if p.Text("error") != tt.wantErr || p.Has("welcome") {
					t.Errorf("got %d %q %q, want %s", p.Status, p.Text("error"), p.Text("error-description"), tt.wantErr)
				}
				return
			}
			if p.Text("user-org") != stack.OrgAcme {
				t.Fatalf("not signed in to the organization: %d %q %q", p.Status, p.Text("error"), p.Text("error-description"))
			}
			_, body := call(t, st, b, "claims")
			if c := decodeJSON(t, body); c["org_id"] != stack.OrgAcme {
				t.Errorf("API sees org_id %v", c["org_id"])
			}
		})
	}
}

func TestConsentDeniedAndLogout(t *testing.T) {
	st := startStack(t, stack.Options{})
	b := browser.New()
	p := get(t, b, st.WebAppURL+"/login")
	p, err := b.Submit(t.Context(), p, "login-form", map[string]string{"username": stack.Alice.Username, "password": stack.Alice.Password}, "login")
	if err != nil {
		t.Fatal(err)
	}
	p, err = b.Submit(t.Context(), p, "consent-form", nil, "consent-deny")
	if err != nil || p.Text("error") != "access_denied" {
		t.Fatalf("deny: %v %q", err, p.Text("error"))
	}

	mustSignIn(t, st, b, stack.Alice)
	if p := press(t, st, b, "logout"); !p.Has("signin") {
		t.Fatalf("after logout: %d %s", p.Status, p.URL)
	}
	if got, _ := call(t, st, b, "private"); got != "401" {
		t.Errorf("private after logout = %s", got)
	}
	// The authorization server's session ended too: the login form is back.
	if p := get(t, b, st.WebAppURL+"/login"); !p.Has("login-form") {
		t.Errorf("login form not shown after logout")
	}
}

// TestErrorsNeverServerErrors sends malformed requests to every server of
// the stack: none answers 5xx.
func TestErrorsNeverServerErrors(t *testing.T) {
	st := startStack(t, stack.Options{})
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, url, ctype, body, origin string
		want                                   int
	}{
		{"authorize without parameters", "GET", st.Issuer + "authorize", "", "", "", 400},
		{"authorize bad escapes", "GET", st.Issuer + "authorize?client_id=%zz", "", "", "", 400},
		{"authorize unknown client", "GET", st.Issuer + "authorize?client_id=x&redirect_uri=http://127.0.0.1:1/", "", "", "", 400},
		{"authorize repeated client_id", "GET", st.Issuer + "authorize?client_id=a&client_id=b", "", "", "", 400},
		{"login without transaction", "POST", st.Issuer + "u/login", form, "username=alice", "", 400},
		{"login with junk body", "POST", st.Issuer + "u/login", form, "%zz", "", 400},
		{"consent without transaction", "POST", st.Issuer + "u/consent", form, "decision=accept&tx=nope", "", 400},
		{"consent page without transaction", "GET", st.Issuer + "u/consent?tx=x", "", "", "", 400},
		{"token GET", "GET", st.Issuer + "oauth/token", "", "", "", 405},
		{"token empty", "POST", st.Issuer + "oauth/token", form, "", "", 401},
		{"token junk JSON", "POST", st.Issuer + "oauth/token", "application/json", "[1,2]", "", 400},
		{"token bad code", "POST", st.Issuer + "oauth/token", form, "grant_type=authorization_code&code=x&client_id=" + stack.ClientID + "&client_secret=" + st.ClientSecret, "", 403},
		{"userinfo junk", "GET", st.Issuer + "userinfo", "", "", "", 401},
		{"logout bad returnTo", "GET", st.Issuer + "v2/logout?returnTo=http://evil.example/", "", "", "", 400},
		{"unknown path", "GET", st.Issuer + "nope", "", "", "", 404},
		{"webapp callback without session", "GET", st.WebAppURL + "/callback?code=x&state=y", "", "", "", 400},
		{"webapp unknown call", "GET", st.WebAppURL + "/call/nope", "", "", "", 404},
		{"webapp refresh without session", "POST", st.WebAppURL + "/refresh", form, "", "", 303},
		{"webapp cross-origin post", "POST", st.WebAppURL + "/logout", form, "", "http://evil.example", 403},
		{"API malformed header", "GET", st.APIURL + "/api/private", "", "", "", 401},
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}
