// Command webapp runs the example web application: it signs users in with
// the Authorization Code Flow (PKCE, state, nonce) and calls the example API
// with their access token.
//
//	cd examples && go run ./webapp -issuer http://127.0.0.1:9000/ -client-id demo-webapp -client-secret SECRET
//
// Every flag defaults to an environment variable: AUTH0_DOMAIN (issuer
// https://DOMAIN/), AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, AUTH0_AUDIENCE and
// AUTH0_CALLBACK_URL. -issuer is taken exactly as given (it must equal the
// issuer of the provider's OpenID configuration); an Auth0 issuer without
// its trailing slash gets a warning.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/apiguard/apiguard/examples/internal/issuer"
	"github.com/apiguard/apiguard/examples/internal/loopback"
	"github.com/apiguard/apiguard/examples/internal/webapp"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("webapp: ")
	iss, err := issuer.FromDomain(os.Getenv("AUTH0_DOMAIN"))
	if err != nil {
		log.Fatal(err)
	}
	flag.StringVar(&iss, "issuer", iss, "issuer URL, exactly as the provider writes it (default https://$AUTH0_DOMAIN/)")
	clientID := flag.String("client-id", envOr("AUTH0_CLIENT_ID", "demo-webapp"), "client ID")
	secret := flag.String("client-secret", os.Getenv("AUTH0_CLIENT_SECRET"), "client secret")
	audience := flag.String("audience", envOr("AUTH0_AUDIENCE", "https://contacts.example.com"), "API identifier")
	callback := flag.String("callback", envOr("AUTH0_CALLBACK_URL", "http://127.0.0.1:3000/callback"), "callback URL; the app listens on its host and port")
	apiURL := flag.String("api", "http://127.0.0.1:8081", "base URL of the example API")
	flag.Parse()

	if iss == "" {
		log.Fatal("need -issuer or AUTH0_DOMAIN")
	}
	if w := issuer.Warning(iss); w != "" {
		log.Print("warning: ", w)
	}
	u, err := url.Parse(*callback)
	if err != nil || u.Port() == "" {
		log.Fatalf("callback %q must be an absolute URL with a port", *callback)
	}
	l, err := loopback.Listen(u.Host)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	app, err := webapp.New(ctx, webapp.Config{
		Issuer: iss, ClientID: *clientID, ClientSecret: *secret,
		RedirectURL: *callback, Audience: *audience, APIBaseURL: *apiURL,
	})
	cancel()
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("open %s://%s/ (issuer %s, API %s)", u.Scheme, u.Host, iss, strings.TrimSuffix(*apiURL, "/"))
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(l))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
