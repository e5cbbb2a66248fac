package devauth_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/devauth"
	"github.com/apiguard/apiguard/examples/internal/jwtutil"
)

const (
	audience     = "https://contacts.example.com"
	clientID     = "app"
	clientSecret = "app-secret"
	publicID     = "spa"
	verifier     = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-extra-long-enough"
)

// challenge is the S256 challenge of verifier.
func challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// env is one authorization server plus a callback server that answers 200,
// so that a browser can land on it.
type env struct {
	t        *testing.T
	srv      *devauth.Server
	issuer   string
	callback string
}

func newEnv(t *testing.T, mutate func(*devauth.Config)) *env {
	t.Helper()
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("callback reached"))
	}))
	t.Cleanup(cb.Close)
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String() + "/"
	cfg := devauth.Config{
		Issuer: issuer,
		Clients: []devauth.Client{
			{ID: clientID, Secret: clientSecret, Callbacks: []string{cb.URL + "/callback"}, LogoutURLs: []string{cb.URL + "/"}},
			{ID: publicID, Callbacks: []string{cb.URL + "/callback"}},
		},
		APIs: []devauth.API{{
			Identifier: audience, Scopes: []string{"read:contacts", "write:contacts"},
			RBAC: true, PermissionsInToken: true, AllowOfflineAccess: true,
		}},
		Users: []devauth.User{
			{ID: "auth0|alice", Username: "alice", Password: "pw-alice", Name: "Alice", Email: "alice@example.com",
				Permissions: map[string][]string{audience: {"read:contacts", "write:contacts"}}, Organizations: []string{"org_acme"}},
			{ID: "auth0|bob", Username: "bob", Password: "pw-bob", Name: "Bob", Email: "bob@example.com"},
			{ID: "auth0|carol", Username: "carol", Password: "pw-carol", Name: "Carol", Email: "carol@example.com"},
		},
		Organizations: []devauth.Organization{
			{ID: "org_acme", Name: "acme", Invitations: map[string]string{"inv_carol": "carol@example.com"}},
		},
		Actions: []devauth.PostLoginAction{func(_ context.Context, e *devauth.PostLoginEvent, api *devauth.PostLoginAPI) error {
			api.AccessToken.SetCustomClaim("https://example.com/roles", []string{"admin"})
			api.AccessToken.SetCustomClaim("https://foo/bar", "baz")
			api.AccessToken.SetCustomClaim("sub", "attacker") // restricted: ignored
			api.IDToken.SetCustomClaim("https://example.com/roles", []string{"admin"})
			return nil
		}},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := devauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	return &env{t: t, srv: srv, issuer: issuer, callback: cb.URL + "/callback"}
}

// authParams are the /authorize parameters of a normal login by the
// confidential client.
func (e *env) authParams() url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {e.callback},
		"scope": {"openid profile email offline_access read:contacts write:contacts"}, "audience": {audience},
		"state": {"st-123"}, "nonce": {"n-456"},
		"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"},
	}
}

// login runs /authorize, the login form and the consent form, and returns
// the callback's query.
func (e *env) login(b *browser.Browser, params url.Values, user, password string) url.Values {
	e.t.Helper()
	ctx := e.t.Context()
	p, err := b.Get(ctx, e.issuer+"authorize?"+params.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	if p.Has("login-form") {
		p, err = b.Submit(ctx, p, "login-form", map[string]string{"username": user, "password": password}, "login")
		if err != nil {
			e.t.Fatal(err)
		}
	}
	if p.Has("consent-form") {
		p, err = b.Submit(ctx, p, "consent-form", nil, "consent-accept")
		if err != nil {
			e.t.Fatal(err)
		}
	}
	if !strings.HasPrefix(p.URL.String(), e.callback) {
		e.t.Fatalf("did not land on the callback: %s %d %s", p.URL, p.Status, p.Body)
	}
	return p.URL.Query()
}

// post sends a form to the token endpoint and decodes the JSON answer.
func (e *env) post(form url.Values, basic bool) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(clientID, clientSecret)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		e.t.Fatalf("status %d: body is not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, m
}

func (e *env) exchange(code string) (int, map[string]any) {
	return e.post(url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.callback},
		"code_verifier": {verifier}, "client_id": {clientID}, "client_secret": {clientSecret},
	}, false)
}

