// Command api runs the example API protected by apiguard.
//
//	cd examples && go run ./api -addr 127.0.0.1:8081 -issuer https://TENANT.us.auth0.com/ -audience https://contacts.example.com
//
// Without -issuer and -audience it reads AUTH0_DOMAIN (such as
// "tenant.us.auth0.com", giving the issuer "https://tenant.us.auth0.com/")
// and AUTH0_AUDIENCE. It logs one line at start-up and nothing per request.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/apiguard/apiguard/examples/internal/api"
	"github.com/apiguard/apiguard/validator"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "`host:port` to listen on")
	issuer := flag.String("issuer", "", "token issuer with trailing slash, such as https://TENANT.us.auth0.com/ (default from AUTH0_DOMAIN)")
	audience := flag.String("audience", "", "API identifier, such as https://contacts.example.com (default AUTH0_AUDIENCE)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("api: ")

	iss, aud, err := settings(*issuer, *audience, os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	v, err := validator.New(ctx, validator.Config{
		Issuer:    iss,
		Audiences: []string{aud},
		// Key refreshes are routine: only warnings and errors reach the log.
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	cancel()
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s (issuer %s, audience %s)", l.Addr(), iss, aud)
	srv := &http.Server{Handler: api.NewHandler(v), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(l))
}

// settings resolves the issuer and audience from the flags, else from
// AUTH0_DOMAIN and AUTH0_AUDIENCE.
func settings(issuer, audience string, getenv func(string) string) (string, string, error) {
	if issuer == "" {
		d := strings.TrimSuffix(strings.TrimPrefix(getenv("AUTH0_DOMAIN"), "https://"), "/")
		if strings.Contains(d, "://") {
			return "", "", fmt.Errorf("AUTH0_DOMAIN %q: want a domain such as tenant.us.auth0.com (or https://tenant.us.auth0.com)", d)
		}
		if d != "" {
			issuer = "https://" + d + "/"
		}
	}
	if audience == "" {
		audience = getenv("AUTH0_AUDIENCE")
	}
	if issuer == "" || audience == "" {
		return "", "", errors.New("need -issuer and -audience, or AUTH0_DOMAIN and AUTH0_AUDIENCE")
	}
	if !strings.HasSuffix(issuer, "/") {
		return "", "", fmt.Errorf("issuer %q must end with / (Auth0 issuers do)", issuer)
	}
	return issuer, audience, nil
}
