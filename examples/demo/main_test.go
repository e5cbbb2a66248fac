package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

func noEnv(string) string { return "" }

// TestDemo runs the whole walk-through: it exits 0 only when every step
// behaved as expected.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	code := run(t.Context(), options{}, &out, noEnv)
	if code != 0 {
		t.Fatalf("exit code %d:\n%s", code, out.String())
	}
	for _, want := range []string{
		"DEVELOPMENT ONLY", "authorization URL parameters", "code_challenge_method  S256",
		"302 to", "token response (code exchange)", `"https://example.com/roles"`,
		"GET /api/contacts  -> 403 (want 403)", `error="insufficient_scope"`,
		`GET /api/private -> 401 (want 401)  WWW-Authenticate: Bearer`,
		"/apiguard.examples.contacts.v1.Contacts/WhoAmI with the web app's DPoP-bound token and no proof -> Unauthenticated (want Unauthenticated)",
		"/apiguard.examples.contacts.v1.Contacts/WhoAmI -> OK (want OK)  auth0|alice",
		"/apiguard.examples.contacts.v1.Contacts/ListContacts -> OK (want OK)  3 contacts",
		"/apiguard.examples.contacts.v1.Contacts/ListContacts -> PermissionDenied (want PermissionDenied)",
		"Step up: GET /api/mfa", "acr_values=http://schemas.openid.net/pape/policies/2007/06/multi-factor max_age=600",
		"GET /api/mfa       -> 200 (want 200)",
		"All steps behaved as expected.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "[FAIL]") {
		t.Errorf("a step failed:\n%s", out.String())
	}
}

func TestDemoAuth0Settings(t *testing.T) {
	env := map[string]string{"AUTH0_DOMAIN": "tenant.us.auth0.com", "AUTH0_CLIENT_ID": "x"}
	var out bytes.Buffer
	if code := run(t.Context(), options{}, &out, func(k string) string { return env[k] }); code != 2 {
		t.Fatalf("exit code %d, want 2: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "AUTH0_CLIENT_SECRET") {
		t.Errorf("message does not name the missing variable: %s", out.String())
	}
}

// syncBuffer is written by the demo's goroutines and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serving runs the demo with o until it waits for Ctrl-C, and returns its
// output so far; the demo is stopped when the test ends.
func serving(t *testing.T, o options) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, o, out, noEnv) }()
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, 0, <-done, "exit code")
	})
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Press Ctrl-C") },
		30*time.Second, 20*time.Millisecond, "demo did not start serving:\n%s", out)
	return out.String()
}

// TestServe: -serve prints the URL to open first, with the demo users, and
// the login page lists them too.
func TestServe(t *testing.T) {
	out := serving(t, options{serve: true})
	first, _, _ := strings.Cut(out, "\n")
	m := regexp.MustCompile(`^Open (http://127\.0\.0\.1:\d+)/ in a browser\.$`).FindStringSubmatch(first)
	require.NotNil(t, m, "first line: %q", first)
	for _, u := range []stack.DemoUser{stack.Alice, stack.Bob, stack.Carol} {
		assert.Contains(t, out, u.Username)
		assert.Contains(t, out, u.Password)
	}
	assert.NotContains(t, out, "authorization URL parameters", "no scripted walk-through")

	b := browser.New()
	home, err := b.Get(t.Context(), m[1]+"/")
	require.NoError(t, err)
	login, err := home.Link("signin")
	require.NoError(t, err)
	page, err := b.Get(t.Context(), login)
	require.NoError(t, err)
	require.True(t, page.Has("login-form"))
	for _, u := range []stack.DemoUser{stack.Alice, stack.Bob, stack.Carol} {
		assert.Contains(t, strings.Join(strings.Fields(page.Text("demo-users")), " "), u.Username+" "+u.Password)
	}
}

// TestToken: -token prints an access token and a curl line that the API
// answers 200.
func TestToken(t *testing.T) {
	out := serving(t, options{token: true})
	tok := regexp.MustCompile(`(?m)^TOKEN='([^']+)'$`).FindStringSubmatch(out)
	require.NotNil(t, tok, out)
	curl := regexp.MustCompile(`(?m)^curl -H "Authorization: Bearer \$TOKEN" (http://127\.0\.0\.1:\d+/api/contacts)$`).FindStringSubmatch(out)
	require.NotNil(t, curl, out)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, curl[1], nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok[1])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Contains(t, string(body), "Ada Lovelace")
}

func TestTokenNeedsDevauth(t *testing.T) {
	env := map[string]string{
		"AUTH0_DOMAIN": "tenant.us.auth0.com", "AUTH0_CLIENT_ID": "x", "AUTH0_CLIENT_SECRET": "y",
		"AUTH0_AUDIENCE": "https://a", "AUTH0_CALLBACK_URL": "http://localhost:3000/callback",
	}
	var out bytes.Buffer
	assert.Equal(t, 2, run(t.Context(), options{token: true}, &out, func(k string) string { return env[k] }))
	assert.Contains(t, out.String(), "AUTH0_DOMAIN")
}