// verifyJWT checks token's signature against the published JWKS and returns
// its header and claims.
func (e *env) verifyJWT(token string) (map[string]any, map[string]any) {
	e.t.Helper()
	resp, err := http.Get(e.issuer + ".well-known/jwks.json")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) != 1 {
		e.t.Fatalf("JWKS: %v %v", err, set)
	}
	k := set.Keys[0]
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if _, ok := k[private]; ok {
			e.t.Fatalf("JWKS leaks private member %q", private)
		}
	}
	if k["use"] != "sig" || k["alg"] != "RS256" || k["kty"] != "RSA" || k["kid"] == "" {
		e.t.Fatalf("JWKS key = %v", k)
	}
	n, _ := base64.RawURLEncoding.DecodeString(k["n"])
	ex, _ := base64.RawURLEncoding.DecodeString(k["e"])
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		e.t.Fatalf("not a JWT: %q", token)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		e.t.Fatalf("signature: %v", err)
	}
	var hdr map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(raw, &hdr)
	if hdr["kid"] != k["kid"] {
		e.t.Fatalf("kid %v, JWKS %v", hdr["kid"], k["kid"])
	}
	claims, err := jwtutil.Claims(token)
	if err != nil {
		e.t.Fatal(err)
	}
	return hdr, claims
}

func strs(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, s := range x {
			str, _ := s.(string)
			out = append(out, str)
		}
	}
	return out
}

func TestAuthorizationCodeFlow(t *testing.T) {
	e := newEnv(t, nil)
	q := e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	if q.Get("state") != "st-123" || q.Get("code") == "" {
		t.Fatalf("callback query = %v", q)
	}
	status, tok := e.exchange(q.Get("code"))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(86400) || tok["refresh_token"] == nil {
		t.Errorf("token response = %v", tok)
	}
	wantScope := "openid profile email offline_access read:contacts write:contacts"
	if tok["scope"] != wantScope {
		t.Errorf("scope = %v, want %q", tok["scope"], wantScope)
	}

	hdr, at := e.verifyJWT(tok["access_token"].(string))
	if hdr["typ"] != "JWT" || hdr["alg"] != "RS256" {
		t.Errorf("access token header = %v", hdr)
	}
	if at["iss"] != e.issuer || at["sub"] != "auth0|alice" || at["azp"] != clientID || at["scope"] != wantScope || at["org_id"] != nil {
		t.Errorf("access token claims = %v", at)
	}
	if aud := strs(at["aud"]); !slices.Equal(aud, []string{audience, e.issuer + "userinfo"}) {
		t.Errorf("aud = %v", aud)
	}
	if _, ok := at["gty"]; ok {
		t.Error("gty present")
	}
	if p := strs(at["permissions"]); !slices.Equal(p, []string{"read:contacts", "write:contacts"}) {
		t.Errorf("permissions = %v", p)
	}
	if strs(at["https://example.com/roles"])[0] != "admin" || at["https://foo/bar"] != "baz" {
		t.Errorf("custom claims missing: %v", at)
	}
	iat, _ := at["iat"].(json.Number).Int64()
	exp, _ := at["exp"].(json.Number).Int64()
	if exp-iat != 86400 {
		t.Errorf("exp - iat = %d", exp-iat)
	}

	_, id := e.verifyJWT(tok["id_token"].(string))
	if id["aud"] != clientID || id["nonce"] != "n-456" || id["sub"] != "auth0|alice" || id["name"] != "Alice" || id["email"] != "alice@example.com" {
		t.Errorf("ID token claims = %v", id)
	}
	if strs(id["https://example.com/roles"])[0] != "admin" {
		t.Errorf("ID token custom claim missing: %v", id)
	}

	req, _ := http.NewRequest(http.MethodGet, e.issuer+"userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	if status, ui := e.do(req); status != http.StatusOK || ui["sub"] != "auth0|alice" || ui["email"] != "alice@example.com" {
		t.Errorf("userinfo: %d %v", status, ui)
	}
	req.Header.Set("Authorization", "Bearer "+tok["id_token"].(string))
	if status, _ := e.do(req); status != http.StatusUnauthorized {
		t.Errorf("userinfo with an ID token: %d, want 401", status)
	}
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t, nil)
	req, _ := http.NewRequest(http.MethodGet, e.issuer+".well-known/openid-configuration", nil)
	_, d := e.do(req)
	want := map[string]string{
		"issuer":                 e.issuer,
		"authorization_endpoint": e.issuer + "authorize",
		"token_endpoint":         e.issuer + "oauth/token",
		"userinfo_endpoint":      e.issuer + "userinfo",
		"jwks_uri":               e.issuer + ".well-known/jwks.json",
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("%s = %v, want %s", k, d[k], v)
		}
	}
}

