package middleware_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	bare    = `Bearer realm="api"`
	body401 = "{}\n"
)

func invalidRequest(desc string) (string, string) {
	return `Bearer realm="api", error="invalid_request", error_description="` + desc + `"`,
		`{"error":"invalid_request","error_description":"` + desc + `"}` + "\n"
}

func invalidToken(desc string) (string, string) {
	return `Bearer realm="api", error="invalid_token", error_description="` + desc + `"`,
		`{"error":"invalid_token","error_description":"` + desc + `"}` + "\n"
}

// TestAnswers sends every header variant of RFC 6750 section 2.1, the query
// parameter of section 2.3 and the tokens the validator refuses to real
// servers, and checks each answer's status, WWW-Authenticate and body, and
// that no answer holds the token.
func TestAnswers(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	good := iss.Mint(validatortest.WithScope("read:contacts"))
	expired := iss.Mint(validatortest.WithExpiry(time.Now().Add(-time.Hour)))
	wrongAud := iss.Mint(validatortest.WithAudience("https://other.example.com"))
	h, p, _ := segments(good)
	forged := h + "." + p + ".AAAA"

	servers := map[string]*httptest.Server{
		"default":     serve(t, v, whoami),
		"query":       serve(t, v, whoami, middleware.WithQueryToken("")),
		"optional":    serve(t, v, whoami, middleware.WithCredentialsOptional()),
		"cors":        serve(t, v, whoami, middleware.WithCORSPreflight()),
		"unavailable": serve(t, unavailableValidator(t, iss), whoami),
		"excluded": serve(t, v, whoami, middleware.WithExclusion(func(r *http.Request) bool {
			return r.URL.Path == "/healthz"
		})),
	}

	irBad, irBadBody := invalidRequest("malformed Authorization header")
	irEmpty, irEmptyBody := invalidRequest("empty bearer token")
	irEmptyHeader, irEmptyHeaderBody := invalidRequest("empty Authorization header")
	irExtra, irExtraBody := invalidRequest("Authorization header has extra parts")
	irChars, irCharsBody := invalidRequest("bearer token has invalid characters")
	irTwo, irTwoBody := invalidRequest("more than one Authorization header")
	irMethods, irMethodsBody := invalidRequest("token sent by more than one method")
	irRepeat, irRepeatBody := invalidRequest("access token parameter repeated")
	irQEmpty, irQEmptyBody := invalidRequest("empty access token parameter")
	itExp, itExpBody := invalidToken("token expired")
	itAud, itAudBody := invalidToken("wrong audience")
	itSig, itSigBody := invalidToken("signature not verified")
	itMal, itMalBody := invalidToken("malformed token")

	tests := []struct {
		name   string
		server string
		method string // default GET
		path   string // default /
		auth   []string
		header http.Header
		token  string // the token the request carries, for the leak check

		status int
		www    string // exact WWW-Authenticate; "" means none
		body   string // exact body; for 200, the sub the handler saw
	}{
		// RFC 6750 section 2.1: scheme, spaces and b64token.
		{name: "no Authorization header", status: 401, www: bare, body: body401},
		{name: "Bearer", auth: []string{"Bearer " + good}, token: good, status: 200, body: "auth0|test-user"},
		{name: "lower-case scheme", auth: []string{"bearer " + good}, token: good, status: 200, body: "auth0|test-user"},
		{name: "upper-case scheme", auth: []string{"BEARER " + good}, token: good, status: 200, body: "auth0|test-user"},
		{name: "mixed-case scheme", auth: []string{"bEaReR " + good}, token: good, status: 200, body: "auth0|test-user"},
		{name: "several spaces", auth: []string{"Bearer     " + good}, token: good, status: 200, body: "auth0|test-user"},
		{name: "trailing spaces", auth: []string{"Bearer " + good + "   "}, token: good, status: 200, body: "auth0|test-user"},
		{name: "tab instead of space", auth: []string{"Bearer\t" + good}, token: good, status: 400, www: irBad, body: irBadBody},
		{name: "space and tab", auth: []string{"Bearer \t" + good}, token: good, status: 400, www: irExtra, body: irExtraBody},
		{name: "no space after scheme", auth: []string{"Bearer" + good}, token: good, status: 401, www: bare, body: body401},
		{name: "scheme only", auth: []string{"Bearer"}, status: 400, www: irEmpty, body: irEmptyBody},
		{name: "scheme and spaces only", auth: []string{"Bearer    "}, status: 400, www: irEmpty, body: irEmptyBody},
		{name: "empty header", auth: []string{""}, status: 400, www: irEmptyHeader, body: irEmptyHeaderBody},
		{name: "extra part", auth: []string{"Bearer " + good + " extra"}, token: good, status: 400, www: irExtra, body: irExtraBody},
		{name: "two credentials", auth: []string{"Bearer " + good + ", Basic dXNlcjpwYXNz"}, token: good, status: 400, www: irExtra, body: irExtraBody},
		{name: "quoted token", auth: []string{`Bearer "` + good + `"`}, token: good, status: 400, www: irChars, body: irCharsBody},
		{name: "padding inside token", auth: []string{"Bearer ab=cd"}, status: 400, www: irChars, body: irCharsBody},
		{name: "percent in token", auth: []string{"Bearer ab%2Ecd"}, status: 400, www: irChars, body: irCharsBody},
		{name: "non-ASCII token", auth: []string{"Bearer t\u00f6ken"}, status: 400, www: irChars, body: irCharsBody},
		{name: "scheme not a token", auth: []string{"Be@rer " + good}, token: good, status: 400, www: irBad, body: irBadBody},
		{name: "two header lines", auth: []string{"Bearer " + good, "Bearer " + good}, token: good, status: 400, www: irTwo, body: irTwoBody},
		{name: "two header lines, one Basic", auth: []string{"Basic dXNlcjpwYXNz", "Bearer " + good}, token: good, status: 400, www: irTwo, body: irTwoBody},
		{name: "Basic", auth: []string{"Basic dXNlcjpwYXNz"}, status: 401, www: bare, body: body401},
		{name: "other scheme with a JWT", auth: []string{"DPoP " + good}, token: good, status: 401, www: bare, body: body401},

		// Tokens the validator refuses.
		{name: "padded b64token, not a JWS", auth: []string{"Bearer abc=="}, status: 401, www: itMal, body: itMalBody},
		{name: "expired", auth: []string{"Bearer " + expired}, token: expired, status: 401, www: itExp, body: itExpBody},
		{name: "wrong audience", auth: []string{"Bearer " + wrongAud}, token: wrongAud, status: 401, www: itAud, body: itAudBody},
		{name: "forged signature", auth: []string{"Bearer " + forged}, token: forged, status: 401, www: itSig, body: itSigBody},
		{name: "keys unavailable", server: "unavailable", auth: []string{"Bearer " + good}, token: good, status: 503,
			body: `{"error":"temporarily_unavailable","error_description":"signing keys unavailable, retry later"}` + "\n"},

		// RFC 6750 section 2.3: the query parameter, off by default.
		{name: "query token, not enabled", path: "/?access_token=" + good, token: good, status: 401, www: bare, body: body401},
		{name: "header and query token, query not enabled", path: "/?access_token=" + good, auth: []string{"Bearer " + good}, token: good, status: 400, www: irMethods, body: irMethodsBody},
		{name: "header and query token, query not enabled, name percent-encoded", path: "/?access%5Ftoken=x", auth: []string{"bearer " + good}, token: good, status: 400, www: irMethods, body: irMethodsBody},
		{name: "Basic header and query token, query not enabled", path: "/?access_token=" + good, auth: []string{"Basic dXNlcjpwYXNz"}, token: good, status: 401, www: bare, body: body401},
		{name: "header and other query, query not enabled", path: "/?token=1&access=2", auth: []string{"Bearer " + good}, token: good, status: 200, body: "auth0|test-user"},
		{name: "query token", server: "query", path: "/?a=1&access_token=" + good + "&b=2", token: good, status: 200, body: "auth0|test-user"},
		{name: "query token, name percent-encoded", server: "query", path: "/?access%5Ftoken=" + good, token: good, status: 200, body: "auth0|test-user"},
		{name: "header and query token, name percent-encoded", server: "query", path: "/?access%5ftoken=" + good, auth: []string{"Bearer " + good}, token: good, status: 400, www: irMethods, body: irMethodsBody},
		{name: "query token with Basic header", server: "query", path: "/?access_token=" + good, auth: []string{"Basic dXNlcjpwYXNz"}, token: good, status: 200, body: "auth0|test-user"},
		{name: "header and query token", server: "query", path: "/?access_token=" + good, auth: []string{"Bearer " + good}, token: good, status: 400, www: irMethods, body: irMethodsBody},
		{name: "query token repeated", server: "query", path: "/?access_token=" + good + "&access_token=" + good, token: good, status: 400, www: irRepeat, body: irRepeatBody},
		{name: "query token empty", server: "query", path: "/?access_token=", status: 400, www: irQEmpty, body: irQEmptyBody},
		{name: "query token invalid", server: "query", path: "/?access_token=" + expired, token: expired, status: 401, www: itExp, body: itExpBody},
		{name: "query enabled, header only", server: "query", auth: []string{"Bearer " + good}, token: good, status: 200, body: "auth0|test-user"},
		{name: "query enabled, nothing", server: "query", path: "/?x=access_token", status: 401, www: bare, body: body401},

		// Optional credentials: anonymous allowed, a bad token still refused.
		{name: "optional, none", server: "optional", status: 200, body: "anonymous"},
		{name: "optional, Basic", server: "optional", auth: []string{"Basic dXNlcjpwYXNz"}, status: 200, body: "anonymous"},
		{name: "optional, valid", server: "optional", auth: []string{"Bearer " + good}, token: good, status: 200, body: "auth0|test-user"},
		{name: "optional, expired", server: "optional", auth: []string{"Bearer " + expired}, token: expired, status: 401, www: itExp, body: itExpBody},
		{name: "optional, malformed", server: "optional", auth: []string{"Bearer"}, status: 400, www: irEmpty, body: irEmptyBody},

		// CORS preflight and exclusions.
		{name: "CORS preflight, by default", method: http.MethodOptions, header: http.Header{
			"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"}}, status: 401, www: bare, body: body401},
		{name: "CORS preflight, WithCORSPreflight", server: "cors", method: http.MethodOptions, header: http.Header{
			"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"}}, status: 200, body: "anonymous"},
		{name: "OPTIONS without preflight headers, WithCORSPreflight", server: "cors", method: http.MethodOptions, status: 401, www: bare, body: body401},
		{name: "OPTIONS without preflight headers", method: http.MethodOptions, status: 401, www: bare, body: body401},
		{name: "OPTIONS with a token", method: http.MethodOptions, auth: []string{"Bearer " + good}, token: good, status: 200, body: "auth0|test-user"},
		{name: "excluded path", server: "excluded", path: "/healthz", status: 200, body: "anonymous"},
		{name: "excluded path ignores token", server: "excluded", path: "/healthz", auth: []string{"Bearer " + expired}, token: expired, status: 200, body: "anonymous"},
		{name: "not excluded path", server: "excluded", path: "/api", status: 401, www: bare, body: body401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			server, method, path := tt.server, tt.method, tt.path
			if server == "" {
				server = "default"
			}
			if method == "" {
				method = http.MethodGet
			}
			if path == "" {
				path = "/"
			}
			res := do(t, method, servers[server].URL+path, tt.auth, tt.header)
			assert.Equal(t, tt.status, res.Status)
			assert.Equal(t, tt.www, res.Header.Get("WWW-Authenticate"))
			assert.Len(t, res.Header.Values("WWW-Authenticate"), min(1, len(tt.www)))
			assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
			if tt.status == 200 {
				var seen struct {
					Sub        string `json:"sub"`
					RequestURI string `json:"request_uri"`
					URL        string `json:"url"`
				}
				require.NoError(t, json.Unmarshal([]byte(res.Body), &seen))
				assert.Equal(t, tt.body, seen.Sub)
				if server == "query" {
					// The handler never sees the query token.
					assert.NotContains(t, seen.RequestURI, "access_token")
					assert.NotContains(t, seen.URL, "access_token")
					if strings.Contains(path, "access_token") {
						assert.Equal(t, "private", res.Header.Get("Cache-Control"))
					}
				}
				if tt.name == "query token" {
					assert.Equal(t, "/?a=1&b=2", seen.RequestURI)
				}
			} else {
				assert.Equal(t, tt.body, res.Body)
				assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
				requireNoLeak(t, res.Dump, tt.token)
			}
			if tt.status == 503 {
				assert.Equal(t, "5", res.Header.Get("Retry-After"))
			} else {
				assert.Empty(t, res.Header.Get("Retry-After"))
			}
		})
	}
}

