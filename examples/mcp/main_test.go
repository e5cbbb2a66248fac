package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name             string
		args             []string
		env              map[string]string
		wantIss, wantURL string
		wantErr          bool
	}{
		{name: "defaults", args: []string{"-issuer", "http://127.0.0.1:9/"}, wantIss: "http://127.0.0.1:9/", wantURL: "http://127.0.0.1:8082/mcp"},
		{name: "addr gives the default URL", args: []string{"-issuer", "https://i/", "-addr", "127.0.0.1:7"}, wantIss: "https://i/", wantURL: "http://127.0.0.1:7/mcp"},
		{name: "url as given", args: []string{"-issuer", "https://i/", "-url", "https://mcp.example.com/v1/mcp/"}, wantIss: "https://i/", wantURL: "https://mcp.example.com/v1/mcp/"},
		{name: "AUTH0_DOMAIN", env: map[string]string{"AUTH0_DOMAIN": "t.us.auth0.com"}, wantIss: "https://t.us.auth0.com/", wantURL: "http://127.0.0.1:8082/mcp"},
		{name: "no issuer", wantErr: true},
		{name: "relative url", args: []string{"-issuer", "https://i/", "-url", "/mcp"}, wantErr: true},
		{name: "url with query", args: []string{"-issuer", "https://i/", "-url", "https://m/mcp?x=1"}, wantErr: true},
		{name: "url with fragment", args: []string{"-issuer", "https://i/", "-url", "https://m/mcp#x"}, wantErr: true},
		{name: "jwks-url and discovery", args: []string{"-issuer", "https://i/", "-jwks-url", "https://i/k", "-discovery"}, wantErr: true},
		{name: "stray argument", args: []string{"-issuer", "https://i/", "x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantIss, c.Issuer)
			assert.Equal(t, tt.wantURL, c.Audience)
		})
	}
}
