package resource_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apiguard/apiguard/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPathAndURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ resource, path, url string }{
		{"https://api.example.com", "/.well-known/oauth-protected-resource", "https://api.example.com/.well-known/oauth-protected-resource"},
		{"https://api.example.com/", "/.well-known/oauth-protected-resource", "https://api.example.com/.well-known/oauth-protected-resource"},
		{"https://api.example.com/resource1", "/.well-known/oauth-protected-resource/resource1", "https://api.example.com/.well-known/oauth-protected-resource/resource1"},
		{"https://api.example.com/v1/", "/.well-known/oauth-protected-resource/v1", "https://api.example.com/.well-known/oauth-protected-resource/v1"},
		{"https://api.example.com/a/b", "/.well-known/oauth-protected-resource/a/b", "https://api.example.com/.well-known/oauth-protected-resource/a/b"},
		{"http://127.0.0.1:8080/mcp", "/.well-known/oauth-protected-resource/mcp", "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"},
		{"https://api.example.com/caf%C3%A9", "/.well-known/oauth-protected-resource/caf%C3%A9", "https://api.example.com/.well-known/oauth-protected-resource/caf%C3%A9"},
	} {
		p, err := resource.Path(tt.resource)
		require.NoError(t, err, tt.resource)
		assert.Equal(t, tt.path, p, tt.resource)
		u, err := resource.URL(tt.resource)
		require.NoError(t, err)
		assert.Equal(t, tt.url, u, tt.resource)
	}
}

func TestInvalidMetadata(t *testing.T) {
	t.Parallel()
	for name, m := range map[string]resource.Metadata{
		"no resource":      {},
		"relative":         {Resource: "/api"},
		"bare domain":      {Resource: "api.example.com"},
		"other scheme":     {Resource: "urn:example:api"},
		"ftp":              {Resource: "ftp://api.example.com/"},
		"query":            {Resource: "https://api.example.com/?tenant=a"},
		"empty query":      {Resource: "https://api.example.com/?"},
		"fragment":         {Resource: "https://api.example.com/#x"},
		"user info":        {Resource: "https://user@api.example.com/"},
		"bearer method":    {Resource: "https://api.example.com", BearerMethodsSupported: []string{"cookie"}},
		"none signing alg": {Resource: "https://api.example.com", ResourceSigningAlgValuesSupported: []string{"none"}},
		"not a URL":        {Resource: "https://api.example.com/%zz"},
		"no host":          {Resource: "https:///path"},
	} {
		_, err := resource.NewHandler(m)
		assert.ErrorIs(t, err, resource.ErrInvalid, name)
	}
}

