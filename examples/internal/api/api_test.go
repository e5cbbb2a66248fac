package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/apiguard/apiguard/validator"

	"github.com/apiguard/apiguard/examples/internal/api"
	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/devauth"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

// fixture is devauth plus the API, both on httptest servers.
type fixture struct {
	issuer, callback, secret string
	api                      *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	auth := httptest.NewUnstartedServer(nil)
	f := &fixture{issuer: "http://" + auth.Listener.Addr().String() + "/", secret: "s3cret"}
	app := "http://127.0.0.1:1" // never contacted: the browser stops at the callback
	f.callback = app + "/callback"
	srv, err := devauth.New(stack.Tenant(f.issuer, f.secret, app))
	if err != nil {
		t.Fatal(err)
	}
	auth.Config.Handler = srv
	auth.Start()
	t.Cleanup(auth.Close)

	v, err := validator.New(t.Context(), validator.Config{Issuer: f.issuer, Audiences: []string{stack.Audience}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	f.api = httptest.NewServer(api.NewHandler(v, api.Settings{Issuer: f.issuer, Audience: stack.Audience}))
	t.Cleanup(f.api.Close)
	return f
}

// token logs user in with scope and returns the access token.
func (f *fixture) token(t *testing.T, user stack.DemoUser, scope string) string {
	t.Helper()
	b := browser.New()
	b.StopAt = func(u *url.URL) bool { return strings.HasPrefix(u.String(), f.callback) }
	q := url.Values{
		"response_type": {"code"}, "client_id": {stack.ClientID}, "redirect_uri": {f.callback},
		"scope": {scope}, "audience": {stack.Audience}, "state": {"s"},
	}
	p, err := b.Get(t.Context(), f.issuer+"authorize?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if p, err = b.Submit(t.Context(), p, "login-form", map[string]string{"username": user.Username, "password": user.Password}, "login"); err != nil {
		t.Fatal(err)
	}
	if p.Has("consent-form") { // consent is remembered after the first time
		if p, err = b.Submit(t.Context(), p, "consent-form", nil, "consent-accept"); err != nil {
			t.Fatal(err)
		}
	}
	loc, _ := url.Parse(p.Header.Get("Location"))
	resp, err := http.PostForm(f.issuer+"oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {f.callback},
		"client_id": {stack.ClientID}, "client_secret": {f.secret},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

func (f *fixture) get(t *testing.T, path, token string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.api.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func TestRoutes(t *testing.T) {
	f := newFixture(t)
	full := f.token(t, stack.Alice, "openid read:contacts")
	noScope := f.token(t, stack.Alice, "openid")
	tests := []struct {
		name, path, token string
		status            int
		challenge         string
	}{
		{"public without token", "/api/public", "", 200, ""},
		{"private without token", "/api/private", "", 401, `Bearer realm="api"`},
		{"private with token", "/api/private", noScope, 200, ""},
		{"private with garbage", "/api/private", "abc.def.ghi", 401, `error="invalid_token"`},
		{"private with two schemes", "/api/private", "a b", 400, `error="invalid_request"`},
		{"contacts with scope", "/api/contacts", full, 200, ""},
		{"contacts without scope", "/api/contacts", noScope, 403, `error="insufficient_scope"`},
		{"contacts without token", "/api/contacts", "", 401, `Bearer realm="api"`},
		{"claims", "/api/claims", noScope, 200, ""},
		{"wrong method", "/api/public", "", 405, ""},
		{"liveness", "/healthz", "", 200, ""},
		{"readiness with keys", "/readyz", "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodGet
			if tt.status == 405 {
				method = http.MethodPost
			}
			req, _ := http.NewRequest(method, f.api.URL+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != tt.status || !strings.Contains(got, tt.challenge) {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, got, tt.status, tt.challenge)
			}
			if tt.status == 403 && !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="read:contacts"`) {
				t.Errorf("403 does not name the scope: %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestClaimsView(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, stack.Alice, "openid read:contacts")
	resp, c := f.get(t, "/api/claims", tok)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	custom, _ := c["custom"].(map[string]any)
	roles, _ := custom[stack.RolesClaim].([]any)
	if c["sub"] != "auth0|alice" || c["iss"] != f.issuer || c["azp"] != stack.ClientID ||
		len(roles) != 2 || custom[stack.GreetingClaim] == nil {
		t.Errorf("claims view = %v", c)
	}
	if s, _ := c["scopes"].([]any); len(s) != 2 || s[1] != "read:contacts" {
		t.Errorf("scopes = %v", c["scopes"])
	}
	if p, _ := c["permissions"].([]any); len(p) != 2 {
		t.Errorf("permissions = %v", c["permissions"])
	}
	if org, ok := c["org_id"]; !ok || org != "" {
		t.Errorf("org_id = %v (present %v), want \"\" without an organization: the view always has every key", org, ok)
	}
}

// TestKeysUnavailable: while the issuer's keys cannot be loaded, the API
// answers 503 with Retry-After, not 401 and never 500.
func TestKeysUnavailable(t *testing.T) {
	dead := httptest.NewServer(nil)
	issuer := dead.URL + "/"
	dead.Close() // nothing listens there any more
	v, closeValidator, err := api.NewValidator(t.Context(), api.Settings{Issuer: issuer, Audience: stack.Audience})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeValidator)
	srv := httptest.NewServer(api.NewHandler(v, api.Settings{Issuer: issuer, Audience: stack.Audience}))
	t.Cleanup(srv.Close)

	// Any well-formed token from that issuer needs its keys.
	token := "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+issuer+`","sub":"u","aud":"`+stack.Audience+`","exp":9999999999}`)) +
		".c2ln"
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/private", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("got %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ := http.Get(srv.URL + "/api/public"); resp == nil || resp.StatusCode != http.StatusOK {
		t.Fatal("/api/public needs no keys")
	}
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusServiceUnavailable} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
