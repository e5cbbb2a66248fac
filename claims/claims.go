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
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
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

	// custom holds the other members in token order, looked up by a
	// linear scan: a token has a handful, and a map would cost two
	// allocations per token.
	custom []customClaim

	// Backing arrays for Audience, Scopes, Permissions and custom when
	// they fit, so that Parse allocates this struct and one copy of the
	// input, whatever the claims (an Auth0 token has ~10 such strings
	// and a few custom claims). The slices are cut to their length, so
	// an append by a handler copies rather than writes here.
	strBuf    [16]string
	customBuf [4]customClaim
}

// customClaim is a custom claim's name and its JSON text, both substrings
// of the parsed input (unless the name has escapes).
type customClaim struct{ name, value string }

// lookup returns the JSON text of custom claim name.
func (c *Claims) lookup(name string) (string, bool) {
	for i := range c.custom {
		if c.custom[i].name == name {
			return c.custom[i].value, true
		}
	}
	return "", false
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
	names := make([]string, len(c.custom))
	for i, cc := range c.custom {
		names[i] = cc.name
	}
	slices.Sort(names)
	return names
}

// Raw returns a copy of the JSON text of custom claim name, or false when
// the token has none.
func (c *Claims) Raw(name string) ([]byte, bool) {
	v, ok := c.lookup(name)
	if !ok {
		return nil, false
	}
	return []byte(v), true
}

// Get decodes custom claim name into a T. It fails with [ErrMissing] when the
// claim is absent and with [ErrType] when it does not decode into T; the
// returned error is a *[ClaimError] naming the claim.
//
//	roles, err := claims.Get[[]string](c, "https://example.com/roles")
func Get[T any](c *Claims, name string) (T, error) {
	raw, ok := c.lookup(name)
	if !ok {
		var zero T
		return zero, &ClaimError{Name: name, Class: ErrMissing}
	}
	// The common shapes of custom claims decode without the general
	// decoder, which allocates its state, the input's copy and the
	// result; anything else, errors included, takes the general path.
	if v, ok := decodeFast[T](raw); ok {
		return v, nil
	}
	var v T
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		var zero T
		return zero, &ClaimError{Name: name, Class: ErrType, typ: fmt.Sprintf("%T", v), kind: jsontext.Value(raw).Kind()}
	}
	return v, nil
}

// decodeFast decodes raw into a T when T is string or []string and raw is
// a JSON string, or an array of JSON strings, without escapes: the result
// is then substrings of raw, as json.Unmarshal would return (raw is valid
// JSON, checked by Parse). ok is false for anything else.
func decodeFast[T any](raw string) (v T, ok bool) {
	switch p := any(&v).(type) {
	case *string:
		*p, ok = plainString(raw)
	case *[]string:
		*p, ok = plainStrings(raw)
	}
	return v, ok
}

// plainString returns the value of the JSON string raw when it has no
// escapes.
func plainString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || strings.IndexByte(raw, '\\') >= 0 {
		return "", false
	}
	return raw[1 : len(raw)-1], true
}

// plainStrings returns the values of raw, a JSON array of strings without
// escapes, with no whitespace or with single spaces between tokens (as
// JSON encoders write it).
func plainStrings(raw string) ([]string, bool) {
	if len(raw) < 2 || raw[0] != '[' || strings.IndexByte(raw, '\\') >= 0 {
		return nil, false
	}
	rest := strings.TrimSpace(raw[1 : len(raw)-1])
	if rest == "" {
		return []string{}, true
	}
	out := make([]string, 0, strings.Count(rest, ",")+1)
	for rest != "" {
		if rest[0] != '"' {
			return nil, false
		}
		// No escapes: the string ends at the next quote.
		end := strings.IndexByte(rest[1:], '"') + 1
		if end == 0 {
			return nil, false
		}
		out = append(out, rest[1:end])
		rest = strings.TrimLeft(rest[end+1:], " \t\r\n")
		if rest == "" {
			break
		}
		if rest[0] != ',' {
			return nil, false
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		if rest == "" {
			return nil, false
		}
	}
	return out, true
}

// DecodeCustom decodes all custom claims, as one JSON object, into v, which
// is usually a pointer to a struct whose fields carry json tags with the
// claim names. Claims without a matching field are ignored; a claim of the
// wrong type fails with [ErrType].
func (c *Claims) DecodeCustom(v any) error {
	// The object in name order, as a deterministic encoding of the custom
	// claims would be: a decoding error then names the same claim
	// whatever the token's member order.
	sorted := slices.Clone(c.custom)
	slices.SortFunc(sorted, func(a, b customClaim) int { return strings.Compare(a.name, b.name) })
	b := []byte{'{'}
	for i, cc := range sorted {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = jsontext.AppendQuote(b, cc.name); err != nil {
			return fmt.Errorf("%w: %v", ErrType, err)
		}
		b = append(b, ':')
		b = append(b, cc.value...)
	}
	b = append(b, '}')
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

// FromContext returns the claims stored in ctx by [NewContext], or else
// the *Claims that go-jwt-middleware v2's CheckJWT stored under its
// jwtmiddleware.ContextKey{}: package middleware, which is built on
// CheckJWT, leaves them there rather than adding a second context value
// (and a second copy of the request) to every request.
func FromContext(ctx context.Context) (*Claims, bool) {
	if c, ok := ctx.Value(contextKey{}).(*Claims); ok {
		return c, c != nil
	}
	c, ok := ctx.Value(jwtmiddleware.ContextKey{}).(*Claims)
	return c, ok && c != nil
}