func TestScopesRBACAndOfflineAccess(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(*devauth.Config)
		user, pw    string
		scope       string
		wantScope   string
		wantRefresh bool
		wantPerms   []string // nil: claim absent
	}{
		{"RBAC drops scopes the user lacks", nil, "bob", "pw-bob",
			"openid read:contacts offline_access", "openid offline_access", true, []string{}},
		{"undefined scopes dropped", nil, "alice", "pw-alice",
			"openid read:contacts delete:everything", "openid read:contacts", false, []string{"read:contacts", "write:contacts"}},
		{"no offline access when the API forbids it", func(c *devauth.Config) { c.APIs[0].AllowOfflineAccess = false },
			"alice", "pw-alice", "openid offline_access read:contacts", "openid read:contacts", false, []string{"read:contacts", "write:contacts"}},
		{"RBAC off: scopes not limited, no permissions claim", func(c *devauth.Config) { c.APIs[0].RBAC = false },
			"bob", "pw-bob", "openid read:contacts", "openid read:contacts", false, nil},
		{"RBAC on without permissions in token", func(c *devauth.Config) { c.APIs[0].PermissionsInToken = false },
			"alice", "pw-alice", "read:contacts", "read:contacts", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.mutate)
			p := e.authParams()
			p.Set("scope", tt.scope)
			q := e.login(browser.New(), p, tt.user, tt.pw)
			status, tok := e.exchange(q.Get("code"))
			if status != http.StatusOK {
				t.Fatalf("exchange: %d %v", status, tok)
			}
			if tok["scope"] != tt.wantScope {
				t.Errorf("scope = %v, want %q", tok["scope"], tt.wantScope)
			}
			if _, has := tok["refresh_token"]; has != tt.wantRefresh {
				t.Errorf("refresh token present = %v, want %v", has, tt.wantRefresh)
			}
			_, at := e.verifyJWT(tok["access_token"].(string))
			perms, has := at["permissions"]
			if has != (tt.wantPerms != nil) || !slices.Equal(strs(perms), tt.wantPerms) && len(tt.wantPerms) > 0 {
				t.Errorf("permissions = %v, want %v", perms, tt.wantPerms)
			}
			if _, hasID := tok["id_token"]; hasID != strings.Contains(tt.wantScope, "openid") {
				t.Errorf("id_token present = %v", hasID)
			}
		})
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t, nil)
	q := e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	_, tok := e.exchange(q.Get("code"))
	rt1 := tok["refresh_token"].(string)
	refresh := func(rt, scope string) (int, map[string]any) {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if scope != "" {
			f.Set("scope", scope)
		}
		return e.post(f, true)
	}

	status, tok2 := refresh(rt1, "")
	if status != http.StatusOK || tok2["refresh_token"] == nil || tok2["refresh_token"] == rt1 || tok2["id_token"] == nil {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	rt2 := tok2["refresh_token"].(string)

	// Narrowing works and still rotates; the family keeps the full grant.
	status, tok3 := refresh(rt2, "openid read:contacts")
	if status != http.StatusOK || tok3["scope"] != "openid read:contacts" {
		t.Fatalf("narrow refresh: %d %v", status, tok3)
	}
	_, at := e.verifyJWT(tok3["access_token"].(string))
	if at["scope"] != "openid read:contacts" {
		t.Errorf("narrowed access token scope = %v", at["scope"])
	}
	rt3 := tok3["refresh_token"].(string)

	// Widening is refused, and does not consume the token.
	if status, body := refresh(rt3, "openid delete:everything"); status != http.StatusForbidden || body["error"] != "access_denied" {
		t.Errorf("wider scope: %d %v", status, body)
	}
	status, tok4 := refresh(rt3, "")
	if status != http.StatusOK || tok4["scope"] != "openid profile email offline_access read:contacts write:contacts" {
		t.Fatalf("refresh after narrowing: %d %v", status, tok4)
	}

	// Reusing a rotated token revokes the whole family, the newest too.
	if status, body := refresh(rt1, ""); status != http.StatusForbidden || body["error"] != "invalid_grant" {
		t.Errorf("reuse: %d %v", status, body)
	}
	if status, body := refresh(tok4["refresh_token"].(string), ""); status != http.StatusForbidden || body["error"] != "invalid_grant" {
		t.Errorf("after reuse detection: %d %v", status, body)
	}
}

