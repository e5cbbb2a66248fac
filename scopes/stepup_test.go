package scopes_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator/validatortest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const meta = "https://api.example.com/.well-known/oauth-protected-resource"

// TestRequireStepUp (RFC 9470): the acr, amr and auth_time rules, the
// challenge with only the configured parameters, the JSON body, and
// claim names of Auth0 Actions.
func TestRequireStepUp(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux := http.NewServeMux()
	mux.Handle("GET /mfa", scopes.RequireStepUp(scopes.StepUp{
		ACRValues: []string{scopes.MultiFactorACR}, AMRValues: []string{"mfa"}, MaxAge: 600 * time.Second,
	})(ok))
	mux.Handle("GET /acr", scopes.RequireStepUp(scopes.StepUp{ACRValues: []string{"urn:gold", "urn:silver"}})(ok))
	mux.Handle("GET /fresh", scopes.RequireStepUp(scopes.StepUp{MaxAge: 300 * time.Second})(ok))
	mux.Handle("GET /ns", scopes.RequireStepUp(scopes.StepUp{
		ACRValues: []string{scopes.MultiFactorACR}, AMRValues: []string{"mfa"}, MaxAge: 600 * time.Second,
		ACRClaim: "https://example.com/acr", AMRClaim: "https://example.com/amr", AuthTimeClaim: "https://example.com/auth_time",
	})(ok))
	mux.Handle("GET /scoped", scopes.RequireScope("read:contacts")(ok))
	var (
		mu   sync.Mutex
		last *middleware.Failure
	)
	srv := httptest.NewServer(middleware.New(v, middleware.WithResourceMetadata(meta),
		middleware.WithOnReject(func(_ *http.Request, f *middleware.Failure) { mu.Lock(); last = f; mu.Unlock() }))(mux))
	t.Cleanup(srv.Close)

	now := time.Now().Unix()
	mint := func(claims map[string]any) string {
		var opts []validatortest.TokenOption
		for k, v := range claims {
			opts = append(opts, validatortest.WithClaim(k, v))
		}
		return iss.Mint(opts...)
	}
	const (
		level = "a different authentication level is required"
		age   = "a more recent authentication is required"
	)
	mfa := func(desc string) string {
		return `Bearer realm="api", error="insufficient_user_authentication", error_description="` + desc + `", acr_values="` + scopes.MultiFactorACR + `", max_age="600", resource_metadata="` + meta + `"`
	}
	h, p, _ := segments(mint(map[string]any{"acr": scopes.MultiFactorACR, "auth_time": now}))

	for _, tt := range []struct {
		name, path, token string
		status            int
		www               string
	}{
		{"acr multi-factor, recent", "/mfa", mint(map[string]any{"acr": scopes.MultiFactorACR, "auth_time": now - 60}), 200, ""},
		{"amr holds mfa, recent", "/mfa", mint(map[string]any{"amr": []string{"pwd", "mfa"}, "auth_time": now - 60}), 200, ""},
		{"amr without mfa", "/mfa", mint(map[string]any{"amr": []string{"pwd"}, "auth_time": now - 60}), 401, mfa(level)},
		{"other acr", "/mfa", mint(map[string]any{"acr": "urn:weak", "auth_time": now - 60}), 401, mfa(level)},
		{"acr as an array", "/mfa", mint(map[string]any{"acr": []string{scopes.MultiFactorACR}, "auth_time": now - 60}), 401, mfa(level)},
		{"amr as a string", "/mfa", mint(map[string]any{"amr": "mfa", "auth_time": now - 60}), 401, mfa(level)},
		{"no acr, no amr", "/mfa", mint(map[string]any{"auth_time": now - 60}), 401, mfa(level)},
		{"multi-factor, no auth_time", "/mfa", mint(map[string]any{"acr": scopes.MultiFactorACR}), 401, mfa(age)},
		{"auth_time within the leeway", "/mfa", mint(map[string]any{"acr": scopes.MultiFactorACR, "auth_time": now - 605}), 200, ""},
		{"auth_time too old", "/mfa", mint(map[string]any{"acr": scopes.MultiFactorACR, "auth_time": now - 700}), 401, mfa(age)},
		{"auth_time in milliseconds", "/mfa", mint(map[string]any{"acr": scopes.MultiFactorACR, "auth_time": now * 1000}), 401, mfa(age)},
		{"auth_time slightly ahead", "/mfa", mint(map[string]any{"acr": scopes.MultiFactorACR, "auth_time": now + 5}), 200, ""},
		{"auth_time in the future", "/mfa", mint(map[string]any{"acr": scopes.MultiFactorACR, "auth_time": now + 120}), 401, mfa(age)},
		{"auth_time a string", "/mfa", mint(map[string]any{"acr": scopes.MultiFactorACR, "auth_time": "recent"}), 401, mfa(age)},
		{"auth_time negative", "/mfa", mint(map[string]any{"acr": scopes.MultiFactorACR, "auth_time": -1}), 401, mfa(age)},
		{"auth_time fractional", "/mfa", mint(map[string]any{"acr": scopes.MultiFactorACR, "auth_time": float64(now) - 0.5}), 200, ""},
		// Only the configured parameters.
		{"acr only: second value", "/acr", mint(map[string]any{"acr": "urn:silver"}), 200, ""},
		{"acr only: refused", "/acr", mint(map[string]any{"acr": "urn:bronze", "auth_time": now}), 401,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="` + level + `", acr_values="urn:gold urn:silver", resource_metadata="` + meta + `"`},
		{"max age only: recent", "/fresh", mint(map[string]any{"auth_time": now - 10}), 200, ""},
		{"max age only: old", "/fresh", mint(map[string]any{"auth_time": now - 400, "acr": "urn:gold"}), 401,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="` + age + `", max_age="300", resource_metadata="` + meta + `"`},
		// Namespaced claims of an Auth0 Action.
		{"namespaced amr", "/ns", mint(map[string]any{"https://example.com/amr": []string{"mfa"}, "https://example.com/auth_time": now - 60}), 200, ""},
		{"namespaced acr", "/ns", mint(map[string]any{"https://example.com/acr": scopes.MultiFactorACR, "https://example.com/auth_time": now - 60}), 200, ""},
		{"plain claims where namespaced are configured", "/ns", mint(map[string]any{"acr": scopes.MultiFactorACR, "amr": []string{"mfa"}, "auth_time": now}), 401, mfa(level)},
		// The middleware answers first.
		{"forged token with multi-factor claims", "/mfa", h + "." + p + ".AAAA", 401,
			`Bearer realm="api", error="invalid_token", error_description="signature not verified", resource_metadata="` + meta + `"`},
		{"no token", "/mfa", "", 401, `Bearer realm="api", resource_metadata="` + meta + `"`},
		// A 403 keeps error and scope, and points to the metadata too.
		{"scope guard", "/scoped", mint(nil), 403,
			`Bearer realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="read:contacts", resource_metadata="` + meta + `"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := get(t, http.MethodGet, srv.URL+tt.path, tt.token)
			require.Equal(t, tt.status, status, body)
			assert.Equal(t, tt.www, hdr.Get("WWW-Authenticate"))
			if tt.www == mfa(level) || tt.www == mfa(age) {
				// The body has the same error and parameters; the hook the class.
				var got map[string]string
				require.NoError(t, json.Unmarshal([]byte(body), &got))
				assert.Equal(t, "insufficient_user_authentication", got["error"])
				assert.Equal(t, scopes.MultiFactorACR, got["acr_values"])
				assert.Equal(t, "600", got["max_age"])
				mu.Lock()
				assert.ErrorIs(t, last, scopes.ErrStepUp)
				mu.Unlock()
			}
		})
	}
}

func TestRequireStepUpPanics(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]scopes.StepUp{
		"nothing required":          {},
		"only amr":                  {AMRValues: []string{"mfa"}, MaxAge: time.Minute},
		"negative max age":          {MaxAge: -time.Second},
		"milliseconds":              {MaxAge: 1500 * time.Millisecond},
		"empty acr value":           {ACRValues: []string{""}},
		"acr value with a space":    {ACRValues: []string{"urn:a urn:b"}},
		"acr value with a quote":    {ACRValues: []string{`urn:"a"`}},
		"leeway too large":          {MaxAge: time.Minute, Leeway: time.Hour},
		"negative leeway":           {MaxAge: time.Minute, Leeway: -time.Second},
		"leeway only, nothing else": {Leeway: time.Second},
	} {
		assert.Panics(t, func() { scopes.RequireStepUp(s) }, name)
	}
	assert.NotPanics(t, func() { scopes.RequireStepUp(scopes.StepUp{MaxAge: time.Second}) })
}

// TestStepUpCheck: Check decides as RequireStepUp does, without HTTP, for
// other transports; Params are the challenge's parameters.
func TestStepUpCheck(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	s := scopes.StepUp{ACRValues: []string{scopes.MultiFactorACR}, AMRValues: []string{"mfa"}, MaxAge: 600 * time.Second}
	now := time.Now()
	for _, tt := range []struct {
		name   string
		claims map[string]any
		ok     bool
	}{
		{"acr and fresh", map[string]any{"acr": scopes.MultiFactorACR, "auth_time": now.Unix() - 10}, true},
		{"amr mfa and fresh", map[string]any{"amr": []string{"mfa"}, "auth_time": now.Unix()}, true},
		{"other acr", map[string]any{"acr": "urn:pwd", "auth_time": now.Unix()}, false},
		{"stale", map[string]any{"acr": scopes.MultiFactorACR, "auth_time": now.Unix() - 611}, false},
		{"auth_time missing", map[string]any{"acr": scopes.MultiFactorACR}, false},
	} {
		var opts []validatortest.TokenOption
		for k, val := range tt.claims {
			opts = append(opts, validatortest.WithClaim(k, val))
		}
		c, err := v.Validate(t.Context(), iss.Mint(opts...))
		require.NoError(t, err)
		err = s.Check(c, now)
		if tt.ok {
			assert.NoError(t, err, tt.name)
		} else {
			assert.ErrorIs(t, err, scopes.ErrStepUp, tt.name)
		}
	}
	assert.Equal(t, []middleware.Param{{Name: "acr_values", Value: scopes.MultiFactorACR}, {Name: "max_age", Value: "600"}}, s.Params())
	assert.Panics(t, func() { _ = scopes.StepUp{}.Check(nil, now) })
}
