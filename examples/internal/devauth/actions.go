package devauth

import (
	"slices"
	"strings"
)

// PostLoginEvent describes the login a PostLoginAction runs for, like the
// event object of an Auth0 post-login Action.
type PostLoginEvent struct {
	// User is the user who logged in.
	User EventUser
	// ClientID and ClientName identify the application.
	ClientID   string
	ClientName string // Client.Name, or its ID
	// Audience is the requested API identifier; empty when none.
	Audience string
	// OrganizationID is the organization chosen at /authorize; empty when
	// none.
	OrganizationID string
	// RequestedScopes are the scopes of the authorization request.
	RequestedScopes []string
}

// EventUser is the part of a user an action can read.
type EventUser struct {
	// ID is the user_id (the sub claim).
	ID string
	// Name and Email are the user's profile.
	Name  string
	Email string // may be empty
	// Permissions are the user's permissions for the requested audience.
	Permissions []string
}

// PostLoginAPI is what a PostLoginAction can change, mirroring the api object
// of an Auth0 post-login Action.
type PostLoginAPI struct {
	// AccessToken changes the access token.
	AccessToken AccessTokenAPI
	// IDToken changes the ID token.
	IDToken IDTokenAPI
	// Access can deny the login.
	Access AccessAPI
}

// AccessTokenAPI mirrors api.accessToken.
type AccessTokenAPI struct {
	claims  map[string]any
	added   []string
	removed []string
}

// SetCustomClaim adds claim name with value to the access token. As on
// Auth0, restricted names (registered JWT claims, scope, permissions, org_id
// and the like) are silently ignored; use namespaced names such as
// "https://example.com/roles".
func (a *AccessTokenAPI) SetCustomClaim(name string, value any) {
	a.claims = setClaim(a.claims, name, value)
}

// AddScope adds scope to the access token's scope claim.
func (a *AccessTokenAPI) AddScope(scope string) {
	a.removed = slices.DeleteFunc(a.removed, func(s string) bool { return s == scope })
	if scope != "" && !slices.Contains(a.added, scope) {
		a.added = append(a.added, scope)
	}
}

// RemoveScope removes scope from the access token's scope claim.
func (a *AccessTokenAPI) RemoveScope(scope string) {
	a.added = slices.DeleteFunc(a.added, func(s string) bool { return s == scope })
	if !slices.Contains(a.removed, scope) {
		a.removed = append(a.removed, scope)
	}
}

// IDTokenAPI mirrors api.idToken.
type IDTokenAPI struct {
	claims map[string]any
}

// SetCustomClaim adds claim name with value to the ID token; restricted
// names are ignored as for access tokens.
func (a *IDTokenAPI) SetCustomClaim(name string, value any) {
	a.claims = setClaim(a.claims, name, value)
}

// AccessAPI mirrors api.access.
type AccessAPI struct {
	denied string
}

// Deny refuses the login: the application receives error=access_denied with
// reason as error_description.
func (a *AccessAPI) Deny(reason string) {
	if reason == "" {
		reason = "Access denied"
	}
	a.denied = reason
}

// restrictedClaims are the claim names Auth0 does not let Actions set.
var restrictedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true,
	"jti": true, "azp": true, "nonce": true, "auth_time": true, "at_hash": true,
	"c_hash": true, "acr": true, "amr": true, "cnf": true, "sid": true,
	"gty": true, "scope": true, "permissions": true, "org_id": true, "org_name": true,
}

func setClaim(m map[string]any, name string, value any) map[string]any {
	if name == "" || restrictedClaims[name] || strings.Contains(name, "auth0.com") {
		return m
	}
	if m == nil {
		m = map[string]any{}
	}
	m[name] = value
	return m
}
