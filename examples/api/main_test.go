package main

import "testing"

func TestSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name             string
		issuer, audience string
		env              map[string]string
		wantIss, wantAud string
		wantErr          bool
	}{
		{name: "flags", issuer: "https://t.auth0.com/", audience: "https://a", wantIss: "https://t.auth0.com/", wantAud: "https://a"},
		{name: "env", env: map[string]string{"AUTH0_DOMAIN": "tenant.us.auth0.com", "AUTH0_AUDIENCE": "https://a"}, wantIss: "https://tenant.us.auth0.com/", wantAud: "https://a"},
		{name: "env with scheme and slash", env: map[string]string{"AUTH0_DOMAIN": "https://tenant.us.auth0.com/", "AUTH0_AUDIENCE": "https://a"}, wantIss: "https://tenant.us.auth0.com/", wantAud: "https://a"},
		{name: "flags win", issuer: "http://127.0.0.1:9/", audience: "x", env: map[string]string{"AUTH0_DOMAIN": "t", "AUTH0_AUDIENCE": "y"}, wantIss: "http://127.0.0.1:9/", wantAud: "x"},
		{name: "missing audience", issuer: "https://t/", wantErr: true},
		{name: "missing issuer", audience: "x", wantErr: true},
		{name: "issuer without slash", issuer: "https://t", audience: "x", wantErr: true},
		{name: "AUTH0_DOMAIN with another scheme", env: map[string]string{"AUTH0_DOMAIN": "http://tenant.us.auth0.com", "AUTH0_AUDIENCE": "https://a"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, aud, err := settings(tt.issuer, tt.audience, env(tt.env))
			if (err != nil) != tt.wantErr || iss != tt.wantIss || aud != tt.wantAud {
				t.Errorf("got %q %q %v", iss, aud, err)
			}
		})
	}
}