func TestCodeExchangeErrors(t *testing.T) {
	tests := []struct {
		name   string
		form   func(code string) url.Values
		status int
		errStr string
	}{
		{"wrong verifier", func(c string) url.Values {
			return url.Values{"code_verifier": {strings.Repeat("x", 43)}}
		}, 403, "invalid_grant"},
		{"no verifier", func(c string) url.Values { return url.Values{"code_verifier": {""}} }, 403, "invalid_grant"},
		{"wrong redirect_uri", func(c string) url.Values {
			return url.Values{"redirect_uri": {"http://127.0.0.1:1/other"}}
		}, 403, "invalid_grant"},
		{"missing redirect_uri", func(c string) url.Values { return url.Values{"redirect_uri": {""}} }, 403, "invalid_grant"},
		{"unknown code", func(c string) url.Values { return url.Values{"code": {"nope"}} }, 403, "invalid_grant"},
		{"missing code", func(c string) url.Values { return url.Values{"code": {""}} }, 400, "invalid_request"},
		{"other client", func(c string) url.Values {
			return url.Values{"client_id": {publicID}, "client_secret": {""}}
		}, 403, "invalid_grant"},
		{"wrong secret", func(c string) url.Values { return url.Values{"client_secret": {"nope"}} }, 401, "invalid_client"},
	}
	e := newEnv(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := e.login(browser.New(), e.authParams(), "alice", "pw-alice")
			form := url.Values{
				"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {e.callback},
				"code_verifier": {verifier}, "client_id": {clientID}, "client_secret": {clientSecret},
			}
			for k, v := range tt.form(q.Get("code")) {
				if v[0] == "" {
					form.Del(k)
				} else {
					form[k] = v
				}
			}
			status, body := e.post(form, false)
			if status != tt.status || body["error"] != tt.errStr || body["error_description"] == "" {
				t.Errorf("got %d %v, want %d %s", status, body, tt.status, tt.errStr)
			}
			// A failed attempt does not burn the code for its rightful owner.
			if status, body := e.exchange(q.Get("code")); status != http.StatusOK {
				t.Errorf("exchange after failure: %d %v", status, body)
			}
		})
	}
}

func TestCodeReuseRevokesTokens(t *testing.T) {
	e := newEnv(t, nil)
	q := e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	status, tok := e.exchange(q.Get("code"))
	if status != http.StatusOK {
		t.Fatal(status, tok)
	}
	if status, body := e.exchange(q.Get("code")); status != http.StatusForbidden || body["error"] != "invalid_grant" {
		t.Errorf("reused code: %d %v", status, body)
	}
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}
	if status, body := e.post(f, true); status != http.StatusForbidden || body["error"] != "invalid_grant" {
		t.Errorf("refresh token of a reused code: %d %v", status, body)
	}
}

func TestCodeExpires(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	e := newEnv(t, func(c *devauth.Config) { c.Now = func() time.Time { return clock() } })
	q := e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	clock = func() time.Time { return now.Add(2 * time.Minute) }
	if status, body := e.exchange(q.Get("code")); status != http.StatusForbidden || body["error"] != "invalid_grant" {
		t.Errorf("expired code: %d %v", status, body)
	}
}

func TestPublicClient(t *testing.T) {
	e := newEnv(t, nil)
	p := e.authParams()
	p.Set("client_id", publicID)
	q := e.login(browser.New(), p, "alice", "pw-alice")
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {e.callback},
		"code_verifier": {verifier}, "client_id": {publicID},
	}
	if status, body := e.post(form, false); status != http.StatusOK {
		t.Errorf("public client exchange: %d %v", status, body)
	}
}

