// Package resource publishes OAuth 2.0 Protected Resource Metadata
// (RFC 9728): the JSON document that tells a client which authorization
// servers issue tokens for an API, which scopes it knows and how it takes
// tokens, so that a client that meets the API cold (an MCP client, for
// example) can find out how to get a token for it.
//
//	meta, err := resource.NewHandler(resource.Metadata{
//		Resource:               "https://contacts.example.com",
//		AuthorizationServers:   []string{"https://TENANT.us.auth0.com/"},
//		ScopesSupported:        []string{"read:contacts"},
//		BearerMethodsSupported: []string{"header"},
//	})
//	mux.Handle(meta.Path(), meta) // GET /.well-known/oauth-protected-resource
//	api := middleware.New(v, middleware.WithResourceMetadata(meta.URL()))
//
// With the middleware option, every challenge of the middleware and of the
// guards of package scopes carries resource_metadata="<URL>" (RFC 9728
// section 5.1), which is where such a client starts.
//
// The package stands alone: it imports nothing else of apiguard, and the
// middleware only needs the URL.
package resource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// WellKnown is the well-known URI string that RFC 9728 section 3
// registers; the metadata path starts with it.
const WellKnown = "/.well-known/oauth-protected-resource"

// Metadata is a protected resource metadata document, with every parameter
// of RFC 9728 section 2. Resource is required; every other field is
// optional and left out of the JSON when it is the zero value (section 3.2:
// parameters with zero values are omitted).
type Metadata struct {
	// Resource is the resource identifier: an absolute http or https URL
	// without query or fragment, usually the API identifier (the audience
	// of its tokens, RFC 8707). It is served exactly as given.
	Resource string `json:"resource"`
	// AuthorizationServers are the issuer identifiers of the authorization
	// servers that issue tokens for the resource (RFC 8414).
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	// JWKSURI is the URL of the resource's own JWK Set, for signed
	// responses or encrypted requests; not the issuer's keys.
	JWKSURI string `json:"jwks_uri,omitempty"`
	// ScopesSupported are the scope values the resource uses in
	// authorization requests.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported are the ways the resource takes a bearer
	// token: "header", "body" and "query" (RFC 6750 section 2). An empty
	// array, meaning none, cannot be expressed here since zero values are
	// omitted.
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	// ResourceSigningAlgValuesSupported are the JWS algorithms the
	// resource signs its responses with ("none" is not allowed).
	ResourceSigningAlgValuesSupported []string `json:"resource_signing_alg_values_supported,omitempty"`
	// ResourceName is a human-readable name of the resource.
	ResourceName string `json:"resource_name,omitempty"`
	// ResourceDocumentation is the URL of developer documentation.
	ResourceDocumentation string `json:"resource_documentation,omitempty"`
	// ResourcePolicyURI is the URL of the resource's data usage policy.
	ResourcePolicyURI string `json:"resource_policy_uri,omitempty"`
	// ResourceTOSURI is the URL of the resource's terms of service.
	ResourceTOSURI string `json:"resource_tos_uri,omitempty"`
	// TLSClientCertificateBoundAccessTokens says the resource supports
	// mutual-TLS certificate-bound access tokens (RFC 8705).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// AuthorizationDetailsTypesSupported are the authorization_details
	// types the resource understands (RFC 9396).
	AuthorizationDetailsTypesSupported []string `json:"authorization_details_types_supported,omitempty"`
	// DPoPSigningAlgValuesSupported are the JWS algorithms the resource
	// accepts for DPoP proofs (RFC 9449).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// DPoPBoundAccessTokensRequired says the resource always requires
	// DPoP-bound access tokens.
	DPoPBoundAccessTokensRequired bool `json:"dpop_bound_access_tokens_required,omitempty"`
	// SignedMetadata is a JWT, signed by a party the client trusts, whose
	// claims are metadata values (section 2.2). It is served as given.
	SignedMetadata string `json:"signed_metadata,omitempty"`
}

// ErrInvalid is the class of every error of [NewHandler], [Path] and
// [URL]: the metadata cannot be published as it is.
var ErrInvalid = errors.New("resource: invalid metadata")

