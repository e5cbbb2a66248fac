package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemo runs the whole walk-through: it exits 0 only when every step
// behaved as expected.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	code := run(false, "", &out, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("exit code %d:\n%s", code, out.String())
	}
	for _, want := range []string{
		"DEVELOPMENT ONLY", "authorization URL parameters", "code_challenge_method  S256",
		"302 to", "token response (code exchange)", `"https://example.com/roles"`,
		"GET /api/contacts  -> 403 (want 403)", `error="insufficient_scope"`,
		`GET /api/private -> 401 (want 401)  WWW-Authenticate: Bearer`,
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
	if code := run(false, "", &out, func(k string) string { return env[k] }); code != 2 {
		t.Fatalf("exit code %d, want 2: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "AUTH0_CLIENT_SECRET") {
		t.Errorf("message does not name the missing variable: %s", out.String())
	}
}
