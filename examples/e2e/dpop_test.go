package e2e_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

// lastToken keeps the last token response the web app received.
type lastToken struct {
	mu  sync.Mutex
	tok *oauth2.Token
}

func (l *lastToken) record(_ string, t *oauth2.Token) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tok = t
}

func (l *lastToken) get() *oauth2.Token {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tok
}

// checkDPoPSession checks what a signed-in web app session shows: the
// token response was token_type DPoP, /api/claims (called by the web app
// with a proof of its session key) shows cnf_jkt, and the same access
// token sent as Bearer, as a thief would, is refused.
func checkDPoPSession(t *testing.T, st *stack.Stack, tok *oauth2.Token, claimsBody string) {
	t.Helper()
	if tok == nil || tok.Type() != "DPoP" {
		t.Fatalf("token response %v: want token_type DPoP", tok)
	}
	jkt, _ := decodeJSON(t, claimsBody)["cnf_jkt"].(string)
	if len(jkt) != 43 {
		t.Errorf("/api/claims shows cnf_jkt %q, want the session key's thumbprint", jkt)
	}
	status, www, _ := apiGet(t, st, "/api/private", tok.AccessToken)
	if status != 401 || !strings.Contains(www, `error="invalid_token"`) {
		t.Errorf("the session's token as Bearer: %d %s, want 401 invalid_token", status, www)
	}
}

// TestDPoPEndToEnd: the web app gets DPoP-bound tokens from devauth with
// its session key, calls every protected route with DPoP, keeps the
// binding across a refresh, and a second session has another key.
func TestDPoPEndToEnd(t *testing.T) {
	var last lastToken
	st := startStack(t, stack.Options{OnToken: last.record})
	b := browser.New()
	mustSignIn(t, st, b, stack.Alice)
	for _, name := range []string{"private", "contacts"} {
		if status, body := call(t, st, b, name); status != "200" {
			t.Errorf("/api/%s: %s %s", name, status, body)
		}
	}
	status, body := call(t, st, b, "claims")
	if status != "200" {
		t.Fatalf("/api/claims: %s %s", status, body)
	}
	checkDPoPSession(t, st, last.get(), body)
	jkt := decodeJSON(t, body)["cnf_jkt"]

	press(t, st, b, "refresh")
	if _, after := call(t, st, b, "claims"); decodeJSON(t, after)["cnf_jkt"] != jkt {
		t.Errorf("after a refresh, cnf_jkt %v, want the same key %v", decodeJSON(t, after)["cnf_jkt"], jkt)
	}
	if last.get().Type() != "DPoP" {
		t.Errorf("refreshed token_type %q", last.get().Type())
	}

	other := browser.New()
	mustSignIn(t, st, other, stack.Bob)
	if _, b2 := call(t, st, other, "claims"); decodeJSON(t, b2)["cnf_jkt"] == jkt {
		t.Error("two sessions share one DPoP key")
	}
}

// TestRealBrowserDPoP is TestRealBrowser's sign-in in headless Chromium,
// checking that the web app's session holds DPoP-bound tokens: the claims
// page shows cnf_jkt, and the token is refused as Bearer.
func TestRealBrowserDPoP(t *testing.T) {
	var last lastToken
	st := startStack(t, stack.Options{OnToken: last.record})
	ctx := newChromium(t)
	defer screenshotOnFailure(t, ctx)

	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, append(signInAsAlice(st),
		chromedp.Click(chromedp.ID("call-claims")),
		chromedp.WaitVisible(chromedp.ID("api-result")),
	)...); err != nil {
		t.Fatalf("sign-in and call: %v", err)
	}
	status, _ := chromedp.Run(tctx, chromedp.Text(chromedp.ID("api-status")))
	result, _ := chromedp.Run(tctx, chromedp.Text(chromedp.ID("api-result")))
	if status != "200" || !strings.Contains(result, `"cnf_jkt"`) {
		t.Fatalf("/api/claims on the page: %s %s", status, result)
	}
	checkDPoPSession(t, st, last.get(), result)
}

// TestBearerOnlyWebApp: with BearerOnly, the web app sends no proofs and
// gets bearer tokens, which the API (DPoP allowed) takes as Bearer.
func TestBearerOnlyWebApp(t *testing.T) {
	var last lastToken
	st := startStack(t, stack.Options{OnToken: last.record, BearerOnly: true})
	b := browser.New()
	mustSignIn(t, st, b, stack.Alice)
	status, body := call(t, st, b, "claims")
	if status != "200" {
		t.Fatalf("/api/claims: %s %s", status, body)
	}
	if _, ok := decodeJSON(t, body)["cnf_jkt"]; ok {
		t.Errorf("cnf_jkt in a bearer session's claims: %s", body)
	}
	if tok := last.get(); tok == nil || tok.Type() != "Bearer" {
		t.Fatalf("token response %v: want token_type Bearer", tok)
	}
	if s, _, _ := apiGet(t, st, "/api/private", last.get().AccessToken); s != 200 {
		t.Errorf("the bearer token as Bearer: %d", s)
	}
}
