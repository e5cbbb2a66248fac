package devauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/devauth"
)

// clock is a settable devauth clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// authorizePage opens /authorize with params (plus extra) and returns the
// page the browser lands on: a form of devauth or the callback.
func (e *env) authorizePage(b *browser.Browser, extra url.Values) *browser.Page {
	e.t.Helper()
	params := e.authParams()
	for k, v := range extra {
		params[k] = v
	}
	p, err := b.Get(e.t.Context(), e.issuer+"authorize?"+params.Encode())
	require.NoError(e.t, err)
	return p
}

// tokenClaims exchanges the code of the callback page p and returns the
// access token's and ID token's claims.
func (e *env) tokenClaims(p *browser.Page) (at, id map[string]any) {
	e.t.Helper()
	require.True(e.t, p.URL.Query().Has("code"), "callback query %v", p.URL.Query())
	status, tok := e.exchange(p.URL.Query().Get("code"))
	require.Equal(e.t, http.StatusOK, status, "%v", tok)
	_, at = e.verifyJWT(tok["access_token"].(string))
	_, id = e.verifyJWT(tok["id_token"].(string))
	return at, id
}

func unix(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	require.True(t, ok, "not a number: %v", v)
	i, err := n.Int64()
	require.NoError(t, err)
	return i
}

var mfaParams = url.Values{"acr_values": {devauth.ACRMultiFactor}}

// TestStepUpSecondFactor: acr_values asking for multi-factor shows the
// one-time code page after the password (or instead of it, with a
// session); the tokens then say acr multi-factor, amr pwd+mfa and the time
// of the second factor. A second request finds the session multi-factor.
func TestStepUpSecondFactor(t *testing.T) {
	clk := &clock{now: time.Unix(1_900_000_000, 0)}
	e := newEnv(t, func(c *devauth.Config) { c.Now = clk.Now })
	b := browser.New()

	q := e.login(b, e.authParams(), "alice", "pw-alice")
	status, tok := e.exchange(q.Get("code"))
	require.Equal(t, http.StatusOK, status)
	_, at := e.verifyJWT(tok["access_token"].(string))
	assert.Equal(t, devauth.ACRPassword, at["acr"])
	assert.Equal(t, []string{"pwd"}, strs(at["amr"]))
	assert.Equal(t, clk.Now().Unix(), unix(t, at["auth_time"]))

	clk.advance(time.Minute)
	p := e.authorizePage(b, mfaParams)
	require.True(t, p.Has("mfa-form"), "the session skips the password, not the second factor: %s", p.Body)
	assert.False(t, p.Has("login-form"))
	code := p.Text("otp-code")
	require.Regexp(t, `^[0-9]{6}$`, code)

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	p, err := b.Submit(t.Context(), p, "mfa-form", map[string]string{"code": wrong}, "verify")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, p.Status)
	assert.Equal(t, "Wrong code.", p.Text("error"))
	assert.Equal(t, code, p.Text("otp-code"), "the same code stays valid after a typo")

	p, err = b.Submit(t.Context(), p, "mfa-form", map[string]string{"code": code}, "verify")
	require.NoError(t, err)
	at, id := e.tokenClaims(p)
	for name, c := range map[string]map[string]any{"access token": at, "ID token": id} {
		assert.Equal(t, devauth.ACRMultiFactor, c["acr"], name)
		assert.Equal(t, []string{"pwd", "mfa"}, strs(c["amr"]), name)
		assert.Equal(t, clk.Now().Unix(), unix(t, c["auth_time"]), "%s: auth_time is the second factor's", name)
	}

	// The browser's session is multi-factor now: no second prompt.
	p = e.authorizePage(b, mfaParams)
	at, _ = e.tokenClaims(p)
	assert.Equal(t, devauth.ACRMultiFactor, at["acr"])

	// A refresh keeps the sign-in's facts: refreshing is not signing in.
	clk.advance(time.Minute)
	status, tok = e.exchange(e.authorizePage(b, nil).URL.Query().Get("code"))
	require.Equal(t, http.StatusOK, status)
	status, tok = e.post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, true)
	require.Equal(t, http.StatusOK, status, "%v", tok)
	_, at = e.verifyJWT(tok["access_token"].(string))
	assert.Equal(t, clk.Now().Add(-time.Minute).Unix(), unix(t, at["auth_time"]), "the second factor's time")
	assert.Equal(t, devauth.ACRMultiFactor, at["acr"])
}

