package devauth

import (
	"net/http"
	"net/url"
)

// Resource indicators (RFC 8707). A client may name the API it wants a
// token for with resource instead of Auth0's audience parameter, as MCP
// clients do with the MCP server's URL. devauth accepts one resource per
// request, and only the identifier of a registered API (Config.APIs): an
// authorization server that minted tokens for any URL a client names would
// hand out tokens for servers it knows nothing about. A resource and an
// audience in the same request must name the same API.

// requestedAudience returns the API identifier an authorization request
// asks for: resource or audience, else the default audience; "" for none.
func (s *Server) requestedAudience(q url.Values) (string, *oauthError) {
	resource, audience := q.Get("resource"), q.Get("audience")
	if len(q["resource"]) > 1 {
		return "", errorf(http.StatusBadRequest, "invalid_target", "Only one resource per request is supported")
	}
	if q.Has("resource") {
		if oerr := s.checkResource(resource); oerr != nil {
			return "", oerr
		}
		if audience != "" && audience != resource {
			return "", errorf(http.StatusBadRequest, "invalid_target", "Parameters audience and resource name different APIs")
		}
		return resource, nil
	}
	if audience == "" {
		audience = s.cfg.DefaultAudience
	}
	if audience != "" && s.cfg.api(audience) == nil {
		return "", errorf(http.StatusForbidden, "access_denied", "Service not found: %s", audience)
	}
	return audience, nil
}

// checkResource checks one resource value: an absolute URI without
// fragment (RFC 8707 section 2) that is a registered API's identifier.
func (s *Server) checkResource(resource string) *oauthError {
	u, err := url.Parse(resource)
	if err != nil || !u.IsAbs() || u.Fragment != "" || u.RawFragment != "" || resource == "" {
		return errorf(http.StatusBadRequest, "invalid_target", "Parameter resource must be an absolute URI without fragment")
	}
	if s.cfg.api(resource) == nil {
		return errorf(http.StatusBadRequest, "invalid_target", "Resource not found: %s", resource)
	}
	return nil
}

// checkTokenResource checks the resource parameter of a token request: it
// may only repeat the API the grant is for (RFC 8707 section 2.2: a token
// request can narrow the resources of a grant, never widen them).
func (s *Server) checkTokenResource(form url.Values, g *grant) *oauthError {
	if !form.Has("resource") {
		return nil
	}
	resource := form.Get("resource")
	if oerr := s.checkResource(resource); oerr != nil {
		return oerr
	}
	if resource != g.audience {
		return errorf(http.StatusBadRequest, "invalid_target", "The resource was not part of the authorization")
	}
	return nil
}
