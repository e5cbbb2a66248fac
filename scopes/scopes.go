// Package scopes has authorization guards for handlers behind the
// middleware of package middleware: each checks the validated claims that
// the middleware put into the request context, and each is a
// func(http.Handler) http.Handler, so they compose with any router:
//
//	mux.Handle("GET /contacts", scopes.RequireScope("read:contacts")(list))
//	mux.Handle("DELETE /orgs/{org}/contacts/{id}",
//		scopes.RequireOrganizationFrom(func(r *http.Request) string { return r.PathValue("org") })(
//			scopes.RequirePermission("delete:contacts")(remove)))
//	http.ListenAndServe(addr, middleware.New(v)(mux))
//
// A token that lacks what a guard requires gets 403 with
//
//	WWW-Authenticate: Bearer realm="api", error="insufficient_scope", error_description="...", scope="read:contacts"
//
// (RFC 6750 section 3.1); organization and claim guards send no scope
// attribute. [RequireStepUp] asks for a stronger or more recent sign-in
// with 401 insufficient_user_authentication (RFC 9470). A request without validated claims, because credentials were
// optional or the guard was mounted without the middleware, gets 401 with a
// bare challenge. Guards answer through middleware.Reject, so they use the
// realm, error handler and OnReject hook of the middleware in front of them,
// and, behind a middleware that accepts DPoP (middleware.WithDPoP), answer
// in the scheme the client used: a DPoP request's 403 carries
// WWW-Authenticate: DPoP realm="api", error="insufficient_scope", ...,
// algs="...".
//
// The constructors panic on arguments that could never or would always
// match, such as no scopes at all: those are programming errors.
package scopes

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
)

// Error classes of middleware.Failure.Err for the rejections of guards. A
// request without validated claims is rejected with
// middleware.ErrMissingToken.
var (
	// ErrScope: the token lacks a required scope.
	ErrScope = errors.New("insufficient scope")
	// ErrPermission: the token lacks a required Auth0 RBAC permission.
	ErrPermission = errors.New("missing permission")
	// ErrOrganization: the token's org_id is not the required organization.
	ErrOrganization = errors.New("wrong organization")
	// ErrClaim: a claim does not satisfy a RequireClaim predicate.
	ErrClaim = errors.New("claim requirement not met")
)

// RequireScope lets a request through when its token was granted every one
// of scopes (the scope claim), and otherwise answers 403 insufficient_scope
// with scope="<scopes, space-separated>".
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	scopes = mustScopes("RequireScope", scopes)
	return guard(func(_ *http.Request, c *claims.Claims) bool { return c.HasAllScopes(scopes...) },
		scopeFailure("the token lacks a required scope", scopes, ErrScope))
}

// RequireAnyScope lets a request through when its token was granted at
// least one of scopes, and otherwise answers 403 insufficient_scope with
// scope="<scopes, space-separated>".
func RequireAnyScope(scopes ...string) func(http.Handler) http.Handler {
	scopes = mustScopes("RequireAnyScope", scopes)
	return guard(func(_ *http.Request, c *claims.Claims) bool { return c.HasAnyScope(scopes...) },
		scopeFailure("the token has none of the accepted scopes", scopes, ErrScope))
}

// RequirePermission lets a request through when the token's Auth0 RBAC
// permissions claim holds every one of permissions, and otherwise answers
// 403 insufficient_scope with scope="<permissions, space-separated>":
// Auth0 permissions are scope values of the API.
func RequirePermission(permissions ...string) func(http.Handler) http.Handler {
	permissions = mustScopes("RequirePermission", permissions)
	return guard(func(_ *http.Request, c *claims.Claims) bool { return c.HasAllPermissions(permissions...) },
		scopeFailure("the token lacks a required permission", permissions, ErrPermission))
}

// RequireAnyPermission lets a request through when the token's Auth0 RBAC
// permissions claim holds at least one of permissions, and otherwise
// answers 403 insufficient_scope with scope="<permissions, space-separated>".
func RequireAnyPermission(permissions ...string) func(http.Handler) http.Handler {
	permissions = mustScopes("RequireAnyPermission", permissions)
	return guard(func(_ *http.Request, c *claims.Claims) bool { return slices.ContainsFunc(permissions, c.HasPermission) },
		scopeFailure("the token has none of the accepted permissions", permissions, ErrPermission))
}