// TestClaimsInContext checks that the handler finds the claims both through
// claims.FromContext and under go-jwt-middleware's own key.
func TestClaimsInContext(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	token := iss.Mint(validatortest.WithScope("read:contacts write:contacts"),
		validatortest.WithPermissions("read:contacts"), validatortest.WithClaim("org_id", "org_1"))
	var got, raw *claims.Claims
	srv := serve(t, v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = claims.FromContext(r.Context())
		raw, _ = r.Context().Value(jwtmiddleware.ContextKey{}).(*claims.Claims)
	}))
	res := do(t, http.MethodGet, srv.URL, []string{"Bearer " + token}, nil)
	require.Equal(t, 200, res.Status)
	require.NotNil(t, got)
	assert.Same(t, got, raw)
	assert.Equal(t, "auth0|test-user", got.Subject)
	assert.Equal(t, []string{"read:contacts", "write:contacts"}, got.Scopes)
	assert.Equal(t, []string{"read:contacts"}, got.Permissions)
	assert.Equal(t, "org_1", got.OrgID)
}

// TestOnReject checks that the hook sees every rejection once, with its
// class, and that the Failure logs through slog without the token.
func TestOnReject(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	expired := iss.Mint(validatortest.WithExpiry(time.Now().Add(-time.Hour)))
	good := iss.Mint()

	var (
		mu       sync.Mutex
		failures []*middleware.Failure
		logs     bytes.Buffer
	)
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	hook := middleware.WithOnReject(func(r *http.Request, f *middleware.Failure) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, f)
		logger.WarnContext(r.Context(), "rejected", "path", r.URL.Path, "failure", f)
	})
	srv := serve(t, v, whoami, hook, middleware.WithQueryToken(""))
	down := serve(t, unavailableValidator(t, iss), whoami, hook)

	cases := []struct {
		url    string
		auth   []string
		token  string
		status int
		code   string
		class  error
	}{
		{srv.URL, nil, "", 401, "", middleware.ErrMissingToken},
		{srv.URL, []string{"Basic dXNlcjpwYXNz"}, "", 401, "", middleware.ErrMissingToken},
		{srv.URL, []string{"Bearer"}, "", 400, middleware.CodeInvalidRequest, middleware.ErrInvalidRequest},
		{srv.URL + "/?access_token=" + good, []string{"Bearer " + good}, good, 400, middleware.CodeInvalidRequest, middleware.ErrInvalidRequest},
		{srv.URL + "/?access_token=" + good + "&access_token=x", nil, good, 400, middleware.CodeInvalidRequest, middleware.ErrInvalidRequest},
		{srv.URL, []string{"Bearer " + expired}, expired, 401, middleware.CodeInvalidToken, validator.ErrExpired},
		{down.URL, []string{"Bearer " + good}, good, 503, middleware.CodeTemporarilyUnavailable, validator.ErrKeysUnavailable},
	}
	for _, c := range cases {
		res := do(t, http.MethodGet, c.url, c.auth, nil)
		require.Equal(t, c.status, res.Status, c.url)
		mu.Lock()
		require.NotEmpty(t, failures)
		f := failures[len(failures)-1]
		mu.Unlock()
		assert.Equal(t, c.status, f.Status)
		assert.Equal(t, c.code, f.Code)
		assert.Equal(t, "api", f.Realm)
		assert.ErrorIs(t, f, c.class)
		assert.ErrorIs(t, f.Err, c.class)
		if c.code == middleware.CodeInvalidToken {
			assert.ErrorIs(t, f.Err, validator.ErrInvalidToken)
		}
		requireNoLeak(t, f.Error()+f.Description, c.token)
	}
	mu.Lock()
	assert.Len(t, failures, len(cases))
	mu.Unlock()
	requireNoLeak(t, logs.String(), good)
	requireNoLeak(t, logs.String(), expired)
	assert.Contains(t, logs.String(), `"failure":{"status":401,"code":"invalid_token","description":"token expired","err":"token expired: exp is in the past"}`)
	assert.NotContains(t, logs.String(), "access_token")
}

