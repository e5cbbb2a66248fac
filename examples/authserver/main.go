// Command authserver runs the devauth development authorization server with
// the demo tenant on a loopback address.
//
// DEVELOPMENT ONLY: it makes throwaway keys at start, keeps everything in
// memory and refuses to listen on anything but loopback.
//
//	cd examples && go run ./authserver -addr 127.0.0.1:9000 -app http://127.0.0.1:3000
//
// -resource registers further APIs like the contacts API (same scopes and
// user permissions), by default the MCP example's URL, so that a client can
// ask for a token for it with audience or resource (RFC 8707).
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
	resources := flag.String("resource", "http://127.0.0.1:8082/mcp", "comma-separated `identifiers` of further APIs registered like the contacts API, such as the MCP server's URL")
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
	for _, r := range strings.Split(*resources, ",") {
		if r = strings.TrimSpace(r); r != "" {
			stack.AddResource(&cfg, r, r)
		}
	}
	srv, err := devauth.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, devauth.Banner)
	fmt.Fprintf(os.Stderr, "issuer:        %s\nclient:        %s (secret %s), public client %s\naudience:      %s (also: %s)\nusers:         %s/%s, %s/%s, %s/%s\n",
		issuer, stack.ClientID, *secret, stack.PublicClientID, stack.Audience, *resources,
		stack.Alice.Username, stack.Alice.Password, stack.Bob.Username, stack.Bob.Password,
		stack.Carol.Username, stack.Carol.Password)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(hs.Serve(l))
}
