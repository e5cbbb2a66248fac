package middleware

import (
	"context"
	"errors"
	"net/http"
	"path"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/validator"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
)

// TokenValidator checks an access token and returns its claims.
// *validator.Validator implements it. Errors should be *validator.Error
// values: their class becomes the error_description (the reason stays in
// [Failure.Err]), an ErrKeysUnavailable class becomes a 503, and any other
// error is reported as invalid_token with a generic description.
type TokenValidator interface {
	Validate(ctx context.Context, token string) (*claims.Claims, error)
}

// Option configures the middleware.
type Option func(*config)

type config struct {
	settings
	credentialsOptional bool
	corsPreflight       bool
	queryParam          string // "" when the query method is off
	exclusions          []func(*http.Request) bool
	excludedPaths       map[string]bool
}

// WithRealm sets the realm of the WWW-Authenticate challenge (default
// DefaultRealm); it is sent as a quoted-string, with '"' and '\' escaped.
// Guards of package scopes that run after the middleware use it too.
func WithRealm(realm string) Option {
	return func(c *config) { c.realm = realm }
}

// WithCredentialsOptional lets requests without bearer credentials through
// anonymously: claims.FromContext then finds no claims. A request that
// does carry a token is still rejected when the token is malformed or
// invalid.
func WithCredentialsOptional() Option {
	return func(c *config) { c.credentialsOptional = true }
}

// WithCORSPreflight lets CORS preflight requests (OPTIONS with Origin and
// Access-Control-Request-Method, which browsers send without credentials)
// through unauthenticated, for a CORS handler mounted after the
// middleware. It is off by default because whatever answers OPTIONS after
// the middleware then runs without claims: a handler routed by path alone
// would serve an anonymous preflight. Mounting the CORS handler in front of
// the middleware needs no option.
func WithCORSPreflight() Option {
	return func(c *config) { c.corsPreflight = true }
}

// WithQueryToken also accepts the token in the URI query parameter param,
// usually "access_token" (RFC 6750 section 2.3), which the empty string
// selects. The token is off by default because URLs end up in logs and
// browser history: when it is on, the middleware removes the parameter
// from the request's URL and RequestURI before anything after it (hooks,
// error handlers, exclusions, the next handler, also for excluded requests
// and CORS preflights) sees the request, and marks the response
// Cache-Control: private. The form-encoded body parameter of section 2.2
// is not supported. Sending the parameter twice is invalid_request.
// Loggers that run before the middleware still see the original URL.
//
// Whether or not this option is set, a request that sends a token both in
// an Authorization: Bearer header and in an access_token (or param) query
// parameter is invalid_request (RFC 6750 section 2: one method per
// request). Without the option, a query token alone counts as no
// credentials.
func WithQueryToken(param string) Option {
	if param == "" {
		param = "access_token"
	}
	return func(c *config) { c.queryParam = param }
}

// WithExclusion skips authentication for requests for which excluded
// returns true; they reach the next handler without claims, even when they
// carry a token. Several exclusions combine with "or".
//
// The predicate runs before routing, on the decoded r.URL.Path, while
// routers match the escaped path segment by segment: a predicate such as
// strings.HasPrefix(r.URL.Path, "/public/") would otherwise also match
// GET /public%2Fx/admin, which a router sends to a protected
// /{tenant}/admin route. So the middleware never asks the predicates about
// a request whose path is not in its plain form: a path with escapes that
// differ from the default encoding (r.URL.RawPath set), a path that
// path.Clean would change (apart from one trailing slash), or a decoded
// path that holds '?', '#', '%', '\' or a control character. Such requests
// are authenticated as usual. Predicates should look at r.URL.Path only,
// never at RequestURI or the query.
//
// For fixed paths such as health checks, [WithExcludedPaths] needs no
// predicate. When an API has public routes next to protected ones, prefer
// wrapping only the protected routes (or a sub-router of them) with the
// middleware, so that the router, not a predicate, decides what is public.
func WithExclusion(excluded func(r *http.Request) bool) Option {
	return func(c *config) {
		if excluded != nil {
			c.exclusions = append(c.exclusions, excluded)
		}
	}
}

// WithExcludedPaths skips authentication, as [WithExclusion] does, for
// requests whose escaped path (r.URL.EscapedPath()) is exactly one of
// paths, such as "/healthz" or "/readyz"; the query does not matter. Each
// path must be absolute and clean (path.Clean leaves it as it is): New
// panics otherwise, since such a path could never match.
func WithExcludedPaths(paths ...string) Option {
	for _, p := range paths {
		if p == "" || p[0] != '/' || path.Clean(p) != p {
			panic("middleware: WithExcludedPaths: " + p + " is not an absolute, clean path")
		}
	}
	return func(c *config) {
		if c.excludedPaths == nil {
			c.excludedPaths = make(map[string]bool, len(paths))
		}
		for _, p := range paths {
			c.excludedPaths[p] = true
		}
	}
}

