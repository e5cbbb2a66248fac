package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"

	"github.com/apiguard/apiguard/examples/internal/api"
)

// TestReviewMetadataContractWithPathAudience: issue 13's contract says
// GET /.well-known/oauth-protected-resource answers the metadata with
// resource = -audience, and every challenge carries
// resource_metadata="http://<host>/.well-known/oauth-protected-resource".
// Auth0 API identifiers often have a path (Auth0's quickstarts use
// https://quickstarts/api); the API then serves the document only under
// /.well-known/oauth-protected-resource/api and points challenges there.
func TestReviewMetadataContractWithPathAudience(t *testing.T) {
	const aud = "https://quickstarts/api"
	iss := validatortest.New(t, validatortest.Audience(aud))
	v, err := validator.New(t.Context(), iss.Config())
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	srv := httptest.NewServer(api.NewHandler(v, api.Settings{Issuer: iss.URL, Audience: aud}))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/.well-known/oauth-protected-resource")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "GET /.well-known/oauth-protected-resource")

	resp, err = http.Get(srv.URL + "/api/private")
	require.NoError(t, err)
	resp.Body.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"),
		`resource_metadata="http://`+host+`/.well-known/oauth-protected-resource"`)
}
