// Command demo starts the development authorization server, the protected
// API and the web application on loopback ports, then walks the whole
// Authorization Code Flow with a scripted browser and prints each step:
//
//	cd examples && go run ./demo          # walk the flow, exit 0 if all went as expected
//	cd examples && go run ./demo -serve   # print the URL to open and the demo users, serve until Ctrl-C
//	cd examples && go run ./demo -token   # print a fresh access token and the curl line, serve until Ctrl-C
//
// With AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, AUTH0_AUDIENCE and
// AUTH0_CALLBACK_URL set, the web app and the API use that Auth0 tenant
// instead, and the demo serves them for a real browser (a script cannot log
// in to Auth0's Universal Login).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"

	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/devauth"
	"github.com/apiguard/apiguard/examples/internal/grpcapi"
	"github.com/apiguard/apiguard/examples/internal/jwtutil"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

// options are the command line flags.
type options struct {
	serve bool   // serve for a real browser instead of the scripted walk
	token bool   // print an access token and a curl line, then serve
	addr  string // the web app's address
}

func main() {
	var o options
	flag.BoolVar(&o.serve, "serve", false, "serve for a real browser: print the URL to open and the demo users first, run until Ctrl-C (no scripted walk-through)")
	flag.BoolVar(&o.token, "token", false, "print a fresh access token for the API and the curl line that uses it, then serve until Ctrl-C")
	flag.StringVar(&o.addr, "addr", "", "loopback `host:port` for the web app (default: a free port)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, o, os.Stdout, os.Getenv))
}

// tokenScope is what -token asks for: enough for every API route.
const tokenScope = "openid read:contacts"

// run is main without the process: it returns the exit code. When serving,
// it returns once ctx ends.
func run(ctx context.Context, o options, out io.Writer, getenv func(string) string) int {
	auth0, err := stack.Auth0FromEnv(getenv)
	if err != nil {
		fmt.Fprintln(out, "demo:", err)
		return 2
	}
	if auth0 != nil && o.token {
		fmt.Fprintln(out, "demo: -token needs the demo's own authorization server (a script cannot log in to Auth0): unset AUTH0_DOMAIN")
		return 2
	}
	p := &printer{w: out}
	tokens := &tokenLog{p: p}
	opts := stack.Options{Auth0: auth0, OnToken: tokens.report, WebAppAddr: o.addr}
	if o.token {
		opts.AccessTokenLifetime = time.Hour // long enough to try things by hand
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	st, err := stack.Start(startCtx, opts)
	cancel()
	if err != nil {
		fmt.Fprintln(out, "demo: starting the servers:", err)
		return 1
	}
	defer st.Close()
	gs, err := startGRPC(st.Validator)
	if err != nil {
		fmt.Fprintln(out, "demo: starting the gRPC service:", err)
		return 1
	}
	defer gs.close()

	switch {
	case o.token:
		if err := printToken(ctx, p, st); err != nil {
			fmt.Fprintln(out, "demo:", err)
			return 1
		}
		printServers(p, st, gs)
	case o.serve || auth0 != nil:
		printOpen(p, st, auth0 == nil)
		printServers(p, st, gs)
	default:
		printServers(p, st, gs)
		w := &walk{p: p, b: browser.New(), st: st, tokens: tokens, grpc: gs}
		walkCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		w.run(walkCtx)
		cancel()
		if w.failed > 0 {
			p.printf("\nFAILED: %d step(s) did not behave as expected.\n", w.failed)
			return 1
		}
		p.printf("\nAll steps behaved as expected.\n")
		p.printf("Next: go run ./demo -serve to click through in a browser, go run ./demo -token to call the API by hand.\n")
		return 0
	}
	p.printf("\nPress Ctrl-C to stop.\n")
	<-ctx.Done()
	return 0
}

// printOpen prints the URL to open and, with devauth, whom to log in as.
func printOpen(p *printer, st *stack.Stack, demoUsers bool) {
	p.printf("Open %s/ in a browser.\n", st.WebAppURL)
	if !demoUsers {
		return
	}
	p.printf("Log in as one of the demo users (the login page lists them too):\n")
	for _, u := range []struct {
		user stack.DemoUser
		what string
	}{
		{stack.Alice, "read:contacts and write:contacts, member of " + stack.OrgAcme},
		{stack.Bob, "no permission: /api/contacts answers 403"},
		{stack.Carol, fmt.Sprintf("invited to %s: open %s/login?organization=%s&invitation=%s", stack.OrgAcme, st.WebAppURL, stack.OrgAcme, stack.CarolInvitation)},
	} {
		p.printf("  %-6s password %-11s %s\n", u.user.Username, u.user.Password, u.what)
	}
}

// printServers prints devauth's banner (when it runs) and where the three
// servers listen.
func printServers(p *printer, st *stack.Stack, gs *grpcService) {
	if st.AuthServer != nil {
		p.printf("%s\n", devauth.Banner)
	}
	p.printf("\nServers on loopback:\n")
	if st.AuthURL != "" {
		p.printf("  authorization server  %s   (issuer %s)\n", st.AuthURL, st.Issuer)
	} else {
		p.printf("  authorization server  %s   (Auth0)\n", st.Issuer)
	}
	p.printf("  API                   %s   (audience %s)\n", st.APIURL, st.Audience)
	p.printf("  web app               %s\n", st.WebAppURL)
	p.printf("  gRPC service          %s   (%s, plaintext)\n", gs.addr, grpcapi.Service)
}

// printToken signs alice in and prints her access token and a curl line
// that calls the API with it.
func printToken(ctx context.Context, p *printer, st *stack.Stack) error {
	tokCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	token, err := st.AccessToken(tokCtx, stack.Alice, tokenScope)
	if err != nil {
		return err
	}
	// Printing the token is the point: it is a throwaway token of this
	// development server, valid only while it runs.
	p.printf("Access token for %s (scope %q, valid 1 hour, while this demo runs):\n\n", stack.Alice.Username, tokenScope)
	p.printf("TOKEN='%s'\n", token)
	p.printf("curl -H \"Authorization: Bearer $TOKEN\" %s/api/contacts\n", st.APIURL)
	p.printf("\nOther routes: /api/private, /api/claims; /api/public needs no token.\n")
	return nil
}

// printer serialises output: the web app reports tokens from its own
// goroutines.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// tokenLog prints the token responses the web app receives and remembers
// the last refresh token, to show rotation.
type tokenLog struct {
	p *printer

	mu          sync.Mutex
	count       int
	lastAccess  string
	lastRefresh string
	lastScope   string
}

func (l *tokenLog) report(reason string, t *oauth2.Token) {
	scope, _ := t.Extra("scope").(string)
	id, _ := t.Extra("id_token").(string)
	l.mu.Lock()
	l.count++
	l.lastAccess, l.lastRefresh, l.lastScope = t.AccessToken, t.RefreshToken, scope
	l.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "    token response (%s), seen by the web app on the server side:\n", reason)
	fmt.Fprintf(&b, "      access_token   %s\n", jwtutil.Short(t.AccessToken))
	fmt.Fprintf(&b, "      id_token       %s\n", jwtutil.Short(id))
	fmt.Fprintf(&b, "      refresh_token  %s\n", jwtutil.Short(t.RefreshToken))
	fmt.Fprintf(&b, "      token_type     %s\n", t.TokenType)
	fmt.Fprintf(&b, "      expires_in     %ds\n", t.ExpiresIn)
	fmt.Fprintf(&b, "      scope          %s\n", scope)
	fmt.Fprintf(&b, "    access token claims (decoded):\n%s\n", indent(jwtutil.Pretty(t.AccessToken), "      "))
	l.p.printf("%s", b.String())
}

func (l *tokenLog) last() (count int, refresh, scope string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count, l.lastRefresh, l.lastScope
}

// access returns the last access token the web app received.
func (l *tokenLog) access() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastAccess
}

