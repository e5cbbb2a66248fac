// Command mcp runs the example MCP server (Model Context Protocol,
// streamable HTTP) protected by apiguard, with one tool, list_contacts,
// which needs the read:contacts scope.
//
//	cd examples && go run ./mcp -issuer https://TENANT.us.auth0.com/ -url http://127.0.0.1:8082/mcp
//
// -url is the server's canonical URL: the MCP endpoint is served at its path,
// and only access tokens whose audience is exactly this URL are accepted
// (RFC 8707; with Auth0, create an API whose Identifier is this URL and ask
// for tokens with audience or resource set to it). The metadata (RFC 9728)
// is at the path derived from it, such as
// /.well-known/oauth-protected-resource/mcp, and every 401 and 403 points to
// it with resource_metadata. -issuer is taken exactly as given; the keys
// are found as with the example API (-jwks-url, -discovery, or Auth0's
// {issuer}.well-known/jwks.json). Without -issuer it reads AUTH0_DOMAIN.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/url"
	"os"

	"github.com/apiguard/apiguard/examples/internal/api"
	"github.com/apiguard/apiguard/examples/internal/issuer"
	"github.com/apiguard/apiguard/examples/internal/mcpserver"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("mcp: ")
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range cfg.warnings {
		log.Print("warning: ", w)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	v, closeValidator, err := api.NewValidator(context.Background(), cfg.Settings)
	if err != nil {
		log.Fatal(err)
	}
	defer closeValidator()
	h, err := mcpserver.New(mcpserver.Config{URL: cfg.Audience, Issuer: cfg.Issuer, Validator: v})
	if err != nil {
		log.Fatal(err)
	}
	l, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("MCP endpoint %s (listening on %s, issuer %s)", cfg.Audience, l.Addr(), cfg.Issuer)
	srv := api.NewServer(h)
	// Streamable HTTP keeps server-sent event streams open for as long as
	// a session lives: a write deadline would cut them.
	srv.WriteTimeout = 0
	log.Fatal(srv.Serve(l))
}

// config is what the command line and the environment say; Audience is
// the canonical URL.
type config struct {
	api.Settings
	addr     string
	warnings []string
}

func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8082", "`host:port` to listen on")
	fs.StringVar(&c.Audience, "url", "", "the server's canonical `URL`, the audience of its tokens (default http://{addr}/mcp)")
	fs.StringVar(&c.Issuer, "issuer", "", "token issuer, exactly as in the tokens' iss (default https://$AUTH0_DOMAIN/)")
	fs.StringVar(&c.JWKSURL, "jwks-url", "", "`URL` of the issuer's signing keys (default: Auth0's {issuer}.well-known/jwks.json)")
	fs.BoolVar(&c.Discovery, "discovery", false, "find the signing keys by OpenID discovery")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.Issuer == "" {
		iss, err := issuer.FromDomain(getenv("AUTH0_DOMAIN"))
		if err != nil {
			return config{}, err
		}
		c.Issuer = iss
	}
	if c.Issuer == "" {
		return config{}, errors.New("need -issuer or AUTH0_DOMAIN")
	}
	if c.JWKSURL != "" && c.Discovery {
		return config{}, errors.New("-jwks-url and -discovery both say where the keys are: give one")
	}
	if c.Audience == "" {
		c.Audience = "http://" + c.addr + "/mcp"
	}
	if u, err := url.Parse(c.Audience); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return config{}, fmt.Errorf("-url %q must be an absolute http(s) URL without query or fragment", c.Audience)
	}
	if w := issuer.Warning(c.Issuer); w != "" {
		c.warnings = append(c.warnings, w)
	}
	return c, nil
}
