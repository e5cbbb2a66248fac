// Command api runs the example API protected by apiguard.
//
//	cd examples && go run ./api -addr 127.0.0.1:8081 -issuer https://TENANT.us.auth0.com/ -audience https://contacts.example.com
//
// -issuer is taken exactly as given: it must equal the tokens' iss byte for
// byte (Auth0 writes it with a trailing slash; many other providers
// without). The keys are found at -jwks-url if set, else with -discovery in
// the jwks_uri of the issuer's OpenID configuration, else at Auth0's
// {issuer}.well-known/jwks.json. Without -issuer and -audience it reads
// AUTH0_DOMAIN (such as "tenant.us.auth0.com", giving the issuer
// "https://tenant.us.auth0.com/") and AUTH0_AUDIENCE.
//
// The API starts even when the issuer is down: protected routes answer 503
// with Retry-After until the keys load, which happens in the background as
// soon as the issuer answers. GET /healthz answers 200 while the process
// runs, GET /readyz 200 once the keys are loaded (503 before). It logs one
// line at start-up, key fetch warnings, and nothing per request.
//
// DPoP (RFC 9449): -dpop=allowed (the default) takes Bearer tokens and
// DPoP-bound tokens (Authorization: DPoP <token> with a DPoP proof),
// -dpop=required only the latter, -dpop=off only Bearer tokens; a
// DPoP-bound token sent as Bearer is refused in every mode. Proofs: algs
// ES256, ES384, ES512, PS256, RS256, EdDSA; iat at most 300 s old and 30 s
// ahead; the URL is the request's own (plain http on loopback). Each proof
// is accepted once, remembered in memory, or with -redis=host:port in
// Redis (replicas share it). -dpop-nonce requires server nonces
// (DPoP-Nonce). GET /api/claims adds cnf_jkt for DPoP requests.
//
// GET /.well-known/oauth-protected-resource serves the API's metadata (RFC
// 9728): resource is -audience, authorization_servers [-issuer]; every 401
// and 403 challenge points to it with resource_metadata. GET /api/mfa
// requires a multi-factor sign-in at most 10 minutes old (RFC 9470).
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
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/apiguard/apiguard/dpop/redisstore"
	"github.com/apiguard/apiguard/examples/internal/api"
	"github.com/apiguard/apiguard/examples/internal/issuer"
	"github.com/apiguard/apiguard/validator"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("api: ")
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
	if w := cfg.MetadataWarning(); w != "" {
		log.Print("warning: ", w)
	}
	// Key refreshes are routine: only warnings and errors reach the log.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	v, closeValidator, err := newValidator(cfg, logger)
	if err != nil {
		log.Fatal(err)
	}
	defer closeValidator()
	closeStore, err := cfg.openStore()
	if err != nil {
		log.Fatal(err)
	}
	defer closeStore()
	l, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s (issuer %s, audience %s, keys %s, DPoP %s)", l.Addr(), cfg.Issuer, cfg.Audience, cfg.keysFrom(), cfg.dpopSummary())
	log.Fatal(api.NewServer(api.NewHandler(v, cfg.Settings)).Serve(l))
}

// config is what the command line and the environment say.
type config struct {
	api.Settings
	addr     string
	redis    string   // host:port of the DPoP replay store, "" for memory
	warnings []string // printed at start-up
}

// parseConfig reads the flags in args, falling back to AUTH0_DOMAIN and
// AUTH0_AUDIENCE for -issuer and -audience.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8081", "`host:port` to listen on")
	fs.StringVar(&c.Issuer, "issuer", "", "token issuer, exactly as in the tokens' iss, such as https://TENANT.us.auth0.com/ (default https://$AUTH0_DOMAIN/)")
	fs.StringVar(&c.Audience, "audience", "", "API identifier, such as https://contacts.example.com (default $AUTH0_AUDIENCE)")
	fs.StringVar(&c.JWKSURL, "jwks-url", "", "`URL` of the issuer's signing keys (default: Auth0's {issuer}.well-known/jwks.json)")
	fs.BoolVar(&c.Discovery, "discovery", false, "find the signing keys by OpenID discovery (jwks_uri of {issuer}/.well-known/openid-configuration)")
	mode := fs.String("dpop", string(api.DPoPAllowed), "DPoP-bound tokens: `off`, allowed (with Bearer tokens) or required")
	fs.BoolVar(&c.DPoP.Nonce, "dpop-nonce", false, "require DPoP server nonces")
	fs.StringVar(&c.redis, "redis", "", "`host:port` of a Redis that keeps used DPoP proofs (default: in memory)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	switch m := api.DPoPMode(*mode); m {
	case api.DPoPOff, api.DPoPAllowed, api.DPoPRequired:
		c.DPoP.Mode = m
	default:
		return config{}, fmt.Errorf("-dpop must be off, allowed or required, not %q", *mode)
	}
	if c.DPoP.Mode == api.DPoPOff && (c.DPoP.Nonce || c.redis != "") {
		return config{}, errors.New("-dpop-nonce and -redis need DPoP: -dpop=allowed or required")
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
	if c.Audience == "" {
		c.Audience = getenv("AUTH0_AUDIENCE")
	}
	if c.Issuer == "" || c.Audience == "" {
		return config{}, errors.New("need -issuer and -audience, or AUTH0_DOMAIN and AUTH0_AUDIENCE")
	}
	if c.JWKSURL != "" && c.Discovery {
		return config{}, errors.New("-jwks-url and -discovery both say where the keys are: give one")
	}
	if w := issuer.Warning(c.Issuer); w != "" {
		c.warnings = append(c.warnings, w)
	}
	return c, nil
}

// keysFrom says where the keys come from, for the start-up line.
func (c config) keysFrom() string {
	switch {
	case c.JWKSURL != "":
		return c.JWKSURL
	case c.Discovery:
		return "by OpenID discovery"
	}
	return "at Auth0's {issuer}.well-known/jwks.json"
}

// openStore connects the DPoP replay store to Redis when -redis is set,
// and returns the function that closes it.
func (c *config) openStore() (func(), error) {
	if c.redis == "" {
		return func() {}, nil
	}
	rdb := redis.NewClient(&redis.Options{Addr: c.redis})
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis at %s: %w", c.redis, err)
	}
	c.DPoP.Store = redisstore.New(rdb, redisstore.Config{})
	return func() { _ = rdb.Close() }, nil
}

// dpopSummary says how DPoP is set up, for the start-up line.
func (c config) dpopSummary() string {
	s := string(c.DPoP.EffectiveMode())
	if c.DPoP.EffectiveMode() == api.DPoPOff {
		return s
	}
	if c.DPoP.Nonce {
		s += ", nonces"
	}
	if c.redis != "" {
		return s + ", replays in Redis at " + c.redis
	}
	return s + ", replays in memory"
}

// newValidator builds the validator for c. It does not wait for the
// issuer (see api.NewValidator).
func newValidator(c config, logger *slog.Logger) (*validator.Validator, func(), error) {
	s := c.Settings
	s.Logger = logger
	return api.NewValidator(context.Background(), s)
}
