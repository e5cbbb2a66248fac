// Command quickstart is the README's Quick start, verbatim: a test keeps the
// two identical, so that the README's code always compiles.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator"
)

func main() {
	v, err := validator.New(context.Background(), validator.Config{
		Issuer:    "https://YOUR_TENANT.us.auth0.com/",      // exactly as in the tokens' iss
		Audiences: []string{"https://contacts.example.com"}, // the API identifier
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/private", func(w http.ResponseWriter, r *http.Request) {
		c, _ := claims.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s\n", c.Subject)
	})
	contacts := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "Ada Lovelace, Grace Hopper")
	})
	mux.Handle("GET /api/contacts", scopes.RequireScope("read:contacts")(contacts))
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", middleware.New(v)(mux)))
}