// WithResourceMetadata makes every challenge of the middleware and of the
// guards after it (401, 403 and 400) carry
// resource_metadata="<url>", the absolute URL of the API's OAuth 2.0
// Protected Resource Metadata (RFC 9728 section 5.1), where a client that
// meets the API cold learns which authorization server to ask for a
// token. Package resource serves the document and derives the URL.
func WithResourceMetadata(url string) Option {
	return func(c *config) {
		c.resourceMetadata = nil
		if url != "" {
			c.resourceMetadata = func(*http.Request) string { return url }
		}
	}
}

// WithResourceMetadataFunc is [WithResourceMetadata] with the URL built for
// each rejected request, for an API reached under several host names:
//
//	middleware.WithResourceMetadataFunc(func(r *http.Request) string {
//		return "https://" + r.Host + meta.Path()
//	})
//
// Building it from r.Host only reflects what the client sent back to that
// client; behind a proxy, prefer the public URL.
func WithResourceMetadataFunc(url func(r *http.Request) string) Option {
	return func(c *config) { c.resourceMetadata = url }
}

// WithErrorHandler replaces [WriteError] as the renderer of rejections,
// for the middleware and for guards that run after it. f.Realm is set.
func WithErrorHandler(h ErrorHandler) Option {
	return func(c *config) { c.errorHandler = h }
}

// WithOnReject calls hook with every rejection, before it is rendered: by
// the middleware and by guards that run after it. f.Err tells the class
// and the exact reason (see [Failure]). r is the request as the middleware
// received it (minus a query token, see [WithQueryToken]), so its
// Authorization header still holds the credentials: do not log headers.
func WithOnReject(hook func(r *http.Request, f *Failure)) Option {
	return func(c *config) { c.onReject = hook }
}

// New returns middleware that authenticates requests with a bearer token
// that v validates, as RFC 6750 describes, and puts the token's claims
// into the request context, where claims.FromContext finds them. It is
// built on go-jwt-middleware v2, which also finds the claims under
// jwtmiddleware.ContextKey{}.
//
// With [WithDPoP], requests with the DPoP scheme are accepted too; a
// DPoP-bound token sent with the Bearer scheme is refused whatever the
// options.
//
// Requests without bearer credentials get a 401 with a bare challenge,
// malformed credentials a 400 invalid_request, a token v rejects a 401
// invalid_token, and a v that cannot load its keys a 503: see [WriteError].
// CORS preflight requests are authenticated like any other unless
// [WithCORSPreflight] lets them through.
func New(v TokenValidator, opts ...Option) func(http.Handler) http.Handler {
	if v == nil {
		panic("middleware: New with a nil TokenValidator")
	}
	c := &config{settings: settings{realm: DefaultRealm}}
	for _, o := range opts {
		o(c)
	}
	s := &c.settings
	if s.isDefault() {
		s = defaultSettings
	}
	// The b64token syntax check reads every byte of the token: with this
	// package's Validator, which accepts nothing but base64url segments
	// and dots (a subset of b64token) and decodes every segment before
	// any key lookup, it runs only when the token is refused, to answer a
	// malformed one with 400 exactly as before the validator ran. Other
	// validators, DPoP and query tokens keep it first.
	_, ours := v.(*validator.Validator)
	deferSyntax := ours && s.dpop == nil && c.queryParam == ""
	validate := func(ctx context.Context, token string) (any, error) {
		cl, err := v.Validate(ctx, token)
		if err != nil {
			if deferSyntax {
				if serr := tokenSyntax(token, errTokenSyntax); serr != nil {
					return nil, serr
				}
			}
			return nil, tokenFailure(token, err)
		}
		if cl == nil {
			return nil, tokenFailure(token, errNoClaims)
		}
		return cl, nil
	}
	return func(next http.Handler) http.Handler {
		h := &handler{config: c, s: s, checkSyntax: !deferSyntax}
		h.next = &promote{next: next, settings: s}
		h.check = jwtmiddleware.New(validate,
			jwtmiddleware.WithTokenExtractor(h.extract),
			jwtmiddleware.WithErrorHandler(h.fail),
			jwtmiddleware.WithCredentialsOptional(c.credentialsOptional),
		).CheckJWT(h.next)
		return h
	}
}

