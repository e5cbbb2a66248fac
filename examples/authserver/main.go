// Command authserver runs the devauth development authorization server with
// the demo tenant on a loopback address.
//
// DEVELOPMENT ONLY: it makes throwaway keys at start, keeps everything in
// memory and refuses to listen on anything but loopback.
//
//	cd examples && go run ./authserver -addr 127.0.0.1:9000 -app http://127.0.0.1:3000
package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/apiguard/apiguard/examples/internal/devauth"
	"github.com/apiguard/apiguard/examples/internal/loopback"
	"github.com/apiguard/apiguard/examples/internal/stack"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "loopback `host:port` to listen on")
	apps := flag.String("app", "http://127.0.0.1:3000,http://localhost:3000", "comma-separated web app `origins`; each gets /callback as an allowed callback")
	secret := flag.String("client-secret", "", "client secret of "+stack.ClientID+" (default: random, printed)")
	lifetime := flag.Duration("access-token-lifetime", 5*time.Minute, "access token lifetime")
	flag.Parse()
	log.SetFlags(0)

	l, err := loopback.Listen(*addr)
	if err != nil {
		log.Fatal(err)
	}
	if *secret == "" {
		*secret = rand.Text()
	}
	issuer := loopback.BaseURL(l) + "/"
	cfg := stack.Tenant(issuer, *secret, strings.Split(*apps, ",")...)
	cfg.AccessTokenLifetime = *lifetime
	srv, err := devauth.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, devauth.Banner)
	fmt.Fprintf(os.Stderr, "issuer:        %s\nclient:        %s (secret %s), public client %s\naudience:      %s\nusers:         %s/%s, %s/%s, %s/%s\n",
		issuer, stack.ClientID, *secret, stack.PublicClientID, stack.Audience,
		stack.Alice.Username, stack.Alice.Password, stack.Bob.Username, stack.Bob.Password,
		stack.Carol.Username, stack.Carol.Password)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(hs.Serve(l))
}