// TestAuthorizeErrors covers /authorize failures: those that must not
// redirect (unknown client, unregistered callback) and those that go back
// to the client with error and the untouched state.
func TestAuthorizeErrors(t *testing.T) {
	tests := []struct {
		name     string
		change   url.Values
		drop     string
		status   int    // for error pages
		oauthErr string // for redirected errors
	}{
		{name: "unknown client", change: url.Values{"client_id": {"nope"}}, status: 400},
		{name: "unregistered redirect_uri", change: url.Values{"redirect_uri": {"http://127.0.0.1:1/evil"}}, status: 400},
		{name: "redirect_uri prefix only", change: url.Values{"redirect_uri": {"http://127.0.0.1:1/callback/x"}}, status: 400},
		{name: "missing redirect_uri", drop: "redirect_uri", status: 400},
		{name: "implicit flow", change: url.Values{"response_type": {"token"}}, oauthErr: "unsupported_response_type"},
		{name: "plain PKCE", change: url.Values{"code_challenge_method": {"plain"}}, oauthErr: "invalid_request"},
		{name: "malformed challenge", change: url.Values{"code_challenge": {"short"}}, oauthErr: "invalid_request"},
		{name: "public client without PKCE", change: url.Values{"client_id": {publicID}, "code_challenge": {""}, "code_challenge_method": {""}}, oauthErr: "invalid_request"},
		{name: "unknown audience", change: url.Values{"audience": {"https://unknown.example.com"}}, oauthErr: "access_denied"},
		{name: "unknown organization", change: url.Values{"organization": {"org_nope"}}, oauthErr: "invalid_request"},
		{name: "invitation without organization", change: url.Values{"invitation": {"inv_carol"}}, oauthErr: "invalid_request"},
		{name: "unknown invitation", change: url.Values{"organization": {"org_acme"}, "invitation": {"inv_nope"}}, oauthErr: "invalid_request"},
		{name: "prompt none without session", change: url.Values{"prompt": {"none"}}, oauthErr: "login_required"},
		{name: "unknown prompt", change: url.Values{"prompt": {"sideways"}}, oauthErr: "invalid_request"},
		{name: "form_post not supported", change: url.Values{"response_mode": {"form_post"}}, oauthErr: "invalid_request"},
	}
	e := newEnv(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.authParams()
			for k, v := range tt.change {
				if v[0] == "" {
					p.Del(k)
				} else {
					p[k] = v
				}
			}
			p.Del(tt.drop)
			b := browser.New()
			page, err := b.NoFollow(t.Context(), e.issuer+"authorize?"+p.Encode())
			if err != nil {
				t.Fatal(err)
			}
			if tt.status != 0 {
				if page.Status != tt.status || page.Header.Get("Location") != "" || !page.Has("title") {
					t.Errorf("got %d Location=%q, want error page %d", page.Status, page.Header.Get("Location"), tt.status)
				}
				return
			}
			loc, err := url.Parse(page.Header.Get("Location"))
			if page.Status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), e.callback+"?") {
				t.Fatalf("got %d Location=%q, want redirect to callback", page.Status, page.Header.Get("Location"))
			}
			q := loc.Query()
			if q.Get("error") != tt.oauthErr || q.Get("error_description") == "" || q.Get("state") != "st-123" || q.Has("code") {
				t.Errorf("callback query = %v, want error %s with state", q, tt.oauthErr)
			}
		})
	}
}

func TestOrganizations(t *testing.T) {
	tests := []struct {
		name, user, pw, org, invitation string
		wantErr                         string
	}{
		{name: "member", user: "alice", pw: "pw-alice", org: "org_acme"},
		{name: "by name", user: "alice", pw: "pw-alice", org: "acme"},
		{name: "not a member", user: "bob", pw: "pw-bob", org: "org_acme", wantErr: "access_denied"},
		{name: "invited", user: "carol", pw: "pw-carol", org: "org_acme", invitation: "inv_carol"},
		{name: "invitation for someone else", user: "bob", pw: "pw-bob", org: "org_acme", invitation: "inv_carol", wantErr: "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			p := e.authParams()
			p.Set("organization", tt.org)
			if tt.invitation != "" {
				p.Set("invitation", tt.invitation)
			}
			q := e.login(browser.New(), p, tt.user, tt.pw)
			if tt.wantErr != "" {
				if q.Get("error") != tt.wantErr || q.Get("state") != "st-123" {
					t.Errorf("callback = %v, want %s", q, tt.wantErr)
				}
				return
			}
			status, tok := e.exchange(q.Get("code"))
			if status != http.StatusOK {
				t.Fatalf("exchange: %d %v", status, tok)
			}
			_, at := e.verifyJWT(tok["access_token"].(string))
			_, id := e.verifyJWT(tok["id_token"].(string))
			if at["org_id"] != "org_acme" || id["org_id"] != "org_acme" {
				t.Errorf("org_id: access %v, ID %v", at["org_id"], id["org_id"])
			}
		})
	}
}