// TestRealmAndErrorHandler checks the realm option, its quoting, and a
// custom renderer that decorates the default one.
func TestRealmAndErrorHandler(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	expired := iss.Mint(validatortest.WithExpiry(time.Now().Add(-time.Hour)))

	srv := serve(t, v, whoami, middleware.WithRealm(`contacts "v2" \ api`))
	res := do(t, http.MethodGet, srv.URL, nil, nil)
	assert.Equal(t, 401, res.Status)
	assert.Equal(t, `Bearer realm="contacts \"v2\" \\ api"`, res.Header.Get("WWW-Authenticate"))

	custom := serve(t, v, whoami, middleware.WithRealm("contacts"),
		middleware.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, f *middleware.Failure) {
			w.Header().Set("X-Error-Class", f.Code)
			f.Description = "go away" // renderers may rewrite what the client sees
			middleware.WriteError(w, f)
		}))
	res = do(t, http.MethodGet, custom.URL, []string{"Bearer " + expired}, nil)
	assert.Equal(t, 401, res.Status)
	assert.Equal(t, "invalid_token", res.Header.Get("X-Error-Class"))
	assert.Equal(t, `Bearer realm="contacts", error="invalid_token", error_description="go away"`, res.Header.Get("WWW-Authenticate"))
	assert.JSONEq(t, `{"error":"invalid_token","error_description":"go away"}`, res.Body)
}