// Path returns the path at which RFC 9728 section 3.1 places the metadata
// of the resource identified by resource: the well-known string inserted
// between the host and the path, with a terminating slash of the path
// removed. "https://api.example.com" and "https://api.example.com/" give
// "/.well-known/oauth-protected-resource";
// "https://api.example.com/v1/" gives
// "/.well-known/oauth-protected-resource/v1".
func Path(resource string) (string, error) {
	u, err := parseResource(resource)
	if err != nil {
		return "", err
	}
	return WellKnown + strings.TrimSuffix(u.EscapedPath(), "/"), nil
}

// URL returns the absolute URL of the metadata of the resource identified
// by resource: its scheme and host, followed by [Path].
func URL(resource string) (string, error) {
	u, err := parseResource(resource)
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + u.Host + WellKnown + strings.TrimSuffix(u.EscapedPath(), "/"), nil
}

func parseResource(resource string) (*url.URL, error) {
	if resource == "" {
		return nil, fmt.Errorf("%w: Resource is required", ErrInvalid)
	}
	u, err := url.Parse(resource)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: Resource is not a URL", ErrInvalid)
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "", u.Opaque != "":
		return nil, fmt.Errorf("%w: Resource %q is not an absolute http or https URL", ErrInvalid, resource)
	case u.User != nil:
		return nil, fmt.Errorf("%w: Resource %q has user information", ErrInvalid, resource)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(resource, "?#"):
		return nil, fmt.Errorf("%w: Resource %q has a query or a fragment (RFC 8707 section 2)", ErrInvalid, resource)
	}
	return u, nil
}

// Handler serves one metadata document at its RFC 9728 path. It is safe
// for concurrent use.
type Handler struct {
	path string
	url  string
	body []byte
}

// NewHandler checks m and returns the handler that serves it. It fails
// with [ErrInvalid] when Resource is missing or not an absolute http(s)
// URL without query and fragment, when a bearer method is not one of
// "header", "body" and "query", or when "none" is among the signing
// algorithms. m is copied: changing it afterwards changes nothing.
func NewHandler(m Metadata) (*Handler, error) {
	p, err := Path(m.Resource)
	if err != nil {
		return nil, err
	}
	u, _ := URL(m.Resource) // cannot fail once Path did not
	for _, b := range m.BearerMethodsSupported {
		if b != "header" && b != "body" && b != "query" {
			return nil, fmt.Errorf("%w: bearer method %q is not header, body or query", ErrInvalid, b)
		}
	}
	for _, a := range m.ResourceSigningAlgValuesSupported {
		if a == "none" {
			return nil, fmt.Errorf("%w: none is not a signing algorithm", ErrInvalid)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the document holds URLs: keep & < > as they are
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return &Handler{path: p, url: u, body: b.Bytes()}, nil
}

// Path returns the path the handler serves, for a router:
// mux.Handle(h.Path(), h).
func (h *Handler) Path() string { return h.path }

// URL returns the absolute URL of the document, from the resource
// identifier's scheme and host. When the API is reached under another host
// (a development server, a proxy), build the URL from the request instead,
// with [Handler.Path]; see middleware.WithResourceMetadataFunc.
func (h *Handler) URL() string { return h.url }

// At returns a handler that serves the same document at path, an
// absolute path of the API's host, instead of [Handler.Path]: for an API
// that promises its clients another place (the plain WellKnown path for an
// identifier with a path, say). The document, resource included, is
// unchanged; URL still names the RFC 9728 place.
func (h *Handler) At(path string) *Handler {
	if !strings.HasPrefix(path, "/") {
		panic("resource: At needs an absolute path")
	}
	c := *h
	c.path = path
	return &c
}

// ServeHTTP answers GET and HEAD at the handler's path with 200 and the
// document as application/json, readable by any origin (CORS: the document
// is public and carries no credentials); OPTIONS with 204 and the CORS
// preflight headers; other methods with 405 and Allow. Another path gets
// 404, so the handler may be mounted under a prefix.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.EscapedPath() != h.path {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Content-Length", strconv.Itoa(len(h.body)))
		hdr.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(h.body)
		}
	case http.MethodOptions:
		hdr.Set("Allow", allow)
		hdr.Set("Access-Control-Allow-Methods", allow)
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			// A simple GET needs none, but clients send MCP-Protocol-Version
			// and the like: the document is public, so any may be sent.
			hdr.Set("Access-Control-Allow-Headers", req)
		}
		hdr.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
	default:
		hdr.Set("Allow", allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

const allow = "GET, HEAD, OPTIONS"
