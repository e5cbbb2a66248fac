package e2e_test

import (
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

// TestWebAppDPoP: with a DPoP key per session, the web app's tokens are
// bound to it (token_type DPoP), every API call carries a proof, and a
// refresh keeps the binding; the token alone, as Bearer, is refused.
func TestWebAppDPoP(t *testing.T) {
	var mu sync.Mutex
	var last *oauth2.Token
	st := startStack(t, stack.Options{WebAppDPoP: true, OnToken: func(_ string, tok *oauth2.Token) {
		mu.Lock()
		last = tok
		mu.Unlock()
	}})
	b := browser.New()
	mustSignIn(t, st, b, stack.Alice)
	for _, name := range []string{"private", "contacts"} {
		if status, body := call(t, st, b, name); status != "200" {
			t.Errorf("/api/%s: %s %s", name, status, body)
		}
	}
	status, body := call(t, st, b, "claims")
	c := decodeJSON(t, body)
	if status != "200" || c["cnf_jkt"] == nil || c["cnf_jkt"] == "" {
		t.Fatalf("/api/claims: %s %v", status, c)
	}
	jkt := c["cnf_jkt"]

	press(t, st, b, "refresh")
	status, body = call(t, st, b, "claims")
	if c := decodeJSON(t, body); status != "200" || c["cnf_jkt"] != jkt {
		t.Errorf("after a refresh: %s %v, want the same key %v", status, c, jkt)
	}

	mu.Lock()
	tok := last
	mu.Unlock()
	if tok.Type() != "DPoP" {
		t.Errorf("token_type %q, want DPoP", tok.Type())
	}
	code, challenge, _ := apiGet(t, st, "/api/private", tok.AccessToken)
	if code != 401 || !strings.Contains(challenge, "invalid_token") {
		t.Errorf("the web app's token as Bearer: %d %s", code, challenge)
	}
}