func TestLoginAndConsentPages(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	b := browser.New()
	p, err := b.Get(ctx, e.issuer+"authorize?"+e.authParams().Encode())
	if err != nil || !p.Has("login-form") {
		t.Fatalf("login page: %v %d", err, p.Status)
	}
	if !strings.Contains(p.Body, "DEVELOPMENT ONLY") {
		t.Error("no development banner")
	}
	bad, err := b.Submit(ctx, p, "login-form", map[string]string{"username": "alice", "password": "wrong"}, "login")
	if err != nil || bad.Status != http.StatusUnauthorized || bad.Text("error") == "" {
		t.Fatalf("wrong password: %v %d", err, bad.Status)
	}

	// The form is bound to the browser that started the login.
	other := browser.New()
	stolen, err := other.Submit(ctx, bad, "login-form", map[string]string{"username": "alice", "password": "pw-alice"}, "login")
	if err != nil || stolen.Status != http.StatusBadRequest {
		t.Fatalf("form from another browser: %v %d", err, stolen.Status)
	}

	consent, err := b.Submit(ctx, bad, "login-form", map[string]string{"username": "alice", "password": "pw-alice"}, "login")
	if err != nil || !consent.Has("consent-form") || !strings.Contains(consent.Text("scopes"), "read:contacts") {
		t.Fatalf("consent page: %v %d", err, consent.Status)
	}
	denied, err := b.Submit(ctx, consent, "consent-form", nil, "consent-deny")
	if err != nil {
		t.Fatal(err)
	}
	if q := denied.URL.Query(); q.Get("error") != "access_denied" || q.Get("state") != "st-123" {
		t.Errorf("deny: %v", q)
	}
	// The transaction is spent: submitting the form again is refused.
	again, err := b.Submit(ctx, consent, "consent-form", nil, "consent-accept")
	if err != nil || again.Status != http.StatusBadRequest {
		t.Errorf("second consent submission: %v %d", err, again.Status)
	}

	// The single sign-on session skips the login form; prompt=login
	// brings it back.
	p, err = b.Get(ctx, e.issuer+"authorize?"+e.authParams().Encode())
	if err != nil || !p.Has("consent-form") {
		t.Fatalf("second authorize: %v %d", err, p.Status)
	}
	params := e.authParams()
	params.Set("prompt", "login")
	if p, err = b.Get(ctx, e.issuer+"authorize?"+params.Encode()); err != nil || !p.Has("login-form") {
		t.Fatalf("prompt=login: %v %d", err, p.Status)
	}

	// After consent, prompt=none succeeds silently.
	e.login(b, e.authParams(), "alice", "pw-alice")
	params.Set("prompt", "none")
	p, err = b.Get(ctx, e.issuer+"authorize?"+params.Encode())
	if err != nil || p.URL.Query().Get("code") == "" {
		t.Fatalf("prompt=none: %v %s", err, p.URL)
	}

	// Logout ends the session; returnTo must be allowed.
	lo, err := b.NoFollow(ctx, e.issuer+"v2/logout?"+url.Values{"client_id": {clientID}, "returnTo": {"http://127.0.0.1:1/evil"}}.Encode())
	if err != nil || lo.Status != http.StatusBadRequest {
		t.Fatalf("logout with bad returnTo: %v %d", err, lo.Status)
	}
	if _, err := b.Get(ctx, e.issuer+"v2/logout"); err != nil {
		t.Fatal(err)
	}
	if p, err = b.Get(ctx, e.issuer+"authorize?"+params.Encode()); err != nil || p.URL.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none after logout: %v %s", err, p.URL)
	}
}

