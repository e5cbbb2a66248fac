// Package api is the example's protected API: the routes of Auth0's API
// quickstart guarded by apiguard.
//
//	GET /api/public    200 without a token
//	GET /api/private   200 with any valid access token
//	GET /api/contacts  200 with scope read:contacts, else 403 insufficient_scope
//	GET /api/claims    200 with a JSON view of the validated claims
//	GET /api/mfa       200 after a multi-factor sign-in at most 600 s ago, else 401 insufficient_user_authentication (RFC 9470)
//	GET /healthz       200 while the process runs (liveness)
//	GET /readyz        200 once the issuer's signing keys are loaded, else 503 (readiness)
//	GET /.well-known/oauth-protected-resource  the API's metadata (RFC 9728)
//
// Rejections are written by the apiguard middleware (RFC 6750: 400, 401, 403
// or 503 with WWW-Authenticate); every 401 and 403 challenge carries
// resource_metadata="http://<Host>/.well-known/oauth-protected-resource",
// built from the request's Host, so that a client that meets the API cold
// finds the metadata and, in it, the authorization server.
package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/resource"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator"
)

// ContactsScope is the scope GET /api/contacts requires.
const ContactsScope = "read:contacts"

// MFAMaxAge is how recent the sign-in behind a token must be for GET
// /api/mfa.
const MFAMaxAge = 600 * time.Second

// MFAStepUp is what GET /api/mfa requires: a multi-factor sign-in (acr
// scopes.MultiFactorACR, or "mfa" in amr) at most MFAMaxAge ago.
var MFAStepUp = scopes.StepUp{
	ACRValues: []string{scopes.MultiFactorACR},
	AMRValues: []string{"mfa"},
	MaxAge:    MFAMaxAge,
}

// NewHandler returns the API's routes, protected by v, which accepts the
// tokens s describes; s.Issuer and s.Audience also fill the metadata. opts
// are passed to middleware.New after the API's own, so they may override
// them.
//
// An Audience that is not an absolute http(s) URL (Auth0 allows any
// string) cannot be an RFC 9728 resource identifier: the API then serves
// no metadata and its challenges carry no resource_metadata
// (MetadataWarning says so at start-up).
func NewHandler(v *validator.Validator, s Settings, opts ...middleware.Option) http.Handler {
	mux := http.NewServeMux()
	// The DPoP option of s comes first, so that opts (the api command's
	// -dpop, -dpop-nonce and -redis: Proofs.Option) can override it.
	own := []middleware.Option{s.DPoP.option()}
	if meta, err := resource.NewHandler(s.Metadata()); err == nil {
		// The contract's place is the plain well-known path, whatever the
		// audience; RFC 9728 section 3.1 derives another one from an
		// audience with a path (https://quickstarts/api ->
		// /.well-known/oauth-protected-resource/api): serve it there too.
		mux.Handle(resource.WellKnown, meta.At(resource.WellKnown))
		if meta.Path() != resource.WellKnown {
			mux.Handle(meta.Path(), meta)
		}
		own = append(own, middleware.WithResourceMetadataFunc(metadataURL(resource.WellKnown)))
	}
	guard := middleware.New(v, append(own, opts...)...)
	mux.HandleFunc("GET /api/public", public)
	mux.Handle("GET /api/private", guard(http.HandlerFunc(private)))
	mux.Handle("GET /api/contacts", guard(scopes.RequireScope(ContactsScope)(http.HandlerFunc(contacts))))
	mux.Handle("GET /api/claims", guard(http.HandlerFunc(claimsView)))
	mux.Handle("GET /api/mfa", guard(scopes.RequireStepUp(MFAStepUp)(http.HandlerFunc(mfa))))
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", readyz(v))
	return mux
}

// metadataURL returns the metadata's URL on the host the client asked
// for: the example API runs on loopback ports and behind whatever name a
// developer uses, so a fixed URL would be wrong more often than right. A
// public API behind a proxy should use its public URL instead.
func metadataURL(path string) func(r *http.Request) string {
	return func(r *http.Request) string {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return scheme + "://" + r.Host + path
	}
}

func public(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{
		"message": "Hello from a public endpoint! You don't need to be authenticated to see this.",
	})
}

// mustClaims returns the claims the middleware stored; the routes that call
// it are always behind the middleware.
func mustClaims(r *http.Request) *claims.Claims {
	c, ok := claims.FromContext(r.Context())
	if !ok {
		panic("api: route not protected by the middleware")
	}
	return c
}

func private(w http.ResponseWriter, r *http.Request) {
	c := mustClaims(r)
	writeJSON(w, map[string]string{
		"message": "Hello from a private endpoint! You need to be authenticated to see this.",
		"sub":     c.Subject,
	})
}

func mfa(w http.ResponseWriter, r *http.Request) {
	c := mustClaims(r)
	writeJSON(w, map[string]string{
		"message": "Hello from a step-up endpoint! You signed in with a second factor in the last 10 minutes.",
		"sub":     c.Subject,
	})
}

// Contact is one entry of the demo address book.
type Contact struct {
	Name  string `json:"name"`  // full name
	Email string `json:"email"` // e-mail address
}

var demoContacts = []Contact{
	{"Ada Lovelace", "ada@example.com"},
	{"Grace Hopper", "grace@example.com"},
	{"Edsger Dijkstra", "edsger@example.com"},
}

// Contacts returns the demo address book, which the MCP example serves
// too.
func Contacts() []Contact { return slices.Clone(demoContacts) }

func contacts(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"contacts": demoContacts})
}

// ClaimsView is the body of GET /api/claims.
type ClaimsView struct {
	Subject     string                     `json:"sub"`               // the user
	Issuer      string                     `json:"iss"`               // the authorization server
	Audience    []string                   `json:"aud"`               // the token's audiences
	Client      string                     `json:"azp"`               // the application
	Scopes      []string                   `json:"scopes"`            // granted scopes
	Permissions []string                   `json:"permissions"`       // Auth0 RBAC permissions
	OrgID       string                     `json:"org_id"`            // Auth0 organization, "" when none
	ExpiresAt   int64                      `json:"exp"`               // expiry, Unix seconds
	Thumbprint  string                     `json:"cnf_jkt,omitempty"` // DPoP key thumbprint (cnf.jkt); absent for Bearer tokens
	Custom      map[string]json.RawMessage `json:"custom"`            // custom claims, such as namespaced ones
}

// NewClaimsView builds the JSON view of validated claims.
func NewClaimsView(c *claims.Claims) ClaimsView {
	v := ClaimsView{
		Subject: c.Subject, Issuer: c.Issuer, Audience: c.Audience, Client: c.Client(),
		Scopes: c.Scopes, Permissions: c.Permissions, OrgID: c.OrgID,
		ExpiresAt: c.ExpiresAt.Unix(), Custom: map[string]json.RawMessage{},
		// The middleware refuses a bound token sent as Bearer, so cnf.jkt
		// here is the key of the DPoP proof it verified.
		Thumbprint: c.Confirmation.JKT,
	}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if v.Permissions == nil {
		v.Permissions = []string{}
	}
	for _, name := range c.CustomNames() {
		if raw, ok := c.Raw(name); ok {
			v.Custom[name] = json.RawMessage(raw)
		}
	}
	return v
}

func claimsView(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, NewClaimsView(mustClaims(r)))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