func get(t *testing.T, method, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// TestServeEveryField serves a document with every RFC 9728 section 2
// parameter and checks the JSON names and values.
func TestServeEveryField(t *testing.T) {
	t.Parallel()
	_, err := resource.NewHandler(resource.Metadata{
		Resource:                              "https://api.example.com/v1?",
		AuthorizationServers:                  []string{"https://tenant.us.auth0.com/"},
		JWKSURI:                               "https://api.example.com/jwks.json",
		ScopesSupported:                       []string{"read:contacts", "write:contacts"},
		BearerMethodsSupported:                []string{"header", "query"},
		ResourceSigningAlgValuesSupported:     []string{"RS256"},
		ResourceName:                          "Contacts <API> & more",
		ResourceDocumentation:                 "https://docs.example.com/",
		ResourcePolicyURI:                     "https://example.com/policy",
		ResourceTOSURI:                        "https://example.com/tos",
		TLSClientCertificateBoundAccessTokens: true,
		AuthorizationDetailsTypesSupported:    []string{"payment_initiation"},
		DPoPSigningAlgValuesSupported:         []string{"ES256", "EdDSA"},
		DPoPBoundAccessTokensRequired:         true,
		SignedMetadata:                        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
	})
	require.Error(t, err, "a query, even empty, is refused")
	h, err := resource.NewHandler(resource.Metadata{
		Resource:                              "https://api.example.com/v1",
		AuthorizationServers:                  []string{"https://tenant.us.auth0.com/"},
		JWKSURI:                               "https://api.example.com/jwks.json",
		ScopesSupported:                       []string{"read:contacts", "write:contacts"},
		BearerMethodsSupported:                []string{"header", "query"},
		ResourceSigningAlgValuesSupported:     []string{"RS256"},
		ResourceName:                          "Contacts <API> & more",
		ResourceDocumentation:                 "https://docs.example.com/",
		ResourcePolicyURI:                     "https://example.com/policy",
		ResourceTOSURI:                        "https://example.com/tos",
		TLSClientCertificateBoundAccessTokens: true,
		AuthorizationDetailsTypesSupported:    []string{"payment_initiation"},
		DPoPSigningAlgValuesSupported:         []string{"ES256", "EdDSA"},
		DPoPBoundAccessTokensRequired:         true,
		SignedMetadata:                        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	resp, body := get(t, http.MethodGet, srv.URL+"/.well-known/oauth-protected-resource/v1", nil)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.JSONEq(t, `{
		"resource": "https://api.example.com/v1",
		"authorization_servers": ["https://tenant.us.auth0.com/"],
		"jwks_uri": "https://api.example.com/jwks.json",
		"scopes_supported": ["read:contacts", "write:contacts"],
		"bearer_methods_supported": ["header", "query"],
		"resource_signing_alg_values_supported": ["RS256"],
		"resource_name": "Contacts <API> & more",
		"resource_documentation": "https://docs.example.com/",
		"resource_policy_uri": "https://example.com/policy",
		"resource_tos_uri": "https://example.com/tos",
		"tls_client_certificate_bound_access_tokens": true,
		"authorization_details_types_supported": ["payment_initiation"],
		"dpop_signing_alg_values_supported": ["ES256", "EdDSA"],
		"dpop_bound_access_tokens_required": true,
		"signed_metadata": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
	}`, body)
	assert.Contains(t, body, `"resource_name":"Contacts <API> & more"`, "no HTML escaping")
}

// TestServeResourceExactly: the served resource is the configured
// identifier byte for byte, with a path and with a trailing slash, and
// zero values are omitted.
func TestServeResourceExactly(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ resource, path string }{
		{"https://api.example.com", "/.well-known/oauth-protected-resource"},
		{"https://api.example.com/", "/.well-known/oauth-protected-resource"},
		{"https://api.example.com/contacts", "/.well-known/oauth-protected-resource/contacts"},
		{"https://api.example.com/contacts/", "/.well-known/oauth-protected-resource/contacts"},
		{"https://api.example.com/a&b", "/.well-known/oauth-protected-resource/a&b"},
		{"https://API.example.com:8443/x", "/.well-known/oauth-protected-resource/x"},
	} {
		t.Run(tt.resource, func(t *testing.T) {
			h, err := resource.NewHandler(resource.Metadata{Resource: tt.resource})
			require.NoError(t, err)
			assert.Equal(t, tt.path, h.Path())
			mux := http.NewServeMux()
			mux.Handle(h.Path(), h)
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			resp, body := get(t, http.MethodGet, srv.URL+tt.path, nil)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, `{"resource":"`+tt.resource+`"}`+"\n", body)
			var got struct{ Resource string }
			require.NoError(t, json.Unmarshal([]byte(body), &got))
			assert.Equal(t, tt.resource, got.Resource)
		})
	}
}

func TestServeMethods(t *testing.T) {
	t.Parallel()
	h, err := resource.NewHandler(resource.Metadata{Resource: "https://api.example.com/", AuthorizationServers: []string{"https://as.example.com/"}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u := srv.URL + resource.WellKnown
	origin := http.Header{"Origin": {"https://app.example.com"}}

	resp, doc := get(t, http.MethodGet, u, origin)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))

	resp, body := get(t, http.MethodHead, u, nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, len(doc), int(resp.ContentLength))
	assert.Empty(t, body)

	resp, _ = get(t, http.MethodOptions, u, http.Header{
		"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"},
		"Access-Control-Request-Headers": {"mcp-protocol-version"},
	})
	assert.Equal(t, 204, resp.StatusCode)
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "GET")
	assert.Equal(t, "mcp-protocol-version", resp.Header.Get("Access-Control-Allow-Headers"))

	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		resp, _ := get(t, m, u, nil)
		assert.Equal(t, 405, resp.StatusCode, m)
		assert.Equal(t, "GET, HEAD, OPTIONS", resp.Header.Get("Allow"), m)
	}
	resp, _ = get(t, http.MethodGet, u+"/other", nil)
	assert.Equal(t, 404, resp.StatusCode)
}

// TestMetadataIsCopied: changing the Metadata after NewHandler changes
// nothing served.
func TestMetadataIsCopied(t *testing.T) {
	t.Parallel()
	scopes := []string{"read:contacts"}
	h, err := resource.NewHandler(resource.Metadata{Resource: "https://api.example.com", ScopesSupported: scopes})
	require.NoError(t, err)
	scopes[0] = "admin"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, resource.WellKnown, nil))
	assert.True(t, strings.Contains(w.Body.String(), "read:contacts"))
}

// TestHandlerAt: the same document at another path, and only there.
func TestHandlerAt(t *testing.T) {
	h, err := resource.NewHandler(resource.Metadata{Resource: "https://api.example.com/v1"})
	require.NoError(t, err)
	require.Equal(t, "/.well-known/oauth-protected-resource/v1", h.Path())
	at := h.At(resource.WellKnown)
	for path, want := range map[string]int{resource.WellKnown: http.StatusOK, h.Path(): http.StatusNotFound} {
		w := httptest.NewRecorder()
		at.ServeHTTP(w, httptest.NewRequest("GET", "https://api.example.com"+path, nil))
		assert.Equal(t, want, w.Code, path)
		if want == http.StatusOK {
			assert.JSONEq(t, `{"resource":"https://api.example.com/v1"}`, w.Body.String())
		}
	}
	assert.Equal(t, h.URL(), at.URL())
	assert.Panics(t, func() { h.At("relative") })
}