// TestStepUpUnknownACRIgnored: acr values devauth does not know are
// voluntary (OpenID Connect): the sign-in goes on and acr says what
// happened.
func TestStepUpUnknownACRIgnored(t *testing.T) {
	e := newEnv(t, nil)
	b := browser.New()
	e.login(b, e.authParams(), "alice", "pw-alice")
	p := e.authorizePage(b, url.Values{"acr_values": {"urn:example:loa:4"}})
	at, _ := e.tokenClaims(p)
	assert.Equal(t, devauth.ACRPassword, at["acr"])
}

func TestStepUpTooManyWrongCodes(t *testing.T) {
	e := newEnv(t, nil)
	b := browser.New()
	p := e.authorizePage(b, mfaParams)
	p, err := b.Submit(t.Context(), p, "login-form", map[string]string{"username": "alice", "password": "pw-alice"}, "login")
	require.NoError(t, err)
	require.True(t, p.Has("mfa-form"))
	form := p
	code := p.Text("otp-code")
	bad := "x" + code
	for range 4 {
		p, err = b.Submit(t.Context(), p, "mfa-form", map[string]string{"code": bad}, "verify")
		require.NoError(t, err)
		require.True(t, p.Has("mfa-form"))
	}
	p, err = b.Submit(t.Context(), p, "mfa-form", map[string]string{"code": bad}, "verify")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, p.Status)
	assert.Equal(t, "Too many attempts", p.Text("title"))
	// The sign-in is over: the right code no longer helps.
	p, err = b.Submit(t.Context(), form, "mfa-form", map[string]string{"code": code}, "verify")
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, p.Status)
	assert.False(t, p.URL.Query().Has("code"))
}

// TestStepUpPromptNone: a silent request cannot show the second factor.
func TestStepUpPromptNone(t *testing.T) {
	e := newEnv(t, nil)
	b := browser.New()
	e.login(b, e.authParams(), "alice", "pw-alice")
	p := e.authorizePage(b, url.Values{"acr_values": {devauth.ACRMultiFactor}, "prompt": {"none"}})
	assert.Equal(t, "interaction_required", p.URL.Query().Get("error"))
}

// TestMaxAge: a sign-in older than max_age counts as none; max_age=0
// always asks again; a malformed value is invalid_request.
func TestMaxAge(t *testing.T) {
	clk := &clock{now: time.Unix(1_900_000_000, 0)}
	e := newEnv(t, func(c *devauth.Config) { c.Now = clk.Now })
	b := browser.New()
	e.login(b, e.authParams(), "alice", "pw-alice")
	signedIn := clk.Now()

	clk.advance(600 * time.Second)
	p := e.authorizePage(b, url.Values{"max_age": {"600"}})
	at, id := e.tokenClaims(p)
	assert.Equal(t, signedIn.Unix(), unix(t, at["auth_time"]), "exactly max_age old is still fine")
	assert.Equal(t, signedIn.Unix(), unix(t, id["auth_time"]))

	clk.advance(time.Second)
	p = e.authorizePage(b, url.Values{"max_age": {"600"}})
	require.True(t, p.Has("login-form"), "601 s > max_age 600: sign in again")
	p, err := b.Submit(t.Context(), p, "login-form", map[string]string{"username": "alice", "password": "pw-alice"}, "login")
	require.NoError(t, err)
	at, _ = e.tokenClaims(p)
	assert.Equal(t, clk.Now().Unix(), unix(t, at["auth_time"]))

	p = e.authorizePage(b, nil)
	assert.True(t, p.URL.Query().Has("code"), "without max_age the session is enough")
	p = e.authorizePage(b, url.Values{"max_age": {"0"}})
	assert.True(t, p.Has("login-form"), "max_age=0 always signs in again")

	// max_age and acr_values together: password, then the second factor.
	clk.advance(time.Hour)
	p = e.authorizePage(b, url.Values{"max_age": {"600"}, "acr_values": {devauth.ACRMultiFactor}})
	require.True(t, p.Has("login-form"))
	p, err = b.Submit(t.Context(), p, "login-form", map[string]string{"username": "alice", "password": "pw-alice"}, "login")
	require.NoError(t, err)
	require.True(t, p.Has("mfa-form"))
	p, err = b.Submit(t.Context(), p, "mfa-form", map[string]string{"code": p.Text("otp-code")}, "verify")
	require.NoError(t, err)
	at, _ = e.tokenClaims(p)
	assert.Equal(t, devauth.ACRMultiFactor, at["acr"])

	for _, bad := range []string{"-1", "abc", "1.5", "01", "+5", "99999999999999999999"} {
		t.Run("max_age="+bad, func(t *testing.T) {
			page, err := browser.New().NoFollow(t.Context(), e.issuer+"authorize?"+withParams(e.authParams(), url.Values{"max_age": {bad}}).Encode())
			require.NoError(t, err)
			loc, err := url.Parse(page.Header.Get("Location"))
			require.NoError(t, err)
			assert.Equal(t, "invalid_request", loc.Query().Get("error"))
		})
	}
}

