// Command grpcapi runs the example gRPC contacts service protected by
// apiguard's grpcguard interceptors, in plaintext on a loopback address.
//
//	cd examples && go run ./grpcapi -addr 127.0.0.1:8082 -issuer https://TENANT.us.auth0.com/ -audience https://contacts.example.com
//
// Without -issuer and -audience it reads AUTH0_DOMAIN (such as
// "tenant.us.auth0.com", giving the issuer "https://tenant.us.auth0.com/")
// and AUTH0_AUDIENCE. It starts even when the issuer cannot be reached:
// until the signing keys are loaded, calls with a token get Unavailable
// (clients retry), and the health service reports NOT_SERVING. SIGINT or
// SIGTERM stops it gracefully. It logs one
// line at start-up and nothing per call.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/apiguard/apiguard/examples/internal/grpcapi"
	"github.com/apiguard/apiguard/examples/internal/issuer"
	"github.com/apiguard/apiguard/examples/internal/loopback"
	"github.com/apiguard/apiguard/validator"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "loopback `host:port` to listen on")
	issuer := flag.String("issuer", "", "token issuer, such as https://TENANT.us.auth0.com/ (default from AUTH0_DOMAIN)")
	audience := flag.String("audience", "", "API identifier, such as https://contacts.example.com (default AUTH0_AUDIENCE)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("grpcapi: ")

	iss, aud, err := settings(*issuer, *audience, os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	// Key refreshes are routine: only warnings and errors reach the log.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	keys, err := validator.NewRemoteKeySet(context.Background(), validator.RemoteConfig{
		Issuer: iss,
		// Start while the issuer is unreachable: the keys load in the
		// background, and calls get Unavailable until they do.
		StartWithoutKeys: true,
		Logger:           logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	v, err := validator.New(context.Background(), validator.Config{
		Issuer: iss, Audiences: []string{aud}, Keys: keys, Logger: logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	l, err := loopback.Listen(*addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpcapi.NewServer(v)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go srv.TrackReadiness(ctx, v.Ready, time.Second)
	go func() {
		<-ctx.Done()
		srv.GracefulStop()
	}()
	log.Printf("listening on %s, plaintext (issuer %s, audience %s)", l.Addr(), iss, aud)
	if err := srv.Serve(l); err != nil {
		log.Fatal(err)
	}
}

// settings resolves the issuer and audience from the flags, else from
// AUTH0_DOMAIN and AUTH0_AUDIENCE. The issuer is used exactly as given
// (validator compares it with iss byte for byte), with the examples' one
// rule (package issuer), as the HTTP API applies it.
func settings(iss, audience string, getenv func(string) string) (string, string, error) {
	if iss == "" {
		var err error
		if iss, err = issuer.FromDomain(getenv("AUTH0_DOMAIN")); err != nil {
			return "", "", err
		}
	}
	if audience == "" {
		audience = getenv("AUTH0_AUDIENCE")
	}
	if iss == "" || audience == "" {
		return "", "", errors.New("need -issuer and -audience, or AUTH0_DOMAIN and AUTH0_AUDIENCE")
	}
	if w := issuer.Warning(iss); w != "" {
		log.Printf("warning: %s", w)
	}
	return iss, audience, nil
}
