package issuer_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/examples/internal/issuer"
)

func TestFromDomain(t *testing.T) {
	tests := []struct {
		domain, want string
		wantErr      bool
	}{
		{domain: "tenant.us.auth0.com", want: "https://tenant.us.auth0.com/"},
		{domain: "https://tenant.us.auth0.com/", want: "https://tenant.us.auth0.com/"},
		{domain: "", want: ""},
		{domain: "http://tenant.us.auth0.com", wantErr: true},
		{domain: "tenant.us.auth0.com/path", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			got, err := issuer.FromDomain(tt.domain)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWarning(t *testing.T) {
	tests := []struct {
		iss  string
		warn bool
	}{
		{"https://tenant.us.auth0.com", true},
		{"https://TENANT.EU.AUTH0.COM", true},
		{"https://tenant.us.auth0.com/", false},
		{"https://login.example.com", false}, // the usual form elsewhere
		{"http://127.0.0.1:9000", false},
		{"https://notauth0.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.iss, func(t *testing.T) {
			w := issuer.Warning(tt.iss)
			assert.Equal(t, tt.warn, w != "", "warning %q", w)
			if tt.warn {
				assert.Contains(t, w, tt.iss+"/")
			}
		})
	}
}