// TestLoginPageListsUsers: with ShowUsersOnLogin, the login page (also
// after a wrong password) lists the users to log in as; without, it does
// not.
func TestLoginPageListsUsers(t *testing.T) {
	for _, show := range []bool{true, false} {
		t.Run(fmt.Sprint(show), func(t *testing.T) {
			e := newEnv(t, func(c *devauth.Config) {
				c.ShowUsersOnLogin = show
				c.Users[0].Hint = "holds read:contacts"
			})
			b := browser.New()
			p, err := b.Get(t.Context(), e.issuer+"authorize?"+e.authParams().Encode())
			require.NoError(t, err)
			bad, err := b.Submit(t.Context(), p, "login-form", map[string]string{"username": "alice", "password": "wrong"}, "login")
			require.NoError(t, err)
			for _, page := range []*browser.Page{p, bad} {
				require.True(t, page.Has("login-form"))
				assert.Equal(t, show, page.Has("demo-users"))
				if show {
					assert.Contains(t, page.Text("demo-users"), "alice")
					assert.Contains(t, page.Text("demo-users"), "pw-alice")
					assert.Contains(t, page.Text("demo-users"), "holds read:contacts")
				} else {
					assert.NotContains(t, page.Body, "pw-alice")
				}
			}
		})
	}
}

func TestActions(t *testing.T) {
	tests := []struct {
		name      string
		action    devauth.PostLoginAction
		wantErr   string
		wantScope string
	}{
		{"deny", func(_ context.Context, _ *devauth.PostLoginEvent, api *devauth.PostLoginAPI) error {
			api.Access.Deny("no entry")
			return nil
		}, "access_denied", ""},
		{"error", func(context.Context, *devauth.PostLoginEvent, *devauth.PostLoginAPI) error {
			return errors.New("boom")
		}, "access_denied", ""},
		{"panic", func(context.Context, *devauth.PostLoginEvent, *devauth.PostLoginAPI) error {
			panic("boom")
		}, "access_denied", ""},
		{"add and remove scopes", func(_ context.Context, e *devauth.PostLoginEvent, api *devauth.PostLoginAPI) error {
			if e.User.ID != "auth0|alice" || e.Audience != audience || !slices.Contains(e.User.Permissions, "read:contacts") {
				return errors.New("bad event")
			}
			api.AccessToken.AddScope("read:claims")
			api.AccessToken.RemoveScope("write:contacts")
			return nil
		}, "", "openid read:contacts read:claims"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *devauth.Config) { c.Actions = []devauth.PostLoginAction{tt.action} })
			p := e.authParams()
			p.Set("scope", "openid read:contacts write:contacts")
			q := e.login(browser.New(), p, "alice", "pw-alice")
			if q.Get("error") != tt.wantErr {
				t.Fatalf("callback = %v, want error %q", q, tt.wantErr)
			}
			if tt.wantErr != "" {
				return
			}
			_, tok := e.exchange(q.Get("code"))
			if tok["scope"] != tt.wantScope {
				t.Errorf("scope = %v, want %q", tok["scope"], tt.wantScope)
			}
		})
	}
}

