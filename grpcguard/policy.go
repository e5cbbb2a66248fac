package grpcguard

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/scopes"
)

// Full method names of the standard health service (grpc.health.v1), for a
// policy that makes health checks public:
//
//	grpcguard.Policy{grpcguard.HealthCheck: grpcguard.Public(), grpcguard.HealthWatch: grpcguard.Public()}
//
// They are public only when listed.
const (
	HealthCheck = "/grpc.health.v1.Health/Check"
	HealthWatch = "/grpc.health.v1.Health/Watch"
	HealthList  = "/grpc.health.v1.Health/List"
)

// Policy maps full method names ("/pkg.Service/Method", as in
// grpc.UnaryServerInfo.FullMethod) to what each method needs. A method that
// is not listed is refused with PermissionDenied.
type Policy map[string]Rule

// Rule is what one method needs. The zero Rule, like [Authenticated](),
// needs a valid access token and nothing else.
type Rule struct {
	public bool
	guards []Guard
}

// Public is the rule of a method that needs no token: the interceptor lets
// every call through without reading its credentials, and the handler finds
// no claims in its context.
func Public() Rule { return Rule{public: true} }

// Authenticated is the rule of a method that needs a valid access token
// and, in order, every one of guards.
func Authenticated(guards ...Guard) Rule {
	for _, g := range guards {
		if g == nil {
			panic("grpcguard: Authenticated with a nil Guard")
		}
	}
	return Rule{guards: slices.Clone(guards)}
}

// RequireScope is the rule of a method that needs a valid access token
// granted every one of want: Authenticated(Scope(want...)).
func RequireScope(want ...string) Rule { return Authenticated(Scope(want...)) }

// Guard checks the validated claims of a call before its handler runs. It
// returns nil to let the call through. Any error refuses the call: a
// *[Denied] or any other error becomes PermissionDenied with the error's
// message (so it must not hold secrets), and an error carrying a gRPC status
// (a GRPCStatus method) is returned as it is. ctx is the call's context,
// with the claims in it; grpc.Method(ctx) gives the method.
type Guard func(ctx context.Context, c *claims.Claims) error

// Denied is the error of a guard that refuses a call. Its class, Err, is
// one of the error classes of package scopes, so that HTTP and gRPC
// refusals are counted alike.
type Denied struct {
	// Reason says what the token lacks; safe to show to the client.
	Reason string
	// Scope is what the method requires, space-separated: scopes, or
	// Auth0 permissions (scope values of the API). Empty for
	// organization and claim guards.
	Scope string
	// Err is the class: scopes.ErrScope, scopes.ErrPermission,
	// scopes.ErrOrganization or scopes.ErrClaim (wrapped with the
	// requirement's name for claim guards).
	Err error
}

// Error returns the reason and, when set, the required scope.
func (d *Denied) Error() string {
	if d.Scope == "" {
		return d.Reason
	}
	return d.Reason + ": " + d.Scope
}

// Unwrap returns the class.
func (d *Denied) Unwrap() error { return d.Err }

// copy gives each refusal its own value, so that nothing a caller does with
// one error changes the next.
func (d *Denied) copy() *Denied {
	c := *d
	return &c
}

// Scope lets a call through when its token was granted every one of
// want, matched exactly ("read" never matches "read:all").
func Scope(want ...string) Guard {
	want = mustScopes("Scope", want)
	deny := &Denied{Reason: "insufficient scope: requires", Scope: strings.Join(want, " "), Err: scopes.ErrScope}
	return func(_ context.Context, c *claims.Claims) error {
		if c.HasAllScopes(want...) {
			return nil
		}
		return deny.copy()
	}
}

// AnyScope lets a call through when its token was granted at least one of
// want.
func AnyScope(want ...string) Guard {
	want = mustScopes("AnyScope", want)
	deny := &Denied{Reason: "insufficient scope: requires one of", Scope: strings.Join(want, " "), Err: scopes.ErrScope}
	return func(_ context.Context, c *claims.Claims) error {
		if c.HasAnyScope(want...) {
			return nil
		}
		return deny.copy()
	}
}

// Permission lets a call through when the token's Auth0 RBAC permissions
// claim holds every one of permissions.
func Permission(permissions ...string) Guard {
	permissions = mustScopes("Permission", permissions)
	deny := &Denied{Reason: "missing permission: requires", Scope: strings.Join(permissions, " "), Err: scopes.ErrPermission}
	return func(_ context.Context, c *claims.Claims) error {
		for _, p := range permissions {
			if !c.HasPermission(p) {
				return deny.copy()
			}
		}
		return nil
	}
}

// Organization lets a call through when the token's org_id claim (Auth0
// Organizations) is org. org must not be empty.
func Organization(org string) Guard {
	if org == "" {
		panic("grpcguard: Organization with an empty organization")
	}
	deny := &Denied{Reason: "the token is not for this organization", Err: scopes.ErrOrganization}
	return func(_ context.Context, c *claims.Claims) error {
		if c.OrgID == org {
			return nil
		}
		return deny.copy()
	}
}

// Claim lets a call through when ok returns true for the token's claims.
// name labels the requirement in the error's class, for logs; it is not
// sent to the client.
func Claim(name string, ok func(c *claims.Claims) bool) Guard {
	if ok == nil {
		panic("grpcguard: Claim with a nil predicate")
	}
	deny := &Denied{Reason: "the token does not satisfy a required claim", Err: fmt.Errorf("%w: %s", scopes.ErrClaim, name)}
	return func(_ context.Context, c *claims.Claims) error {
		if ok(c) {
			return nil
		}
		return deny.copy()
	}
}

// StepUp lets a call through when the token's authentication satisfies s
// (RFC 9470: acr values and/or the age of auth_time), as
// scopes.RequireStepUp decides for HTTP. A refusal is PermissionDenied
// whose message names what is required (acr_values, max_age), so that the
// client can sign the user in again with those parameters; its class is
// scopes.ErrStepUp. It panics on an invalid s, as RequireStepUp does.
func StepUp(s scopes.StepUp) Guard {
	s.Check(&claims.Claims{}, time.Time{}) // panics now on an invalid s, not on the first call
	var req []string
	for _, p := range s.Params() {
		req = append(req, p.Name+"="+p.Value)
	}
	reason := "insufficient user authentication: requires " + strings.Join(req, " ")
	return func(_ context.Context, c *claims.Claims) error {
		if err := s.Check(c, time.Now()); err != nil {
			return &Denied{Reason: reason, Err: err}
		}
		return nil
	}
}

// mustScopes returns a copy of values, and panics unless it holds at least
// one scope-token (RFC 6749 section 3.3: 1*NQCHAR).
func mustScopes(fn string, values []string) []string {
	if len(values) == 0 {
		panic("grpcguard: " + fn + " needs at least one value")
	}
	for _, s := range values {
		if s == "" {
			panic("grpcguard: " + fn + " with an empty value")
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				panic(fmt.Sprintf("grpcguard: %s: %q is not a scope token (RFC 6749 section 3.3)", fn, s))
			}
		}
	}
	return slices.Clone(values)
}

// validMethod reports whether name has the form "/service/method" with a
// non-empty service and method.
func validMethod(name string) bool {
	rest, ok := strings.CutPrefix(name, "/")
	if !ok {
		return false
	}
	svc, m, ok := strings.Cut(rest, "/")
	return ok && svc != "" && m != "" && !strings.Contains(m, "/")
}