// RequireOrganization lets a request through when the token's org_id
// claim (Auth0 Organizations) is org, and otherwise answers 403
// insufficient_scope. org must not be empty.
func RequireOrganization(org string) func(http.Handler) http.Handler {
	if org == "" {
		panic("scopes: RequireOrganization with an empty organization")
	}
	return RequireOrganizationFrom(func(*http.Request) string { return org })
}

// RequireOrganizationFrom is RequireOrganization with the organization
// taken from each request, for example from the path:
//
//	scopes.RequireOrganizationFrom(func(r *http.Request) string { return r.PathValue("org") })
//
// When org returns "", the request is rejected.
func RequireOrganizationFrom(org func(r *http.Request) string) func(http.Handler) http.Handler {
	if org == nil {
		panic("scopes: RequireOrganizationFrom with a nil function")
	}
	return guard(func(r *http.Request, c *claims.Claims) bool {
		want := org(r)
		return want != "" && c.OrgID == want
	}, middleware.Failure{
		Status:      http.StatusForbidden,
		Code:        middleware.CodeInsufficientScope,
		Description: "the token is not for this organization",
		Err:         ErrOrganization,
	})
}

// RequireClaim lets a request through when ok returns true for its
// token's claims, and otherwise answers 403 insufficient_scope. name
// labels the requirement in the Failure's error for logs; it is not sent
// to the client. Custom claims are read with claims.Get:
//
//	scopes.RequireClaim("https://example.com/roles", func(c *claims.Claims) bool {
//		roles, _ := claims.Get[[]string](c, "https://example.com/roles")
//		return slices.Contains(roles, "admin")
//	})
func RequireClaim(name string, ok func(c *claims.Claims) bool) func(http.Handler) http.Handler {
	if ok == nil {
		panic("scopes: RequireClaim with a nil predicate")
	}
	return guard(func(_ *http.Request, c *claims.Claims) bool { return ok(c) }, middleware.Failure{
		Status:      http.StatusForbidden,
		Code:        middleware.CodeInsufficientScope,
		Description: "the token does not satisfy a required claim",
		Err:         fmt.Errorf("%w: %s", ErrClaim, name),
	})
}

// guard returns the middleware that calls next when ok, and otherwise
// rejects with a copy of fail.
func guard(ok func(*http.Request, *claims.Claims) bool, fail middleware.Failure) func(http.Handler) http.Handler {
	return check(func(r *http.Request, c *claims.Claims) *middleware.Failure {
		if ok(r, c) {
			return nil
		}
		f := fail
		return &f
	})
}

// check returns the middleware that calls next when fail returns nil, and
// otherwise rejects with what it returns. A request without validated
// claims gets 401 with a bare challenge.
func check(fail func(*http.Request, *claims.Claims) *middleware.Failure) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, found := claims.FromContext(r.Context())
			if !found {
				middleware.Reject(w, r, &middleware.Failure{
					Status:      http.StatusUnauthorized,
					Description: "no validated bearer token",
					Err:         middleware.ErrMissingToken,
				})
				return
			}
			if f := fail(r, c); f != nil {
				middleware.Reject(w, r, f)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func scopeFailure(desc string, scopes []string, class error) middleware.Failure {
	return middleware.Failure{
		Status:      http.StatusForbidden,
		Code:        middleware.CodeInsufficientScope,
		Description: desc,
		Scope:       strings.Join(scopes, " "),
		Err:         class,
	}
}

// mustScopes returns a copy of scopes, and panics unless it holds at least one scope-token
// (RFC 6749 section 3.3: 1*NQCHAR, so no spaces, '"' or '\').
func mustScopes(fn string, scopes []string) []string {
	if len(scopes) == 0 {
		panic("scopes: " + fn + " needs at least one value")
	}
	for _, s := range scopes {
		if s == "" {
			panic("scopes: " + fn + " with an empty value")
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				panic(fmt.Sprintf("scopes: %s: %q is not a scope token (RFC 6749 section 3.3)", fn, s))
			}
		}
	}
	return slices.Clone(scopes) // the caller may reuse its slice
}