// TestTokenEndpointNeverFails500 sends malformed requests: each gets an
// OAuth error in JSON with a 4xx status.
func TestTokenEndpointNeverFails500(t *testing.T) {
	e := newEnv(t, nil)
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, ctype, body string
		basic                     bool
		status                    int
		errStr                    string
	}{
		{"GET", http.MethodGet, "", "", false, 405, "invalid_request"},
		{"no content type", http.MethodPost, "", "grant_type=authorization_code", false, 400, "invalid_request"},
		{"text body", http.MethodPost, "text/plain", "hello", false, 400, "invalid_request"},
		{"bad JSON", http.MethodPost, "application/json", "{", false, 400, "invalid_request"},
		{"JSON number", http.MethodPost, "application/json", `{"grant_type":1}`, false, 400, "invalid_request"},
		{"bad form encoding", http.MethodPost, form, "grant_type=%zz", false, 400, "invalid_request"},
		{"repeated parameter", http.MethodPost, form, "grant_type=authorization_code&grant_type=refresh_token&client_id=app&client_secret=app-secret", false, 400, "invalid_request"},
		{"no client", http.MethodPost, form, "grant_type=authorization_code&code=x", false, 401, "invalid_client"},
		{"unknown client", http.MethodPost, form, "grant_type=authorization_code&code=x&client_id=nope", false, 401, "invalid_client"},
		{"wrong secret", http.MethodPost, form, "grant_type=authorization_code&code=x&client_id=app&client_secret=nope", false, 401, "invalid_client"},
		{"secret for public client", http.MethodPost, form, "grant_type=authorization_code&code=x&client_id=spa&client_secret=x", false, 401, "invalid_client"},
		{"basic and body secret", http.MethodPost, form, "grant_type=authorization_code&code=x&client_secret=app-secret", true, 400, "invalid_request"},
		{"missing grant_type", http.MethodPost, form, "client_id=app&client_secret=app-secret", false, 400, "invalid_request"},
		{"client_credentials", http.MethodPost, form, "grant_type=client_credentials&client_id=app&client_secret=app-secret", false, 403, "unauthorized_client"},
		{"unknown grant", http.MethodPost, form, "grant_type=magic&client_id=app&client_secret=app-secret", false, 400, "unsupported_grant_type"},
		{"garbage code", http.MethodPost, form, "grant_type=authorization_code&code=%00%FF&client_id=app&client_secret=app-secret", false, 403, "invalid_grant"},
		{"JSON body", http.MethodPost, "application/json", `{"grant_type":"authorization_code","code":"x","client_id":"app","client_secret":"app-secret"}`, false, 403, "invalid_grant"},
		{"missing refresh token", http.MethodPost, form, "grant_type=refresh_token&client_id=app&client_secret=app-secret", false, 400, "invalid_request"},
		{"unknown refresh token", http.MethodPost, form, "grant_type=refresh_token&refresh_token=x&client_id=app&client_secret=app-secret", false, 403, "invalid_grant"},
		{"huge body", http.MethodPost, form, "grant_type=" + strings.Repeat("a", 100<<10), false, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.issuer+"oauth/token", strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.basic {
				req.SetBasicAuth(clientID, clientSecret)
			}
			status, body := e.do(req)
			if status != tt.status || body["error"] != tt.errStr {
				t.Errorf("got %d %v, want %d %s", status, body, tt.status, tt.errStr)
			}
		})
	}
}

func TestUserinfoErrors(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name, auth string
		status     int
	}{
		{"no token", "", 401},
		{"not bearer", "Basic abc", 401},
		{"garbage", "Bearer abc", 401},
		{"forged JWT", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+"userinfo", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("got %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	ok := devauth.Config{Issuer: "http://127.0.0.1:1/", Clients: []devauth.Client{{ID: "a"}}}
	tests := []struct {
		name   string
		mutate func(*devauth.Config)
	}{
		{"issuer without slash", func(c *devauth.Config) { c.Issuer = "http://127.0.0.1:1" }},
		{"relative issuer", func(c *devauth.Config) { c.Issuer = "/x/" }},
		{"non-loopback issuer", func(c *devauth.Config) { c.Issuer = "https://tenant.example.com/" }},
		{"no clients", func(c *devauth.Config) { c.Clients = nil }},
		{"duplicate client", func(c *devauth.Config) { c.Clients = append(c.Clients, devauth.Client{ID: "a"}) }},
		{"relative callback", func(c *devauth.Config) { c.Clients[0].Callbacks = []string{"/cb"} }},
		{"unknown default audience", func(c *devauth.Config) { c.DefaultAudience = "x" }},
	}
	if _, err := devauth.New(ok); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			c.Clients = slices.Clone(ok.Clients)
			tt.mutate(&c)
			if _, err := devauth.New(c); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestNoAudienceGivesOpaqueToken(t *testing.T) {
	e := newEnv(t, nil)
	p := e.authParams()
	p.Del("audience")
	p.Set("scope", "openid email")
	q := e.login(browser.New(), p, "alice", "pw-alice")
	_, tok := e.exchange(q.Get("code"))
	at := tok["access_token"].(string)
	if strings.Count(at, ".") == 2 {
		t.Errorf("access token without audience is a JWT")
	}
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	if status, ui := e.do(req); status != http.StatusOK || ui["email"] != "alice@example.com" {
		t.Errorf("userinfo: %d %v", status, ui)
	}
}
