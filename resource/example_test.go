package resource_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/resource"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// An API that publishes its metadata and points every challenge to it. A
// fake issuer on loopback stands in for the Auth0 tenant.
func Example() {
	iss := validatortest.NewIssuer()
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	meta, err := resource.NewHandler(resource.Metadata{
		Resource:               "https://contacts.example.com",
		AuthorizationServers:   []string{"https://tenant.us.auth0.com/"},
		ScopesSupported:        []string{"read:contacts"},
		BearerMethodsSupported: []string{"header"},
	})
	if err != nil {
		log.Fatal(err)
	}
	list := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "contacts") })
	api := http.NewServeMux()
	api.Handle("GET /contacts", scopes.RequireScope("read:contacts")(list))

	mux := http.NewServeMux()
	mux.Handle(meta.Path(), meta) // public
	mux.Handle("/", middleware.New(v, middleware.WithResourceMetadata(meta.URL()))(api))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/contacts")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))

	resp, err = http.Get(srv.URL + meta.Path())
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	fmt.Print(string(body))
	// Output:
	// 401 Bearer realm="api", resource_metadata="https://contacts.example.com/.well-known/oauth-protected-resource"
	// 200 application/json
	// {"resource":"https://contacts.example.com","authorization_servers":["https://tenant.us.auth0.com/"],"scopes_supported":["read:contacts"],"bearer_methods_supported":["header"]}
}
