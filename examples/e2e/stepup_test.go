package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/devauth"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

// TestStepUp walks RFC 9470 through the web app: /api/mfa refuses the
// password-only token with insufficient_user_authentication, the web app
// sends the browser back to /authorize with the challenge's acr_values and
// max_age, devauth asks for the one-time code only (the session is fresh),
// and the call made again succeeds.
func TestStepUp(t *testing.T) {
	st := startStack(t, stack.Options{})
	b := browser.New()
	mustSignIn(t, st, b, stack.Alice)

	var hops []browser.Hop
	b.OnHop = func(h browser.Hop) { hops = append(hops, h) }
	p, err := b.Get(t.Context(), st.WebAppURL+"/call/mfa")
	require.NoError(t, err)
	b.OnHop = nil
	require.True(t, p.Has("mfa-form"), "second factor page expected, got %d %s", p.Status, p.URL)
	assert.False(t, p.Has("login-form"), "the session is fresh: no password again")
	var authorize string
	for _, h := range hops {
		if strings.HasPrefix(h.URL, st.Issuer+"authorize?") {
			authorize = h.URL
		}
	}
	assert.Contains(t, authorize, "acr_values=http%3A%2F%2Fschemas.openid.net%2Fpape%2Fpolicies%2F2007%2F06%2Fmulti-factor")
	assert.Contains(t, authorize, "max_age=600")

	p, err = b.Submit(t.Context(), p, "mfa-form", map[string]string{"code": p.Text("otp-code")}, "verify")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, p.Status)
	assert.Equal(t, "200", p.Text("api-status"), "the call made again: %s", p.Text("api-result"))
	assert.Contains(t, p.Text("api-result"), "step-up")

	// The new token serves the other routes and the step-up route again.
	status, _ := call(t, st, b, "mfa")
	assert.Equal(t, "200", status)
	status, body := call(t, st, b, "claims")
	require.Equal(t, "200", status)
	custom, _ := decodeJSON(t, body)["custom"].(map[string]any)
	assert.Equal(t, devauth.ACRMultiFactor, custom["acr"])
}

// TestStepUpNoLoop: a call that fails step-up right after a step-up sign-in
// shows the refusal instead of signing in again and again.
func TestStepUpNoLoop(t *testing.T) {
	st := startStack(t, stack.Options{})
	b := browser.New()
	mustSignIn(t, st, b, stack.Alice)
	p, err := b.Get(t.Context(), st.WebAppURL+"/call/mfa?stepped-up")
	require.NoError(t, err)
	assert.Equal(t, "401", p.Text("api-status"))
	assert.Contains(t, p.Text("api-www-authenticate"), `error="insufficient_user_authentication"`)
	assert.Len(t, p.Hops, 1, "no redirect")
}

// TestStepUpWithoutToken: signed out, the web app calls without a token and
// shows the bare 401: there is no sign-in to step up.
func TestStepUpWithoutToken(t *testing.T) {
	st := startStack(t, stack.Options{})
	b := browser.New()
	status, _ := call(t, st, b, "mfa")
	assert.Equal(t, "401", status)
}