// walk is the scripted walk-through.
type walk struct {
	p      *printer
	b      *browser.Browser
	st     *stack.Stack
	tokens *tokenLog
	grpc   *grpcService
	n      int
	failed int
}

func (w *walk) step(title string) {
	w.n++
	w.p.printf("\n%d. %s\n", w.n, title)
}

// check records and prints whether a step behaved as expected.
func (w *walk) check(ok bool, format string, args ...any) bool {
	mark := "ok  "
	if !ok {
		mark = "FAIL"
		w.failed++
	}
	w.p.printf("    [%s] %s\n", mark, fmt.Sprintf(format, args...))
	return ok
}

func (w *walk) run(ctx context.Context) {
	if !w.signIn(ctx) {
		return
	}
	w.step("Call the API from the web app with the access token")
	w.call(ctx, "public", http.StatusOK)
	w.call(ctx, "private", http.StatusOK)
	w.call(ctx, "contacts", http.StatusOK)
	if body := w.call(ctx, "claims", http.StatusOK); body != "" {
		w.p.printf("    /api/claims answered:\n%s\n", indent(prettyJSON(body), "      "))
	}

	w.stepUpWalk(ctx)

	w.step("Call the API directly without a token")
	w.noToken(ctx)
	w.dpopWalk(ctx)

	w.step("Call the gRPC service with the same access token")
	w.callGRPC(ctx, tokenScope, codes.OK)

	w.step("Refresh the tokens (refresh token rotation)")
	_, before, _ := w.tokens.last()
	if w.submitHome(ctx, "refresh") {
		_, after, _ := w.tokens.last()
		w.check(after != "" && after != before, "a new refresh token replaced the old one (%s -> %s)", jwtutil.Short(before), jwtutil.Short(after))
	}
	w.call(ctx, "contacts", http.StatusOK)

	w.step("Refresh with a narrower scope, without read:contacts")
	if w.submitHome(ctx, "refresh-narrow") {
		_, _, scope := w.tokens.last()
		w.check(!strings.Contains(scope, "read:contacts"), "the new access token's scope is %q", scope)
	}
	w.call(ctx, "private", http.StatusOK)
	w.call(ctx, "contacts", http.StatusForbidden)
	w.callGRPC(ctx, "openid profile", codes.PermissionDenied)

	w.step("Log out")
	if w.submitHome(ctx, "logout") {
		home, err := w.b.Get(ctx, w.st.WebAppURL+"/")
		w.check(err == nil && home.Has("signin"), "back on the web app, signed out")
	}
}

