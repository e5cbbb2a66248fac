package scopes_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// call sends method url with a bearer token and prints the status, the
// challenge and the body.
func call(method, url, token string) {
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if www := resp.Header.Get("WWW-Authenticate"); www != "" {
		fmt.Println(resp.StatusCode, www)
	} else {
		fmt.Println(resp.StatusCode)
	}
	fmt.Print(string(body))
}

// Guards on the routes of a ServeMux, behind the middleware. A fake issuer
// on loopback stands in for the Auth0 tenant.
func Example() {
	iss := validatortest.NewIssuer()
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	list := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := claims.FromContext(r.Context())
		fmt.Fprintf(w, "contacts of %s\n", c.Subject)
	})
	remove := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "deleted %s\n", r.PathValue("id"))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /contacts", scopes.RequireScope("read:contacts")(list))
	mux.Handle("DELETE /contacts/{id}", scopes.RequirePermission("delete:contacts")(remove))
	srv := httptest.NewServer(middleware.New(v)(mux))
	defer srv.Close()

	reader := iss.Mint(validatortest.WithScope("read:contacts"))
	call("GET", srv.URL+"/contacts", reader)
	call("DELETE", srv.URL+"/contacts/42", reader)
	call("DELETE", srv.URL+"/contacts/42", iss.Mint(validatortest.WithPermissions("delete:contacts")))
	// Output:
	// 200
	// contacts of auth0|test-user
	// 403 Bearer realm="api", error="insufficient_scope", error_description="the token lacks a required permission", scope="delete:contacts"
	// {"error":"insufficient_scope","error_description":"the token lacks a required permission","scope":"delete:contacts"}
	// 200
	// deleted 42
}

// An Auth0 Organizations tenant: the organization in the path must be the
// one the token was issued for.
func ExampleRequireOrganizationFrom() {
	iss := validatortest.NewIssuer()
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	inOrg := scopes.RequireOrganizationFrom(func(r *http.Request) string { return r.PathValue("org") })
	invoices := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "invoices of %s\n", r.PathValue("org"))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /orgs/{org}/invoices", inOrg(scopes.RequireScope("read:invoices")(invoices)))
	srv := httptest.NewServer(middleware.New(v)(mux))
	defer srv.Close()

	token := iss.Mint(validatortest.WithScope("read:invoices"), validatortest.WithClaim("org_id", "org_acme"))
	call("GET", srv.URL+"/orgs/org_acme/invoices", token)
	call("GET", srv.URL+"/orgs/org_globex/invoices", token)
	// Output:
	// 200
	// invoices of org_acme
	// 403 Bearer realm="api", error="insufficient_scope", error_description="the token is not for this organization"
	// {"error":"insufficient_scope","error_description":"the token is not for this organization"}
}

// RequireClaim checks any claim, here a namespaced custom claim that an
// Auth0 Action adds.
func ExampleRequireClaim() {
	const roles = "https://example.com/roles"
	adminOnly := scopes.RequireClaim(roles, func(c *claims.Claims) bool {
		r, err := claims.Get[[]string](c, roles)
		return err == nil && slices.Contains(r, "admin")
	})
	_ = adminOnly // mux.Handle("POST /admin/users", adminOnly(createUser))
}

// A route that needs a recent multi-factor sign-in (RFC 9470). The token
// says so with acr, or with mfa in amr, and with auth_time; otherwise the
// client is told what to ask the authorization server for.
func ExampleRequireStepUp() {
	iss := validatortest.NewIssuer()
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	transfer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "transferred") })
	mux := http.NewServeMux()
	mux.Handle("POST /transfers", scopes.RequireStepUp(scopes.StepUp{
		ACRValues: []string{scopes.MultiFactorACR},
		AMRValues: []string{"mfa"},
		MaxAge:    10 * time.Minute,
	})(transfer))
	srv := httptest.NewServer(middleware.New(v)(mux))
	defer srv.Close()

	now := time.Now().Unix()
	call(http.MethodPost, srv.URL+"/transfers", iss.Mint(
		validatortest.WithClaim("amr", []string{"pwd"}), validatortest.WithClaim("auth_time", now-60)))
	call(http.MethodPost, srv.URL+"/transfers", iss.Mint(
		validatortest.WithClaim("amr", []string{"pwd", "mfa"}), validatortest.WithClaim("auth_time", now-60)))
	// Output:
	// 401 Bearer realm="api", error="insufficient_user_authentication", error_description="a different authentication level is required", acr_values="http://schemas.openid.net/pape/policies/2007/06/multi-factor", max_age="600"
	// {"error":"insufficient_user_authentication","error_description":"a different authentication level is required","acr_values":"http://schemas.openid.net/pape/policies/2007/06/multi-factor","max_age":"600"}
	// 200
	// transferred
}
