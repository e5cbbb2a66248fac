// Package mcpserver is an MCP server (Model Context Protocol, streamable
// HTTP transport) protected by apiguard as the MCP authorization
// specification asks:
//
//   - every request to the MCP endpoint needs a bearer access token whose
//     audience is the server's canonical URL (RFC 8707 resource indicators:
//     a token minted for another API is refused, never passed on);
//   - the server publishes its protected resource metadata (RFC 9728) at the
//     path derived from that URL, naming the authorization server;
//   - every 401 and 403 challenge points to it with resource_metadata, and a
//     tool call the token's scope does not cover is refused with HTTP 403
//     error="insufficient_scope", scope="<needed>" (the MCP scope challenge),
//     before the MCP SDK sees it.
//
// The MCP side is github.com/modelcontextprotocol/go-sdk. Its own
// auth.RequireBearerToken answers 403 without error="insufficient_scope"
// (a known bug there), so apiguard's middleware and guards write every
// answer; the SDK's middleware only carries the validated token's subject to
// the SDK, which binds each MCP session to the user who opened it.
package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/resource"
	"github.com/apiguard/apiguard/scopes"

	"github.com/apiguard/apiguard/examples/internal/api"
)

// ContactsScope is the scope the list_contacts tool needs.
const ContactsScope = api.ContactsScope

// ToolScopes maps each tool to the scope a call of it needs.
var ToolScopes = map[string]string{"list_contacts": ContactsScope}

// maxPeek bounds how much of a request body is read to find the tool a
// call names: the SDK's own limit, so nothing it would accept is missed.
const maxPeek = mcp.DefaultMaxRequestBodyBytes

// Config configures the server.
type Config struct {
	// URL is the server's canonical URL, such as
	// "https://mcp.example.com/mcp": the MCP endpoint is served at its
	// path, it is the resource identifier of the metadata, and tokens must
	// carry it as their audience (the validator's Audiences).
	URL string
	// Issuer is the authorization server's issuer identifier, named in
	// the metadata.
	Issuer string
	// Validator checks the tokens; usually a *validator.Validator with
	// Audiences []string{URL}.
	Validator middleware.TokenValidator
	// Middleware are further options of the apiguard middleware.
	Middleware []middleware.Option
}

// New returns the server's HTTP handler: the metadata document and the
// MCP endpoint.
func New(cfg Config) (http.Handler, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || cfg.Validator == nil || cfg.Issuer == "" {
		return nil, errors.New("mcpserver: URL, Issuer and Validator are required")
	}
	meta, err := resource.NewHandler(resource.Metadata{
		Resource:               cfg.URL,
		AuthorizationServers:   []string{cfg.Issuer},
		ScopesSupported:        []string{ContactsScope},
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "Contacts MCP server (apiguard example)",
	})
	if err != nil {
		return nil, fmt.Errorf("mcpserver: %w", err)
	}
	endpoint := u.EscapedPath()
	if endpoint == "" {
		endpoint = "/"
	}
	opts := append([]middleware.Option{middleware.WithResourceMetadata(meta.URL())}, cfg.Middleware...)
	guard := middleware.New(cfg.Validator, opts...)
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return newMCPServer() }, nil)

	mux := http.NewServeMux()
	mux.Handle(meta.Path(), meta)
	mux.Handle(endpoint, guard(requireToolScopes(sessionUser(streamable))))
	return mux, nil
}

// newMCPServer returns the MCP server with its tools.
func newMCPServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "apiguard-contacts", Version: "v1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{
		Name:        "list_contacts",
		Description: "Lists the contacts of the address book. Needs the read:contacts scope.",
	}, listContacts)
	return s
}

// ContactList is the structured output of list_contacts.
type ContactList struct {
	Contacts []api.Contact `json:"contacts"`
}

func listContacts(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, ContactList, error) {
	// Checked at the HTTP layer already; checked again here so that the
	// tool stays safe if it is ever served another way.
	if req.Extra == nil || req.Extra.TokenInfo == nil || !slices.Contains(req.Extra.TokenInfo.Scopes, ContactsScope) {
		return nil, ContactList{}, fmt.Errorf("the token lacks the %s scope", ContactsScope)
	}
	return nil, ContactList{Contacts: api.Contacts()}, nil
}

// requireToolScopes refuses, with the scope guard's 403
// insufficient_scope, a POST whose JSON-RPC message (or any message of a
// batch) calls a tool of ToolScopes the token's scope does not cover.
// Anything it cannot read is passed on unchanged for the SDK to answer.
func requireToolScopes(next http.Handler) http.Handler {
	guards := map[string]http.Handler{}
	for tool, scope := range ToolScopes {
		guards[tool] = scopes.RequireScope(scope)(next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		peek, err := io.ReadAll(io.LimitReader(r.Body, maxPeek+1))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(peek), r.Body), r.Body}
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		for _, tool := range calledTools(peek) {
			if g, ok := guards[tool]; ok {
				c, _ := claims.FromContext(r.Context())
				if c == nil || !c.HasScope(ToolScopes[tool]) {
					g.ServeHTTP(w, r) // answers 403; never reaches next
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// calledTools returns the names of the tools the tools/call messages of a
// JSON-RPC body name; a batch may hold several.
func calledTools(body []byte) []string {
	type message struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	var msgs []message
	body = bytes.TrimSpace(body)
	if bytes.HasPrefix(body, []byte("[")) {
		if json.Unmarshal(body, &msgs) != nil {
			return nil
		}
	} else {
		var m message
		if json.Unmarshal(body, &m) != nil {
			return nil
		}
		msgs = []message{m}
	}
	var tools []string
	for _, m := range msgs {
		if m.Method == "tools/call" {
			tools = append(tools, m.Params.Name)
		}
	}
	return tools
}

// sessionUser hands the validated token's subject and scopes to the MCP
// SDK as its auth.TokenInfo, the only way into its context: the SDK then
// refuses a session ID presented by another user (session hijacking) and
// tools see the scopes in req.Extra.TokenInfo. It runs after apiguard's
// middleware, so the SDK's middleware never answers a request itself.
func sessionUser(next http.Handler) http.Handler {
	verify := func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		c, ok := claims.FromContext(ctx)
		if !ok {
			return nil, auth.ErrInvalidToken // unreachable behind the middleware
		}
		return &auth.TokenInfo{
			Scopes: c.Scopes, Expiration: c.ExpiresAt,
			// Issuer and subject: a subject is only unique per issuer.
			UserID: c.Issuer + " " + c.Subject,
		}, nil
	}
	return auth.RequireBearerToken(verify, nil)(next)
}
