package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/validator"

	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/devauth"
	"github.com/apiguard/apiguard/examples/internal/mcpserver"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

// mcpFixture is devauth and the MCP server, each on its own httptest
// server. The demo tenant has the MCP server's canonical URL registered as
// an API, so that devauth issues tokens for it.
type mcpFixture struct {
	issuer, secret, callback string
	url                      string // the MCP server's canonical URL
	base                     string // its scheme and host
}

func newMCPFixture(t *testing.T) *mcpFixture {
	t.Helper()
	auth := httptest.NewUnstartedServer(nil)
	srv := httptest.NewUnstartedServer(nil)
	f := &mcpFixture{
		issuer: "http://" + auth.Listener.Addr().String() + "/", secret: "s3cret",
		base: "http://" + srv.Listener.Addr().String(),
	}
	f.url = f.base + "/mcp"
	app := "http://127.0.0.1:1" // never contacted: the browser stops at the callback
	f.callback = app + "/callback"
	cfg := stack.Tenant(f.issuer, f.secret, app)
	stack.AddResource(&cfg, f.url, "Contacts MCP server")
	as, err := devauth.New(cfg)
	require.NoError(t, err)
	auth.Config.Handler = as
	auth.Start()
	t.Cleanup(auth.Close)

	// RFC 8707: the server accepts only tokens whose audience is its own
	// canonical URL.
	v, err := validator.New(t.Context(), validator.Config{Issuer: f.issuer, Audiences: []string{f.url}})
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	h, err := mcpserver.New(mcpserver.Config{URL: f.url, Issuer: f.issuer, Validator: v})
	require.NoError(t, err)
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return f
}

// token signs user in with scope and returns an access token for
// resource, asked for with RFC 8707's resource parameter at /authorize and
// at the token endpoint, as an MCP client does.
func (f *mcpFixture) token(t *testing.T, user stack.DemoUser, scope, resource string) string {
	t.Helper()
	b := browser.New()
	b.StopAt = func(u *url.URL) bool { return strings.HasPrefix(u.String(), f.callback) }
	q := url.Values{
		"response_type": {"code"}, "client_id": {stack.ClientID}, "redirect_uri": {f.callback},
		"scope": {scope}, "resource": {resource}, "state": {"s"},
	}
	p, err := b.Get(t.Context(), f.issuer+"authorize?"+q.Encode())
	require.NoError(t, err)
	p = loginAndConsent(t, b, p, user)
	loc, err := url.Parse(p.Header.Get("Location"))
	require.NoError(t, err)
	require.NotEmpty(t, loc.Query().Get("code"), "no code: %s", p.Header.Get("Location"))
	resp, err := http.PostForm(f.issuer+"oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {f.callback},
		"client_id": {stack.ClientID}, "client_secret": {f.secret}, "resource": {resource},
	})
	require.NoError(t, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return tok.AccessToken
}

// bearer adds the access token to every request of the MCP client.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// connect opens an MCP session with the go-sdk client, sending token.
func (f *mcpFixture) connect(t *testing.T, token string) (*mcp.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport}
	if token != "" {
		hc.Transport = bearer{token, http.DefaultTransport}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "apiguard-e2e", Version: "v0.0.1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: f.url, HTTPClient: hc, MaxRetries: -1}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

// post sends one JSON-RPC message to the MCP endpoint by hand, to read the
// HTTP answer the SDK client does not show.
func (f *mcpFixture) post(t *testing.T, token, sessionID, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if sessionID != "" {
		req.Header.Set("Mcp-Session-Id", sessionID)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

const (
	initialize   = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	callContacts = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_contacts","arguments":{}}}`
)

// TestMCPServer: the MCP server example end to end. A client with a token
// for the server's URL (RFC 8707) lists and calls list_contacts; without a
// token it gets 401 pointing to the metadata (RFC 9728), which names the
// authorization server; without read:contacts the call gets 403
// insufficient_scope; a token for another API is refused.
func TestMCPServer(t *testing.T) {
	f := newMCPFixture(t)
	metadataURL := f.base + "/.well-known/oauth-protected-resource/mcp"

	t.Run("metadata", func(t *testing.T) {
		resp, err := http.Get(metadataURL)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		assert.Equal(t, f.url, m["resource"])
		assert.Equal(t, []any{f.issuer}, m["authorization_servers"])
		assert.Equal(t, []any{"read:contacts"}, m["scopes_supported"])
		assert.Equal(t, []any{"header"}, m["bearer_methods_supported"])
	})

	t.Run("with read:contacts", func(t *testing.T) {
		cs, err := f.connect(t, f.token(t, stack.Alice, "openid read:contacts", f.url))
		require.NoError(t, err)
		tools, err := cs.ListTools(t.Context(), nil)
		require.NoError(t, err)
		require.Len(t, tools.Tools, 1)
		assert.Equal(t, "list_contacts", tools.Tools[0].Name)
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "list_contacts"})
		require.NoError(t, err)
		require.False(t, res.IsError, "%v", res.Content)
		out, err := json.Marshal(res.StructuredContent)
		require.NoError(t, err)
		assert.Contains(t, string(out), "Ada Lovelace")
	})

	t.Run("without a token", func(t *testing.T) {
		_, err := f.connect(t, "")
		require.Error(t, err)
		resp := f.post(t, "", "", initialize)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, `Bearer realm="api", resource_metadata="`+metadataURL+`"`, resp.Header.Get("WWW-Authenticate"))
	})

	t.Run("without read:contacts", func(t *testing.T) {
		token := f.token(t, stack.Alice, "openid", f.url)
		cs, err := f.connect(t, token)
		require.NoError(t, err, "any valid token opens a session and lists the tools")
		_, err = cs.ListTools(t.Context(), nil)
		require.NoError(t, err)
		_, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "list_contacts"})
		require.Error(t, err, "the call is refused with HTTP 403")

		resp := f.post(t, token, cs.ID(), callContacts)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		h := resp.Header.Get("WWW-Authenticate")
		assert.Contains(t, h, `error="insufficient_scope"`)
		assert.Contains(t, h, `scope="read:contacts"`)
		assert.Contains(t, h, `resource_metadata="`+metadataURL+`"`)
		// In a batch too.
		resp = f.post(t, token, cs.ID(), `[`+initialize+`,`+callContacts+`]`)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	})

	t.Run("token for another API", func(t *testing.T) {
		token := f.token(t, stack.Alice, "openid read:contacts", stack.Audience)
		_, err := f.connect(t, token)
		require.Error(t, err)
		resp := f.post(t, token, "", initialize)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		h := resp.Header.Get("WWW-Authenticate")
		assert.Contains(t, h, `error="invalid_token"`)
		assert.Contains(t, h, `resource_metadata="`+metadataURL+`"`)
	})

	t.Run("session of another user", func(t *testing.T) {
		cs, err := f.connect(t, f.token(t, stack.Alice, "openid read:contacts", f.url))
		require.NoError(t, err)
		bob := f.token(t, stack.Bob, "openid", f.url)
		resp := f.post(t, bob, cs.ID(), `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the SDK binds the session to alice")
	})
}
