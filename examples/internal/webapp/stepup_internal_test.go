package webapp

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		name   string
		header string
		scheme string
		params map[string]string
		ok     bool
	}{
		{"bare", `Bearer realm="api"`, "Bearer", map[string]string{"realm": "api"}, true},
		{"scheme only", `Bearer`, "Bearer", map[string]string{}, true},
		{"step-up", `Bearer realm="api", error="insufficient_user_authentication", error_description="a more recent authentication is required", acr_values="http://schemas.openid.net/pape/policies/2007/06/multi-factor", max_age="600", resource_metadata="http://h/.well-known/oauth-protected-resource"`,
			"Bearer", map[string]string{
				"realm": "api", "error": "insufficient_user_authentication", "error_description": "a more recent authentication is required",
				"acr_values": "http://schemas.openid.net/pape/policies/2007/06/multi-factor", "max_age": "600",
				"resource_metadata": "http://h/.well-known/oauth-protected-resource",
			}, true},
		{"escapes and tokens", `DPoP realm="a\"b\\c", max_age=600 ,Error=x`, "DPoP", map[string]string{"realm": `a"b\c`, "max_age": "600", "error": "x"}, true},
		{"unterminated", `Bearer realm="api`, "", nil, false},
		{"two challenges", `Bearer realm="a", Basic realm="b"`, "", nil, false},
		{"duplicate parameter", `Bearer error="a", error="b"`, "", nil, false},
		{"token68", `Basic dXNlcg==`, "", nil, false},
		{"empty", ``, "", nil, false},
		{"garbage after value", `Bearer a="b" c="d"`, "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scheme, params, ok := parseChallenge(tt.header)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.scheme, scheme)
			assert.Equal(t, tt.params, params)
		})
	}
}

func TestStepUpChallenge(t *testing.T) {
	const mfa = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
	stepUpHeader := `Bearer realm="api", error="insufficient_user_authentication", acr_values="` + mfa + `", max_age="600"`
	tests := []struct {
		name string
		res  APIResult
		want stepUp
		ok   bool
	}{
		{"step-up", APIResult{Status: 401, SentToken: true, WWWAuthenticate: stepUpHeader}, stepUp{acrValues: mfa, maxAge: "600"}, true},
		{"max_age only", APIResult{Status: 401, SentToken: true, WWWAuthenticate: `Bearer error="insufficient_user_authentication", max_age="60"`}, stepUp{maxAge: "60"}, true},
		{"malformed max_age dropped", APIResult{Status: 401, SentToken: true, WWWAuthenticate: `Bearer error="insufficient_user_authentication", acr_values="x", max_age="-1"`}, stepUp{acrValues: "x"}, true},
		{"no token sent", APIResult{Status: 401, WWWAuthenticate: stepUpHeader}, stepUp{}, false},
		{"invalid token", APIResult{Status: 401, SentToken: true, WWWAuthenticate: `Bearer error="invalid_token"`}, stepUp{}, false},
		{"403", APIResult{Status: 403, SentToken: true, WWWAuthenticate: stepUpHeader}, stepUp{}, false},
		{"other scheme", APIResult{Status: 401, SentToken: true, WWWAuthenticate: `Basic error="insufficient_user_authentication"`}, stepUp{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := stepUpChallenge(tt.res)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}
