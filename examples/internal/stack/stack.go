package stack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/apiguard/apiguard/examples/internal/api"
	"github.com/apiguard/apiguard/examples/internal/devauth"
	"github.com/apiguard/apiguard/examples/internal/issuer"
	"github.com/apiguard/apiguard/examples/internal/loopback"
	"github.com/apiguard/apiguard/examples/internal/webapp"
	"github.com/apiguard/apiguard/validator"
)

// Auth0 is a real Auth0 tenant to use instead of devauth.
type Auth0 struct {
	// Domain is the tenant's domain, such as "tenant.us.auth0.com".
	Domain string
	// ClientID and ClientSecret are the Regular Web Application's.
	ClientID     string
	ClientSecret string // keep it out of logs and commits
	// Audience is the API's Identifier.
	Audience string
	// CallbackURL is one of the application's Allowed Callback URLs, on a
	// loopback address, such as "http://localhost:3000/callback".
	CallbackURL string
}

// Issuer returns the tenant's issuer URL.
func (a *Auth0) Issuer() string {
	iss, _ := issuer.FromDomain(a.Domain) // checked by Auth0FromEnv
	return iss
}

// Auth0FromEnv reads AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET,
// AUTH0_AUDIENCE and AUTH0_CALLBACK_URL. It returns nil when AUTH0_DOMAIN is
// unset and an error when it is set but another variable is missing.
func Auth0FromEnv(getenv func(string) string) (*Auth0, error) {
	a := &Auth0{
		Domain: getenv("AUTH0_DOMAIN"), ClientID: getenv("AUTH0_CLIENT_ID"),
		ClientSecret: getenv("AUTH0_CLIENT_SECRET"), Audience: getenv("AUTH0_AUDIENCE"),
		CallbackURL: getenv("AUTH0_CALLBACK_URL"),
	}
	if a.Domain == "" {
		return nil, nil
	}
	if _, err := issuer.FromDomain(a.Domain); err != nil {
		return nil, err
	}
	var missing []string
	for _, kv := range []struct{ name, v string }{
		{"AUTH0_CLIENT_ID", a.ClientID}, {"AUTH0_CLIENT_SECRET", a.ClientSecret},
		{"AUTH0_AUDIENCE", a.Audience}, {"AUTH0_CALLBACK_URL", a.CallbackURL},
	} {
		if kv.v == "" {
			missing = append(missing, kv.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("AUTH0_DOMAIN is set but %s is not", strings.Join(missing, ", "))
	}
	u, err := url.Parse(a.CallbackURL)
	if err != nil || u.Port() == "" || !loopback.IsLoopbackURL(a.CallbackURL) {
		return nil, fmt.Errorf("AUTH0_CALLBACK_URL %q must be a loopback URL with a port, such as http://localhost:3000/callback", a.CallbackURL)
	}
	return a, nil
}

// Options configures Start. The zero value runs the demo tenant.
type Options struct {
	// Auth0, when set, makes the web app and the API use that tenant; no
	// devauth server is started.
	Auth0 *Auth0
	// AccessTokenLifetime of devauth; default 5 minutes.
	AccessTokenLifetime time.Duration
	// AuthClock is devauth's clock; default time.Now.
	AuthClock func() time.Time
	// Tenant, when set, may change the demo tenant before devauth starts.
	Tenant func(*devauth.Config)
	// Scopes the web app requests; default webapp.DefaultScopes.
	Scopes []string
	// ExpiryLeeway of the web app (see webapp.Config).
	ExpiryLeeway time.Duration
	// OnToken is passed to the web app (see webapp.Config).
	OnToken func(reason string, t *oauth2.Token)
	// BearerOnly makes the web app ask for bearer tokens, without DPoP
	// (see webapp.Config).
	BearerOnly bool
	// WebAppAddr is where the web app listens; default a free loopback
	// port, or the port of Auth0.CallbackURL.
	WebAppAddr string
	// APIAddr is where the API listens; default a free loopback port.
	APIAddr string
	// Logger receives the validator's warnings; default discards them.
	Logger *slog.Logger
}

// Stack is the three running servers.
type Stack struct {
	// AuthServer is the devauth server; nil with Auth0.
	AuthServer *devauth.Server
	// Issuer is the authorization server's issuer URL.
	Issuer string
	// AuthURL, APIURL and WebAppURL are the servers' base URLs, without
	// trailing slash (AuthURL is empty with Auth0).
	AuthURL, APIURL, WebAppURL string
	// ClientID, ClientSecret and Audience are the web app's settings.
	ClientID, ClientSecret, Audience string
	// Validator is the API's validator.
	Validator *validator.Validator
	// WebApp is the web application.
	WebApp *webapp.App

	servers []*http.Server
}

// Start starts the servers on loopback addresses. Close stops them.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	st := &Stack{}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	webAddr, apiAddr := opts.WebAppAddr, opts.APIAddr
	if webAddr == "" {
		webAddr = "127.0.0.1:0"
		if opts.Auth0 != nil {
			u, _ := url.Parse(opts.Auth0.CallbackURL) // checked by Auth0FromEnv
			webAddr = u.Host
		}
	}
	if apiAddr == "" {
		apiAddr = "127.0.0.1:0"
	}
	webL, err := loopback.Listen(webAddr)
	if err != nil {
		return nil, fmt.Errorf("web app: %w", err)
	}
	st.WebAppURL = loopback.BaseURL(webL)
	apiL, err := loopback.Listen(apiAddr)
	if err != nil {
		webL.Close()
		return nil, fmt.Errorf("API: %w", err)
	}
	st.APIURL = loopback.BaseURL(apiL)
	callback := st.WebAppURL + "/callback"

	if a := opts.Auth0; a != nil {
		st.Issuer, st.ClientID, st.ClientSecret, st.Audience = a.Issuer(), a.ClientID, a.ClientSecret, a.Audience
		callback = a.CallbackURL
	} else {
		authL, err := loopback.Listen("127.0.0.1:0")
		if err != nil {
			webL.Close()
			apiL.Close()
			return nil, fmt.Errorf("authorization server: %w", err)
		}
		st.AuthURL = loopback.BaseURL(authL)
		st.Issuer = st.AuthURL + "/"
		st.ClientID, st.ClientSecret, st.Audience = ClientID, rand.Text(), Audience
		cfg := Tenant(st.Issuer, st.ClientSecret, st.WebAppURL)
		cfg.AccessTokenLifetime = opts.AccessTokenLifetime
		if cfg.AccessTokenLifetime == 0 {
			cfg.AccessTokenLifetime = 5 * time.Minute
		}
		cfg.Now = opts.AuthClock
		if opts.Tenant != nil {
			opts.Tenant(&cfg)
		}
		if st.AuthServer, err = devauth.New(cfg); err != nil {
			webL.Close()
			apiL.Close()
			authL.Close()
			return nil, err
		}
		st.serve(authL, st.AuthServer)
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if st.Validator, err = validator.New(ctx, validator.Config{
		Issuer: st.Issuer, Audiences: []string{st.Audience}, Logger: logger,
	}); err != nil {
		webL.Close()
		apiL.Close()
		return nil, fmt.Errorf("API validator: %w", err)
	}
	st.start(apiL, api.NewServer(api.NewHandler(st.Validator, api.Settings{Issuer: st.Issuer, Audience: st.Audience})))

	if st.WebApp, err = webapp.New(ctx, webapp.Config{
		Issuer: st.Issuer, ClientID: st.ClientID, ClientSecret: st.ClientSecret,
		RedirectURL: callback, Audience: st.Audience, Scopes: opts.Scopes,
		APIBaseURL: st.APIURL, ExpiryLeeway: opts.ExpiryLeeway, OnToken: opts.OnToken, BearerOnly: opts.BearerOnly,
	}); err != nil {
		webL.Close()
		return nil, err
	}
	if opts.Auth0 != nil {
		// The browser must come back on the registered callback's host
		// (localhost and 127.0.0.1 are different sites for cookies).
		u, _ := url.Parse(callback)
		st.WebAppURL = u.Scheme + "://" + u.Host
	}
	st.serve(webL, st.WebApp)
	return st, nil
}

func (st *Stack) serve(l net.Listener, h http.Handler) {
	st.start(l, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second})
}

func (st *Stack) start(l net.Listener, srv *http.Server) {
	st.servers = append(st.servers, srv)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "stack: serve:", err)
		}
	}()
}

// Close stops the servers and the validator.
func (st *Stack) Close() {
	for _, s := range st.servers {
		s.Close()
	}
	if st.Validator != nil {
		st.Validator.Close()
	}
}