// otherValidator is a TokenValidator that is not *validator.Validator,
// as users may write, to check how its plain errors are classified.
type otherValidator struct{ err error }

func (o otherValidator) Validate(ctx context.Context, token string) (*claims.Claims, error) {
	return nil, o.err
}

func TestCustomValidatorErrors(t *testing.T) {
	t.Parallel()
	_, _ = fixture(t)
	const token = "not.a.jwt"
	for _, tt := range []struct {
		name   string
		err    error
		status int
		www    string
	}{
		// The message of a foreign error may hold anything: it is not sent.
		{"plain error", errors.New("rejected " + token), 401, `Bearer realm="api", error="invalid_token", error_description="invalid token"`},
		{"no claims, no error", nil, 401, `Bearer realm="api", error="invalid_token", error_description="invalid token"`},
		{"keys unavailable", &validator.Error{Class: validator.ErrKeysUnavailable}, 503, ""},
		{"validator error", &validator.Error{Class: validator.ErrAudience, Reason: `bad "aud"` + "\n"}, 401,
			`Bearer realm="api", error="invalid_token", error_description="wrong audience"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got *middleware.Failure
			srv := serve(t, otherValidator{tt.err}, whoami, middleware.WithOnReject(func(_ *http.Request, f *middleware.Failure) { got = f }))
			res := do(t, http.MethodGet, srv.URL, []string{"Bearer " + token}, nil)
			assert.Equal(t, tt.status, res.Status)
			assert.Equal(t, tt.www, res.Header.Get("WWW-Authenticate"))
			assert.NotContains(t, res.Dump, token)
			require.NotNil(t, got)
			if tt.status == 401 {
				assert.ErrorIs(t, got, validator.ErrInvalidToken)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		f      middleware.Failure
		status int
		www    string
		body   string
	}{
		{"no credentials", middleware.Failure{Status: 401, Description: "bearer token required"}, 401,
			`Bearer realm="api"`, "{}\n"},
		{"status from code", middleware.Failure{Code: middleware.CodeInsufficientScope, Scope: "a b"}, 403,
			`Bearer realm="api", error="insufficient_scope", scope="a b"`, `{"error":"insufficient_scope","scope":"a b"}` + "\n"},
		{"503", middleware.Failure{Code: middleware.CodeTemporarilyUnavailable, Description: "later"}, 503,
			"", `{"error":"temporarily_unavailable","error_description":"later"}` + "\n"},
		{"unsafe description", middleware.Failure{Status: 401, Code: "invalid_token", Description: "caf\u00e9 \"x\"\\y\r\nz\x00"}, 401,
			`Bearer realm="api", error="invalid_token", error_description="caf   x  y  z"`,
			`{"error":"invalid_token","error_description":"caf   x  y  z"}` + "\n"},
		{"realm escaping", middleware.Failure{Status: 401, Realm: "a\"b\\c\r\nd\te"}, 401,
			`Bearer realm="a\"b\\cd` + "\t" + `e"`, "{}\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			middleware.WriteError(w, &tt.f)
			assert.Equal(t, tt.status, w.Code)
			assert.Equal(t, tt.www, w.Header().Get("WWW-Authenticate"))
			assert.Equal(t, tt.body, w.Body.String())
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			if tt.status == 503 {
				assert.Equal(t, "5", w.Header().Get("Retry-After"))
			}
		})
	}
	assert.Equal(t, "a b", middleware.SafeDescription(" a\u00e9b "))
}

// TestRejectWithoutMiddleware: Reject outside any middleware uses the
// defaults.
func TestRejectWithoutMiddleware(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	middleware.Reject(w, r, &middleware.Failure{Status: 401, Err: middleware.ErrMissingToken})
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, `Bearer realm="api"`, w.Header().Get("WWW-Authenticate"))
}
