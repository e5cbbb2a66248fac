// Package claims is the typed view of a validated OAuth 2.0 access token.
//
// A [Claims] value carries the registered JWT claims (RFC 7519), the claims
// Auth0 and RFC 9068 add to access tokens (azp, client_id, scope,
// permissions, org_id, ...), and any custom claims, such as the namespaced
// claims that Auth0 Actions set. Custom claims are read with type safety
// through [Get] or decoded together into a struct with [Claims.DecodeCustom].
//
// The validator package produces Claims; the middleware stores them in the
// request context, where [FromContext] finds them.
package claims

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Errors returned by [Get] and [Claims.DecodeCustom], and wrapped by [Parse].
var (
	// ErrMissing means the token has no claim of that name.
	ErrMissing = errors.New("claims: claim missing")
	// ErrType means the claim exists but does not decode into the requested type.
	ErrType = errors.New("claims: claim has another type")
	// ErrInvalid means a claims set is not acceptable: not a JSON object,
	// duplicate or case-variant member names, invalid UTF-8, or a
	// registered claim of the wrong type or out of range.
	ErrInvalid = errors.New("claims: invalid claims set")
)

// Claims is the claims set of a validated access token.
//
// Zero times mean the claim was absent. Claims is read-only once the
// validator returns it and safe to share between goroutines.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub
	Audience  []string  // aud, a string or an array in the token
	ExpiresAt time.Time // exp
	NotBefore time.Time // nbf
	IssuedAt  time.Time // iat
	ID        string    // jti

	AuthorizedParty string   // azp: the client the token was issued to (Auth0)
	ClientID        string   // client_id: the client (RFC 9068)
	Scopes          []string // scope, split on spaces
	Permissions     []string // permissions: Auth0 RBAC
	OrgID           string   // org_id: Auth0 Organizations
	OrgName         string   // org_name
	GrantType       string   // gty: Auth0's grant type hint, e.g. "client-credentials"

	// Confirmation is the cnf claim (RFC 7800): the key the token is
	// bound to. Its JKT is set for DPoP-bound tokens (RFC 9449).
	Confirmation Confirmation

	custom map[string]jsontext.Value
}

// Confirmation is the cnf claim of a sender-constrained token (RFC 7800
// section 3.1).
type Confirmation struct {
	// JKT is cnf.jkt, the base64url SHA-256 thumbprint (RFC 7638) of the
	// public key a DPoP-bound token is bound to (RFC 9449 section 6.1);
	// empty when the token is not DPoP-bound. A token that has it must
	// only be accepted with a DPoP proof signed by that key.
	JKT string
	// Present reports that the token has a cnf claim at all. A token with
	// cnf is bound to a key; one without jkt is bound some other way
	// (x5t#S256 for mutual TLS, RFC 8705) that apiguard cannot check.
	// Either way it must never be accepted as a plain bearer token.
	Present bool
}

// Client returns the client the token was issued to: client_id when
// present (RFC 9068), else azp (Auth0).
func (c *Claims) Client() string {
	if c.ClientID != "" {
		return c.ClientID
	}
	return c.AuthorizedParty
}

// HasScope reports whether the token was granted scope s. Matching is exact:
// "read" never matches "read:all".
func (c *Claims) HasScope(s string) bool { return slices.Contains(c.Scopes, s) }

// HasAllScopes reports whether the token was granted every one of scopes.
// It is true when scopes is empty.
func (c *Claims) HasAllScopes(scopes ...string) bool {
	for _, s := range scopes {
		if !c.HasScope(s) {
			return false
		}
	}
	return true
}

// HasAnyScope reports whether the token was granted at least one of scopes.
// It is false when scopes is empty.
func (c *Claims) HasAnyScope(scopes ...string) bool {
	return slices.ContainsFunc(scopes, c.HasScope)
}

// HasPermission reports whether the Auth0 RBAC permissions claim holds p,
// matched exactly.
func (c *Claims) HasPermission(p string) bool { return slices.Contains(c.Permissions, p) }

// HasAllPermissions reports whether the Auth0 RBAC permissions claim holds
// every one of permissions. It is true when permissions is empty.
func (c *Claims) HasAllPermissions(permissions ...string) bool {
	for _, p := range permissions {
		if !c.HasPermission(p) {
			return false
		}
	}
	return true
}

// HasAudience reports whether aud is one of the token's audiences.
func (c *Claims) HasAudience(aud string) bool { return slices.Contains(c.Audience, aud) }

// CustomNames returns the names of the claims that have no field in Claims,
// sorted.
func (c *Claims) CustomNames() []string {
	names := make([]string, 0, len(c.custom))
	for n := range c.custom {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Raw returns a copy of the JSON text of custom claim name, or false when
// the token has none.
func (c *Claims) Raw(name string) ([]byte, bool) {
	v, ok := c.custom[name]
	return bytes.Clone(v), ok
}

// Get decodes custom claim name into a T. It fails with [ErrMissing] when the
// claim is absent and with [ErrType] when it does not decode into T; the
// returned error is a *[ClaimError] naming the claim.
//
//	roles, err := claims.Get[[]string](c, "https://example.com/roles")
func Get[T any](c *Claims, name string) (T, error) {
	var v T
	raw, ok := c.custom[name]
	if !ok {
		return v, &ClaimError{Name: name, Class: ErrMissing}
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		var zero T
		return zero, &ClaimError{Name: name, Class: ErrType, typ: fmt.Sprintf("%T", v), kind: raw.Kind()}
	}
	return v, nil
}

// DecodeCustom decodes all custom claims, as one JSON object, into v, which
// is usually a pointer to a struct whose fields carry json tags with the
// claim names. Claims without a matching field are ignored; a claim of the
// wrong type fails with [ErrType].
func (c *Claims) DecodeCustom(v any) error {
	b, err := json.Marshal(c.custom, json.Deterministic(true))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrType, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		var name string
		var se *json.SemanticError
		if errors.As(err, &se) {
			name = string(se.JSONPointer)
		}
		return &ClaimError{Name: name, Class: ErrType, typ: fmt.Sprintf("%T", v)}
	}
	return nil
}

// ClaimError reports which claim failed and why. It unwraps to [ErrMissing],
// [ErrType] or [ErrInvalid].
type ClaimError struct {
	// Name is the claim's name; for DecodeCustom, a JSON pointer to it.
	Name string
	// Class is the class: ErrMissing, ErrType or ErrInvalid. (As in
	// validator.Error, Class is the sentinel; an Err field would be an
	// underlying cause, which a claim error does not have.)
	Class error

	typ  string
	kind jsontext.Kind
}

// Error says which claim failed and how, without its value.
func (e *ClaimError) Error() string {
	switch {
	case e.Class == ErrType && e.kind != 0:
		return fmt.Sprintf("claims: claim %q is a JSON %s, not %s", e.Name, kindName(e.kind), e.typ)
	case e.Class == ErrType:
		return fmt.Sprintf("claims: claim %q does not decode into %s", e.Name, e.typ)
	case e.Class == ErrMissing:
		return fmt.Sprintf("claims: claim %q missing", e.Name)
	}
	return fmt.Sprintf("claims: claim %q: %v", e.Name, e.Class)
}

// Unwrap returns the class of the error.
func (e *ClaimError) Unwrap() error { return e.Class }

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

type contextKey struct{}

// NewContext returns a copy of ctx that carries c.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, contextKey{}, c)
}

// FromContext returns the claims stored in ctx by [NewContext], usually by
// the middleware after it validated the request's token.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(contextKey{}).(*Claims)
	return c, ok && c != nil
}
