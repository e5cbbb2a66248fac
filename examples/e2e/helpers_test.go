// Package e2e_test runs the example stack (devauth, the apiguard-protected
// API and the web app) on loopback ports and drives it like a user would.
package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

// startStack starts the three servers for one test.
func startStack(t *testing.T, opts stack.Options) *stack.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	st, err := stack.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func isCallback(st *stack.Stack) func(*url.URL) bool {
	return func(u *url.URL) bool {
		return strings.HasPrefix(u.String(), st.WebAppURL+"/callback")
	}
}

// loginAndConsent fills the authorization server's forms on p, if shown.
func loginAndConsent(t *testing.T, b *browser.Browser, p *browser.Page, user stack.DemoUser) *browser.Page {
	t.Helper()
	var err error
	if p.Has("login-form") {
		p, err = b.Submit(t.Context(), p, "login-form", map[string]string{"username": user.Username, "password": user.Password}, "login")
		if err != nil {
			t.Fatal(err)
		}
	}
	if p.Has("consent-form") {
		p, err = b.Submit(t.Context(), p, "consent-form", nil, "consent-accept")
		if err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// signIn starts at the web app's loginPath ("/login", maybe with a query)
// and returns the page the browser lands on.
func signIn(t *testing.T, st *stack.Stack, b *browser.Browser, user stack.DemoUser, loginPath string) *browser.Page {
	t.Helper()
	p, err := b.Get(t.Context(), st.WebAppURL+loginPath)
	if err != nil {
		t.Fatal(err)
	}
	return loginAndConsent(t, b, p, user)
}

// mustSignIn signs user in and fails the test unless it worked.
func mustSignIn(t *testing.T, st *stack.Stack, b *browser.Browser, user stack.DemoUser) {
	t.Helper()
	if p := signIn(t, st, b, user, "/login"); !p.Has("welcome") {
		t.Fatalf("sign-in failed: %d %s: %s %s", p.Status, p.URL, p.Text("error"), p.Text("error-description"))
	}
}

// holdCallback signs in through the web app but stops before the callback
// is delivered, and returns the callback URL.
func holdCallback(t *testing.T, st *stack.Stack, b *browser.Browser, user stack.DemoUser) *url.URL {
	t.Helper()
	b.StopAt = isCallback(st)
	defer func() { b.StopAt = nil }()
	p := signIn(t, st, b, user, "/login")
	u, err := url.Parse(p.Header.Get("Location"))
	if err != nil || !isCallback(st)(u) {
		t.Fatalf("no redirect to the callback: %d %s", p.Status, p.Header.Get("Location"))
	}
	return u
}

// call asks the web app to call an API endpoint and returns the status and
// body the page shows.
func call(t *testing.T, st *stack.Stack, b *browser.Browser, name string) (string, string) {
	t.Helper()
	p, err := b.Get(t.Context(), st.WebAppURL+"/call/"+name)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusOK {
		t.Fatalf("/call/%s: %d %s", name, p.Status, p.Text("error-description"))
	}
	return p.Text("api-status"), p.Text("api-result")
}

// press submits one of the home page's forms.
func press(t *testing.T, st *stack.Stack, b *browser.Browser, button string) *browser.Page {
	t.Helper()
	home, err := b.Get(t.Context(), st.WebAppURL+"/")
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Submit(t.Context(), home, button+"-form", nil, button)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// apiGet calls the API directly with an optional bearer token.
func apiGet(t *testing.T, st *stack.Stack, path, token string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, st.APIURL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)
}

// client is the test acting as the web app's OAuth client itself, to reach
// the token endpoint directly.
type client struct {
	cfg      oauth2.Config
	verifier string
}

func newClient(st *stack.Stack) *client {
	return &client{
		cfg: oauth2.Config{
			ClientID: st.ClientID, ClientSecret: st.ClientSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL: st.Issuer + "authorize", TokenURL: st.Issuer + "oauth/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			RedirectURL: st.WebAppURL + "/callback",
			Scopes:      []string{"openid", "profile", "email", "offline_access", "read:contacts"},
		},
		verifier: oauth2.GenerateVerifier(),
	}
}

// code logs user in for this client and returns the authorization code.
func (c *client) code(t *testing.T, st *stack.Stack, user stack.DemoUser) string {
	t.Helper()
	b := browser.New()
	b.StopAt = isCallback(st)
	authURL := c.cfg.AuthCodeURL("client-state", oauth2.S256ChallengeOption(c.verifier),
		oauth2.SetAuthURLParam("audience", st.Audience), oauth2.SetAuthURLParam("nonce", "n"))
	p, err := b.Get(t.Context(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	p = loginAndConsent(t, b, p, user)
	u, _ := url.Parse(p.Header.Get("Location"))
	if u == nil || u.Query().Get("code") == "" || u.Query().Get("state") != "client-state" {
		t.Fatalf("no code: %d %s", p.Status, p.Header.Get("Location"))
	}
	return u.Query().Get("code")
}

// oauthErrorCode returns the OAuth error code of a failed token request.
func oauthErrorCode(err error) string {
	if re, ok := err.(*oauth2.RetrieveError); ok {
		return re.ErrorCode
	}
	return ""
}

// tokenRecorder records the reasons of the token responses the web app
// receives.
type tokenRecorder struct {
	mu      sync.Mutex
	reasons []string
}

func (r *tokenRecorder) record(reason string, _ *oauth2.Token) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reasons = append(r.reasons, reason)
}

func (r *tokenRecorder) count(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.reasons {
		if x == reason {
			n++
		}
	}
	return n
}

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %q", s)
	}
	return m
}