func withParams(p, extra url.Values) url.Values {
	for k, v := range extra {
		p[k] = v
	}
	return p
}

const otherAPI = "https://other.example.com/api"

// TestResourceParameter: RFC 8707's resource names the access token's
// audience at /authorize; only registered APIs, one at a time, and the
// same as audience when both are sent.
func TestResourceParameter(t *testing.T) {
	e := newEnv(t, func(c *devauth.Config) {
		c.APIs = append(c.APIs, devauth.API{Identifier: otherAPI, Scopes: []string{"read:other"}})
	})
	tests := []struct {
		name    string
		params  url.Values
		wantAud string // "" when the request fails
		wantErr string
	}{
		{"resource instead of audience", url.Values{"resource": {otherAPI}, "audience": nil}, otherAPI, ""},
		{"resource and the same audience", url.Values{"resource": {audience}}, audience, ""},
		{"resource and another audience", url.Values{"resource": {otherAPI}}, "", "invalid_target"},
		{"unregistered resource", url.Values{"resource": {"https://evil.example.com/"}, "audience": nil}, "", "invalid_target"},
		{"relative resource", url.Values{"resource": {"/api"}, "audience": nil}, "", "invalid_target"},
		{"resource with fragment", url.Values{"resource": {audience + "#x"}, "audience": nil}, "", "invalid_target"},
		{"empty resource", url.Values{"resource": {""}, "audience": nil}, "", "invalid_target"},
		{"two resources", url.Values{"resource": {audience, otherAPI}, "audience": nil}, "", "invalid_target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := e.authParams()
			for k, v := range tt.params {
				if v == nil {
					params.Del(k)
				} else {
					params[k] = v
				}
			}
			b := browser.New()
			if tt.wantErr != "" {
				page, err := b.NoFollow(t.Context(), e.issuer+"authorize?"+params.Encode())
				require.NoError(t, err)
				loc, err := url.Parse(page.Header.Get("Location"))
				require.NoError(t, err)
				assert.Equal(t, tt.wantErr, loc.Query().Get("error"), "%s", page.Header.Get("Location"))
				assert.Equal(t, "st-123", loc.Query().Get("state"))
				return
			}
			q := e.login(b, params, "alice", "pw-alice")
			status, tok := e.exchange(q.Get("code"))
			require.Equal(t, http.StatusOK, status, "%v", tok)
			_, at := e.verifyJWT(tok["access_token"].(string))
			assert.Equal(t, tt.wantAud, strs(at["aud"])[0])
		})
	}
}

// TestResourceAtTokenEndpoint: a token request's resource may only repeat
// the grant's API; a wrong one does not burn the code.
func TestResourceAtTokenEndpoint(t *testing.T) {
	e := newEnv(t, func(c *devauth.Config) {
		c.APIs = append(c.APIs, devauth.API{Identifier: otherAPI})
	})
	q := e.login(browser.New(), e.authParams(), "alice", "pw-alice")
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {e.callback},
		"code_verifier": {verifier},
	}
	for _, bad := range []string{otherAPI, "https://evil.example.com/", "not a uri"} {
		form.Set("resource", bad)
		status, body := e.post(form, true)
		assert.Equal(t, http.StatusBadRequest, status, bad)
		assert.Equal(t, "invalid_target", body["error"], bad)
	}
	form.Set("resource", audience)
	status, tok := e.post(form, true)
	require.Equal(t, http.StatusOK, status, "%v", tok)
	_, at := e.verifyJWT(tok["access_token"].(string))
	assert.True(t, slices.Contains(strs(at["aud"]), audience))

	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "resource": {otherAPI}}
	status, body := e.post(refresh, true)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_target", body["error"])
	refresh.Set("resource", audience)
	status, body = e.post(refresh, true)
	assert.Equal(t, http.StatusOK, status, "%v", body)
}
