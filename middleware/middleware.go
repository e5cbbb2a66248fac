package middleware

import (
	"context"
	"errors"
	"net/http"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/validator"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
)

// TokenValidator checks an access token and returns its claims.
// *validator.Validator implements it. Errors should be *validator.Error
// values: their message becomes the error_description, an
// ErrKeysUnavailable class becomes a 503, and any other error is reported
// as invalid_token with a generic description.
type TokenValidator interface {
	Validate(ctx context.Context, token string) (*claims.Claims, error)
}

// Option configures the middleware.
type Option func(*config)

type config struct {
	settings
	credentialsOptional bool
	corsPreflight       bool
	queryParam          string
	exclusions          []func(*http.Request) bool
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
// error handlers, the next handler) sees the request, and marks the
// response Cache-Control: private. The form-encoded body parameter of
// section 2.2 is not supported. Sending a token both in the header and
// in the query, or the parameter twice, is invalid_request. Loggers that
// run before the middleware still see the original URL.
func WithQueryToken(param string) Option {
	if param == "" {
		param = "access_token"
	}
	return func(c *config) { c.queryParam = param }
}

// WithExclusion skips authentication for requests for which excluded
// returns true, such as health checks; they reach the next handler without
// claims, even when they carry a token. Several exclusions combine with
// "or".
func WithExclusion(excluded func(r *http.Request) bool) Option {
	return func(c *config) {
		if excluded != nil {
			c.exclusions = append(c.exclusions, excluded)
		}
	}
}

// WithErrorHandler replaces [WriteError] as the renderer of rejections,
// for the middleware and for guards that run after it. f.Realm is set.
func WithErrorHandler(h ErrorHandler) Option {
	return func(c *config) { c.errorHandler = h }
}

// WithOnReject calls hook with every rejection, before it is rendered: by
// the middleware and by guards that run after it. f.Err tells the class
// (see [Failure]). r is the request as the middleware received it (minus
// a query token, see [WithQueryToken]), so its Authorization header still
// holds the credentials: do not log headers.
func WithOnReject(hook func(r *http.Request, f *Failure)) Option {
	return func(c *config) { c.onReject = hook }
}

// New returns middleware that authenticates requests with a bearer token
// that v validates, as RFC 6750 describes, and puts the token's claims
// into the request context, where claims.FromContext finds them. It is
// built on go-jwt-middleware v2, which also finds the claims under
// jwtmiddleware.ContextKey{}.
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
	validate := func(ctx context.Context, token string) (any, error) {
		cl, err := v.Validate(ctx, token)
		if err != nil {
			return nil, err
		}
		if cl == nil {
			return nil, errNoClaims
		}
		return cl, nil
	}
	return func(next http.Handler) http.Handler {
		h := &handler{config: c, s: s}
		h.next = &promote{next: next, settings: s}
		h.check = jwtmiddleware.New(validate,
			jwtmiddleware.WithTokenExtractor(h.extract),
			jwtmiddleware.WithErrorHandler(h.fail),
			jwtmiddleware.WithCredentialsOptional(c.credentialsOptional),
			jwtmiddleware.WithValidateOnOptions(true),
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
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (h.corsPreflight && isPreflight(r)) || h.excluded(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	if h.queryParam != "" {
		r2, err := takeQueryToken(r, h.queryParam)
		if r2 != r {
			w.Header().Set("Cache-Control", "private")
		}
		if err != nil {
			h.s.reject(w, r2, requestFailure(err))
			return
		}
		r = r2
	}
	h.check.ServeHTTP(w, r)
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions &&
		r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

func (h *handler) excluded(r *http.Request) bool {
	for _, ex := range h.exclusions {
		if ex(r) {
			return true
		}
	}
	return false
}

// extract is the jwtmiddleware.TokenExtractor: "" means no bearer
// credentials, an error is a malformed request.
func (h *handler) extract(r *http.Request) (string, error) {
	token, err := bearerFromHeader(r.Header["Authorization"])
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
			token = q
		}
	}
	return token, nil
}

// fail is the jwtmiddleware.ErrorHandler: it classifies err and rejects.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.s.reject(w, r, classify(err))
}

func classify(err error) *Failure {
	var re *requestError
	switch {
	case errors.Is(err, jwtmiddleware.ErrJWTMissing):
		return &Failure{Status: http.StatusUnauthorized, Description: "bearer token required", Err: ErrMissingToken}
	case errors.As(err, &re):
		return requestFailure(re)
	}
	// go-jwt-middleware wraps the validator's error.
	if errors.Is(err, jwtmiddleware.ErrJWTInvalid) {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
	}
	if errors.Is(err, validator.ErrKeysUnavailable) {
		return &Failure{
			Status:      http.StatusServiceUnavailable,
			Code:        CodeTemporarilyUnavailable,
			Description: "signing keys unavailable, retry later",
			Err:         err,
		}
	}
	desc := "invalid token"
	var ve *validator.Error
	if errors.As(err, &ve) {
		desc = ve.Error()
	}
	if !errors.Is(err, validator.ErrInvalidToken) {
		err = &invalidToken{err}
	}
	return &Failure{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: desc, Err: err}
}

func requestFailure(err error) *Failure {
	desc := "malformed request"
	var re *requestError
	if errors.As(err, &re) {
		desc = re.reason
	}
	return &Failure{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: desc, Err: err}
}

// invalidToken makes an error of a custom TokenValidator match
// validator.ErrInvalidToken.
type invalidToken struct{ err error }

func (e *invalidToken) Error() string        { return "invalid token: " + e.err.Error() }
func (e *invalidToken) Unwrap() error        { return e.err }
func (e *invalidToken) Is(target error) bool { return target == validator.ErrInvalidToken }

// promote is the handler go-jwt-middleware calls on success. CheckJWT has
// already cloned the request to put the claims under its own context key;
// promote adds them under claims' key (and the settings, when not the
// defaults) with one shallow copy of the request.
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
		ctx = claims.NewContext(ctx, c)
	}
	if ctx != parent {
		r = r.WithContext(ctx)
	}
	p.next.ServeHTTP(w, r)
}