var errNoClaims = errors.New("validator returned no claims")

type handler struct {
	*config
	s     *settings // defaultSettings when nothing is configured
	check http.Handler
	next  *promote
	// checkSyntax: the extractor checks the token's characters (else
	// New's validate does, on refusal only).
	checkSyntax bool
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var queryErr error
	if h.queryParam != "" {
		// Stripped first, so that no path after the middleware (excluded,
		// preflight, rejected or accepted) sees the token in the URL.
		var stripped bool
		r, stripped, queryErr = takeQueryToken(r, h.queryParam)
		if stripped {
			w.Header().Set("Cache-Control", "private")
		}
	}
	if (h.corsPreflight && isPreflight(r)) || h.excluded(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	if queryErr != nil {
		h.s.reject(w, r, requestFailure(queryErr))
		return
	}
	if h.queryParam == "" && hasTokenScheme(r.Header["Authorization"], h.s.dpop != nil) {
		// The query method is off, yet a token in both places is still
		// two methods (RFC 6750 section 2).
		if r2, stripped, _ := takeQueryToken(r, "access_token"); stripped {
			h.s.reject(w, r2, requestFailure(errTwoMethods))
			return
		}
	}
	h.check.ServeHTTP(w, r)
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions &&
		r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// excluded reports whether authentication is skipped for r: only a plain
// path is ever compared or shown to a predicate.
func (h *handler) excluded(r *http.Request) bool {
	if len(h.exclusions) == 0 && len(h.excludedPaths) == 0 {
		return false
	}
	if !plainPath(r.URL.Path, r.URL.RawPath) {
		return false
	}
	if h.excludedPaths[r.URL.EscapedPath()] {
		return true
	}
	for _, ex := range h.exclusions {
		if ex(r) {
			return true
		}
	}
	return false
}

// plainPath reports whether a request path means the same to a predicate
// on the decoded path as to a router on the escaped one: its escapes are
// the default ones (no RawPath), it is clean (one trailing slash allowed),
// and it holds no character that a decoder or a second decoding could
// turn into a separator.
func plainPath(p, rawPath string) bool {
	if rawPath != "" || p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '?' || c == '#' || c == '%' || c == '\\' {
			return false
		}
	}
	c := path.Clean(p)
	return c == p || (c+"/" == p && c != "/")
}

// extract is the jwtmiddleware.TokenExtractor: "" means no credentials,
// an error is a malformed request (or, with DPoP required, a Bearer one).
func (h *handler) extract(r *http.Request) (string, error) {
	d := h.s.dpop
	scheme, token, err := tokenFromHeader(r.Header["Authorization"], d != nil, h.checkSyntax)
	if err != nil {
		return "", err
	}
	if h.queryParam != "" {
		if q, ok := r.Context().Value(queryTokenKey{}).(string); ok {
			if token != "" {
				return "", errTwoMethods
			}
			if !isB64token(q) {
				return "", errTokenSyntax
			}
			scheme, token = schemeBearer, q
		}
	}
	if d != nil && scheme == schemeBearer {
		if len(r.Header["Dpop"]) > 0 {
			// A proof with a Bearer token: the client meant DPoP, and a
			// bound token must not pass as a bearer one (RFC 9449 7.2).
			return "", errProofWithBearer
		}
		if d.required {
			return "", ErrDPoPRequired
		}
	}
	return token, nil
}

// fail is the jwtmiddleware.ErrorHandler: it classifies err and rejects.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.s.reject(w, r, classify(err))
}

// promote is the handler go-jwt-middleware calls on success. CheckJWT has
// already cloned the request to put the claims under its own context key,
// where claims.FromContext finds them too; promote adds the settings, when
// not the defaults, with one shallow copy of the request, and otherwise
// nothing: the request's glue costs what CheckJWT costs.
type promote struct {
	next     http.Handler
	settings *settings
}

func (p *promote) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	parent := ctx
	if p.settings != defaultSettings {
		ctx = context.WithValue(ctx, settingsKey{}, p.settings)
	}
	if c, ok := parent.Value(jwtmiddleware.ContextKey{}).(*claims.Claims); ok && c != nil {
		var f *Failure
		if ctx, f = bind(ctx, w, r, p.settings.dpop, c); f != nil {
			p.settings.reject(w, r, f)
			return
		}
		// claims.FromContext finds c where CheckJWT put it: no second
		// context entry, no second request copy.
	}
	if ctx != parent {
		r = r.WithContext(ctx)
	}
	p.next.ServeHTTP(w, r)
}