// signIn clicks "Sign in", logs in as alice, consents and lands back on
// the web app.
func (w *walk) signIn(ctx context.Context) bool {
	w.step("Open the web app and click \"Sign in\"")
	home, err := w.b.Get(ctx, w.st.WebAppURL+"/")
	if !w.check(err == nil && home.Has("signin"), "home page shows #signin") {
		return false
	}
	login, err := home.Link("signin")
	if err != nil {
		w.check(false, "%v", err)
		return false
	}
	first, err := w.b.NoFollow(ctx, login)
	if !w.check(err == nil && first.Status == http.StatusFound, "GET /login answers 302 to the authorization server") {
		return false
	}
	authURL := first.Header.Get("Location")
	u, err := url.Parse(authURL)
	if !w.check(err == nil && strings.HasPrefix(authURL, w.st.Issuer+"authorize?"), "authorization URL is %sauthorize", w.st.Issuer) {
		return false
	}
	q := u.Query()
	w.p.printf("    authorization URL parameters:\n")
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.p.printf("      %-22s %s\n", k, q.Get(k))
	}
	w.check(q.Get("code_challenge_method") == "S256" && q.Get("code_challenge") != "", "PKCE S256 challenge present")
	w.check(q.Get("state") != "" && q.Get("nonce") != "" && q.Get("audience") == w.st.Audience, "state, nonce and audience present")
	state := q.Get("state")

	w.step("The authorization server shows its login form; log in as " + stack.Alice.Username)
	page, err := w.b.Get(ctx, authURL)
	if !w.check(err == nil && page.Has("login-form"), "login form shown") {
		return false
	}
	page, err = w.b.Submit(ctx, page, "login-form", map[string]string{"username": stack.Alice.Username, "password": stack.Alice.Password}, "login")
	if !w.check(err == nil && page.Has("consent-form"), "consent page asks for: %s", strings.Join(strings.Fields(page.Text("scopes")), " ")) {
		return false
	}

	w.step("Accept the consent; the browser goes back to the callback")
	var hops []browser.Hop
	w.b.OnHop = func(h browser.Hop) {
		hops = append(hops, h)
		line := fmt.Sprintf("    %s %s -> %d", h.Method, oneLine(h.URL, 100), h.Status)
		if h.Location != "" {
			line += ", Location: " + oneLine(h.Location, 100)
		}
		w.p.printf("%s\n", line)
	}
	page, err = w.b.Submit(ctx, page, "consent-form", nil, "consent-accept")
	w.b.OnHop = nil
	if !w.check(err == nil && len(hops) > 0, "consent submitted") {
		return false
	}
	back, _ := url.Parse(hops[0].Location)
	w.check(hops[0].Status == http.StatusFound && back != nil && back.Query().Get("code") != "",
		"%d to %s with code=%s", hops[0].Status, strings.SplitN(hops[0].Location, "?", 2)[0], jwtutil.Short(back.Query().Get("code")))
	w.check(back != nil && back.Query().Get("state") == state, "state=%s came back untouched", jwtutil.Short(back.Query().Get("state")))
	w.check(page.Has("welcome"), "the web app exchanged the code, verified the ID token (nonce included) and signed in %q", page.Text("user-name"))
	return page.Has("welcome")
}

