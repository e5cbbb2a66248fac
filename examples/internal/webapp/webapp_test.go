package webapp_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/examples/internal/fakeoidc"
	"github.com/apiguard/apiguard/examples/internal/webapp"
)

// TestIssuerAsGiven: the web app takes the issuer exactly as given, so a
// provider whose issuer has no trailing slash works.
func TestIssuerAsGiven(t *testing.T) {
	p := fakeoidc.New(t)
	_, err := webapp.New(t.Context(), webapp.Config{
		Issuer: p.Issuer, ClientID: "c", RedirectURL: "http://127.0.0.1:3000/callback", APIBaseURL: "http://127.0.0.1:8081",
	})
	require.NoError(t, err)
	// With a slash added, OpenID discovery's issuer check refuses it.
	_, err = webapp.New(t.Context(), webapp.Config{
		Issuer: p.Issuer + "/", ClientID: "c", RedirectURL: "http://127.0.0.1:3000/callback", APIBaseURL: "http://127.0.0.1:8081",
	})
	require.Error(t, err)
}