// call asks the web app to call one API endpoint and checks the status.
func (w *walk) call(ctx context.Context, name string, want int) string {
	page, err := w.b.Get(ctx, w.st.WebAppURL+"/call/"+name)
	if err != nil {
		w.check(false, "GET /api/%s: %v", name, err)
		return ""
	}
	got := page.Text("api-status")
	extra := ""
	if h := page.Text("api-www-authenticate"); h != "" {
		extra = "  WWW-Authenticate: " + h
	} else if name != "claims" {
		extra = "  " + oneLine(page.Text("api-result"), 80)
	}
	w.check(got == fmt.Sprint(want), "GET /api/%-9s -> %s (want %d)%s", name, got, want, extra)
	return page.Text("api-result")
}

func (w *walk) noToken(ctx context.Context) {
	for _, path := range []string{"/api/public", "/api/private"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.st.APIURL+path, nil)
		if err != nil {
			w.check(false, "GET %s: %v", path, err)
			continue
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.check(false, "GET %s: %v", path, err)
			continue
		}
		resp.Body.Close()
		want := http.StatusOK
		if path == "/api/private" {
			want = http.StatusUnauthorized
		}
		extra := ""
		if h := resp.Header.Get("WWW-Authenticate"); h != "" {
			extra = "  WWW-Authenticate: " + h
		}
		w.check(resp.StatusCode == want, "GET %-12s -> %d (want %d)%s", path, resp.StatusCode, want, extra)
	}
}

// submitHome presses one of the home page's buttons.
func (w *walk) submitHome(ctx context.Context, button string) bool {
	home, err := w.b.Get(ctx, w.st.WebAppURL+"/")
	if err != nil {
		return w.check(false, "home page: %v", err)
	}
	page, err := w.b.Submit(ctx, home, button+"-form", nil, button)
	return w.check(err == nil && page.Status == http.StatusOK && !page.Has("error"), "pressed #%s", button)
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func prettyJSON(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// stepUpWalk calls /api/mfa, which wants a multi-factor sign-in at most
// 600 s old (RFC 9470): the API refuses the password-only token, the web
// app sends the browser back to /authorize with the challenge's acr_values
// and max_age, the script types the one-time code devauth shows, and the
// web app calls again.
func (w *walk) stepUpWalk(ctx context.Context) {
	w.step("Step up: GET /api/mfa wants a second factor (RFC 9470)")
	var hops []browser.Hop
	w.b.OnHop = func(h browser.Hop) { hops = append(hops, h) }
	page, err := w.b.Get(ctx, w.st.WebAppURL+"/call/mfa")
	w.b.OnHop = nil
	if !w.check(err == nil && page.Has("mfa-form"), "the web app got 401 insufficient_user_authentication and sent the browser to the second factor") {
		return
	}
	for _, h := range hops {
		if u, err := url.Parse(h.URL); err == nil && strings.HasPrefix(h.URL, w.st.Issuer+"authorize?") {
			w.p.printf("    /authorize again with acr_values=%s max_age=%s\n", u.Query().Get("acr_values"), u.Query().Get("max_age"))
		}
	}
	code := page.Text("otp-code")
	w.p.printf("    devauth shows the development one-time code %s; typing it\n", code)
	page, err = w.b.Submit(ctx, page, "mfa-form", map[string]string{"code": code}, "verify")
	if !w.check(err == nil && page.Text("api-path") == "/api/mfa", "back on the web app, which called /api/mfa again") {
		return
	}
	w.check(page.Text("api-status") == "200", "GET /api/mfa       -> %s (want 200)  %s", page.Text("api-status"), oneLine(page.Text("api-result"), 80))
}
