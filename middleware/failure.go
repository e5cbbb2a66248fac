package middleware

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/apiguard/apiguard/validator"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
)

// Error codes of [Failure.Code]. The first three are the bearer token error
// codes of RFC 6750 section 3.1; CodeInsufficientUserAuthentication is the
// step-up code of RFC 9470 section 3; CodeTemporarilyUnavailable is the
// OAuth 2.0 code (RFC 6749 section 4.1.2.1) for a server that cannot check
// tokens now. An empty code means the request carried no bearer
// credentials.
const (
	CodeInvalidRequest                 = "invalid_request"
	CodeInvalidToken                   = "invalid_token"
	CodeInsufficientScope              = "insufficient_scope"
	CodeInsufficientUserAuthentication = "insufficient_user_authentication"
	CodeTemporarilyUnavailable         = "temporarily_unavailable"
	// CodeInvalidDPoPProof and CodeUseDPoPNonce are the DPoP error codes
	// of RFC 9449 sections 7.1 and 9: the proof was refused, or it lacks
	// a current server nonce (sent in the DPoP-Nonce header).
	CodeInvalidDPoPProof = "invalid_dpop_proof"
	CodeUseDPoPNonce     = "use_dpop_nonce"
)

// DefaultRealm is the realm of the challenge unless [WithRealm] sets one.
const DefaultRealm = "api"

// RetryAfterSeconds is the Retry-After value [WriteError] sends with a 503.
const RetryAfterSeconds = 5

// Error classes of [Failure.Err] for rejections the middleware makes
// before any validation. A token the validator refused matches
// validator.ErrInvalidToken, and keys that could not be loaded match
// validator.ErrKeysUnavailable.
var (
	// ErrMissingToken: the request carried no bearer credentials, for
	// example no Authorization header or another scheme such as Basic.
	ErrMissingToken = errors.New("no bearer token")
	// ErrInvalidRequest: the credentials are malformed (RFC 6750 section
	// 2.1) or were sent more than once.
	ErrInvalidRequest = errors.New("invalid request")
)

// Failure describes a rejected request: what the client is told and why.
// It is an error, matches its Err with [errors.Is] and [errors.As], and is
// a [slog.LogValuer], so a hook can log it as is:
//
//	middleware.WithOnReject(func(r *http.Request, f *middleware.Failure) {
//		slog.WarnContext(r.Context(), "rejected", "path", r.URL.Path, "failure", f)
//	})
//
// Nothing the middleware or the guards put into a Failure holds the token,
// its claims or raw header values (the error of a TokenValidator other
// than *validator.Validator is kept in Err as it is, but never sent).
type Failure struct {
	// Status is the HTTP status code: 400, 401, 403 or 503.
	Status int
	// Code is the error code sent to the client, one of the Code
	// constants, or "" when the request had no bearer credentials.
	Code string
	// Description is a short human-readable explanation, safe to show to
	// the client: for a refused token, only the class of the refusal.
	Description string
	// Scope is the scope the resource requires, space-separated; set for
	// insufficient_scope answers of scope and permission guards.
	Scope string
	// Params are further auth-params of the challenge, after error,
	// error_description and scope, such as RFC 9470's acr_values and
	// max_age; the JSON body carries them too. Names must be RFC 7230
	// tokens and not one of the parameters above (others are dropped).
	Params []Param
	// Scheme is the authentication scheme of the challenge that carries
	// the error; empty means "Bearer". The middleware sets "DPoP" (RFC 9449
	// section 7.1) to answer a request sent with the DPoP scheme in that
	// scheme.
	Scheme string
	// Challenges, when set, are all the challenges of the answer, in
	// order, one per scheme the resource accepts (RFC 9110 section 11.6.1),
	// each in a WWW-Authenticate field of its own (so that Header.Get
	// returns the first, and parsers of one challenge per field work): for
	// example Bearer and DPoP with its algs (RFC 9449 section 7.2). The error, error_description, scope and
	// Params go into the challenge whose scheme is Scheme (the first one
	// when none is); each challenge carries the realm, its own Params (not
	// sent in the body) and resource_metadata. Empty means one challenge
	// of Scheme. The middleware fills it in when DPoP is configured
	// ([WithDPoP]).
	Challenges []Challenge
	// Realm is the realm of the challenge; empty means DefaultRealm.
	Realm string
	// ResourceMetadata is the absolute URL of the resource's RFC 9728
	// metadata, sent as resource_metadata in the challenge; the middleware
	// sets it when [WithResourceMetadata] or [WithResourceMetadataFunc] is
	// configured.
	ResourceMetadata string
	// Err is the cause, for logs and metrics: ErrMissingToken,
	// ErrInvalidRequest, an error matching validator.ErrInvalidToken or
	// validator.ErrKeysUnavailable (with the exact reason the client is
	// not told), a guard's error class, or with DPoP
	// ErrBoundTokenAsBearer, ErrDPoPRequired or a *dpop.Error (matching
	// dpop.ErrInvalidProof, dpop.ErrUseNonce, dpop.ErrUnboundToken or
	// dpop.ErrStoreUnavailable).
	Err error
}

// Challenge is one challenge of a WWW-Authenticate field: a scheme and
// the auth-params that belong to the scheme rather than to the error,
// such as DPoP's algs.
type Challenge struct {
	// Scheme is the authentication scheme, such as "Bearer" or "DPoP".
	Scheme string
	// Params are the scheme's own auth-params; names follow the rules of
	// [Failure.Params].
	Params []Param
}

// Param is an auth-param of a challenge (RFC 7235 section 2.1). The value
// is always sent as a quoted-string.
type Param struct {
	Name, Value string
}

// Error returns the status, code and description.
func (f *Failure) Error() string {
	code := f.Code
	if code == "" {
		code = "no credentials"
	}
	if f.Description == "" {
		return fmt.Sprintf("%d %s", f.Status, code)
	}
	return fmt.Sprintf("%d %s: %s", f.Status, code, f.Description)
}

// Unwrap returns Err.
func (f *Failure) Unwrap() error { return f.Err }

// LogValue makes a Failure log as a group of its status, code,
// description, scope, params and error.
func (f *Failure) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 6)
	attrs = append(attrs, slog.Int("status", f.Status), slog.String("code", f.Code))
	if f.Description != "" {
		attrs = append(attrs, slog.String("description", f.Description))
	}
	if f.Scope != "" {
		attrs = append(attrs, slog.String("scope", f.Scope))
	}
	for _, p := range f.Params {
		attrs = append(attrs, slog.String(p.Name, p.Value))
	}
	if f.Scheme != "" {
		attrs = append(attrs, slog.String("scheme", f.Scheme))
	}
	if f.Err != nil {
		attrs = append(attrs, slog.String("err", f.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

// ErrorHandler renders a rejection. Replace the default, [WriteError],
// with [WithErrorHandler]; the Failure's Realm is already set.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, f *Failure)

// WriteError is the default rendering of a Failure, as RFC 6750 section 3
// describes:
//
//   - a 4xx answer carries the challenge
//     WWW-Authenticate: Bearer realm="..." followed, when Code is set, by
//     error, error_description and scope, then Params, then
//     resource_metadata when ResourceMetadata is set; with Challenges,
//     one WWW-Authenticate field per challenge, in order, the error in
//     the one of Scheme (see [Failure.Challenges]);
//   - a 503 carries Retry-After instead;
//   - the body is a JSON object with the same error, error_description,
//     scope and Params, or {} when Code is empty.
//
// Every auth-param value is an RFC 7235 quoted-string, with '"' and '\'
// escaped and control characters dropped; the description keeps only the
// characters RFC 6750 allows in error_description. A zero Status is
// derived from Code.
func WriteError(w http.ResponseWriter, f *Failure) {
	status := f.Status
	if status < 100 || status > 999 {
		status = statusFor(f.Code)
	}
	desc := SafeDescription(f.Description)
	h := w.Header()
	if status >= 400 && status < 500 {
		h.Del("WWW-Authenticate")
		for _, c := range challenges(f, desc) {
			h.Add("WWW-Authenticate", c)
		}
	}
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(f, desc))
}

func statusFor(code string) int {
	switch code {
	case CodeInvalidRequest:
		return http.StatusBadRequest
	case CodeInsufficientScope:
		return http.StatusForbidden
	case CodeTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}

// challenges builds the WWW-Authenticate field values, one challenge
// each: the challenge of f.Scheme (Bearer unless it says otherwise) with
// the realm and the auth-params, or every challenge of f.Challenges in
// order, the error in the one of f.Scheme.
func challenges(f *Failure, desc string) []string {
	realm := f.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	var b strings.Builder
	if len(f.Challenges) == 0 {
		writeChallenge(&b, f, f.Scheme, realm, desc, true, nil)
		return []string{b.String()}
	}
	main := 0
	for i, c := range f.Challenges {
		if strings.EqualFold(c.Scheme, f.Scheme) {
			main = i
			break
		}
	}
	out := make([]string, len(f.Challenges))
	for i, c := range f.Challenges {
		b.Reset()
		writeChallenge(&b, f, c.Scheme, realm, desc, i == main, c.Params)
		out[i] = b.String()
	}
	return out
}

// writeChallenge writes one challenge: scheme and realm, the error's
// auth-params when withError, the scheme's own params, and
// resource_metadata.
func writeChallenge(b *strings.Builder, f *Failure, scheme, realm, desc string, withError bool, own []Param) {
	if !isToken(scheme) {
		scheme = "Bearer"
	}
	b.WriteString(scheme)
	b.WriteString(" realm=")
	writeQuoted(b, realm)
	param := func(name, value string) {
		b.WriteString(", ")
		b.WriteString(name)
		b.WriteByte('=')
		writeQuoted(b, value)
	}
	if withError {
		if f.Code != "" {
			param("error", f.Code)
			if desc != "" {
				param("error_description", desc)
			}
			if f.Scope != "" {
				param("scope", f.Scope)
			}
		}
		for _, p := range f.Params {
			if extraParam(p.Name) {
				param(p.Name, p.Value)
			}
		}
	}
	for _, p := range own {
		if extraParam(p.Name) && !(withError && hasParam(f.Params, p.Name)) {
			param(p.Name, p.Value)
		}
	}
	if f.ResourceMetadata != "" {
		param("resource_metadata", f.ResourceMetadata)
	}
}

// hasParam reports whether params name an auth-param name (names are
// case-insensitive).
func hasParam(params []Param, name string) bool {
	for _, p := range params {
		if strings.EqualFold(p.Name, name) {
			return true
		}
	}
	return false
}

// extraParam reports whether name may be sent as one of Failure.Params:
// a token that does not repeat a parameter the Failure's fields set.
func extraParam(name string) bool {
	switch strings.ToLower(name) {
	case "realm", "error", "error_description", "scope", "resource_metadata":
		return false
	}
	return isToken(name)
}

// writeQuoted writes s as an RFC 7235 quoted-string: '"' and '\' are
// escaped, and control characters, which a quoted-string cannot hold, are
// dropped.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 && c != '\t', c == 0x7f:
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// SafeDescription returns s with every character RFC 6750 section 3 does
// not allow in error_description (only %x20-21 / %x23-5B / %x5D-7E) replaced
// by a space, one per character, and surrounding spaces trimmed.
// [WriteError] applies it; custom error handlers should too.
func SafeDescription(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if !descChar(s[i]) {
			ok = false
			break
		}
	}
	if ok {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x80 && descChar(byte(r)) {
			return r
		}
		return ' '
	}, s))
}

func descChar(c byte) bool {
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'
}

// errorBody is the JSON body of a rejection: {} without a code, else the
// error, error_description, scope and extra params, in that order.
func errorBody(f *Failure, desc string) []byte {
	if f.Code == "" {
		return []byte("{}\n")
	}
	b := make([]byte, 0, 128)
	b = append(b, '{')
	member := func(name, value string) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
		b = appendJSONString(b, value)
	}
	member("error", f.Code)
	if desc != "" {
		member("error_description", desc)
	}
	if f.Scope != "" {
		member("scope", f.Scope)
	}
	for _, p := range f.Params {
		if extraParam(p.Name) {
			member(p.Name, p.Value)
		}
	}
	return append(b, '}', '\n')
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals; invalid UTF-8 becomes U+FFFD
	return append(b, q...)
}

// settings is what the middleware stores in the request context for
// guards that run after it: realm, rendering, hook and metadata URL.
type settings struct {
	realm            string
	errorHandler     ErrorHandler
	onReject         func(*http.Request, *Failure)
	resourceMetadata func(*http.Request) string
	dpop             *dpopConfig // nil when DPoP is off
}

type settingsKey struct{}

var defaultSettings = &settings{realm: DefaultRealm}

func settingsFrom(ctx context.Context) *settings {
	if s, ok := ctx.Value(settingsKey{}).(*settings); ok {
		return s
	}
	return defaultSettings
}

func (s *settings) isDefault() bool {
	return s.realm == DefaultRealm && s.errorHandler == nil && s.onReject == nil && s.resourceMetadata == nil && s.dpop == nil
}

func (s *settings) reject(w http.ResponseWriter, r *http.Request, f *Failure) {
	if f.Realm == "" {
		f.Realm = s.realm
	}
	if f.ResourceMetadata == "" && s.resourceMetadata != nil {
		f.ResourceMetadata = s.resourceMetadata(r)
	}
	if s.dpop != nil {
		s.dpop.decorate(r, f)
	}
	if s.onReject != nil {
		s.onReject(r, f)
	}
	if s.errorHandler != nil {
		s.errorHandler(w, r, f)
		return
	}
	WriteError(w, f)
}

// Reject answers r with f the way the middleware that handled r is
// configured to: with its realm (unless f.Realm is set), its metadata URL,
// its OnReject hook and its error handler; with [WithDPoP], in the scheme
// the client used (unless f.Scheme is set) and with the challenges of
// every accepted scheme on a 401 (unless f.Challenges is set). Without
// such a middleware, it uses DefaultRealm and [WriteError]. Guards that run after the
// middleware, like those of package scopes, reject through it.
func Reject(w http.ResponseWriter, r *http.Request, f *Failure) {
	settingsFrom(r.Context()).reject(w, r, f)
}

// classify maps an error of go-jwt-middleware's CheckJWT (from the token
// extractor, or the validation function's *Failure) to the answer.
func classify(err error) *Failure {
	var f *Failure
	var re *requestError
	switch {
	case errors.Is(err, jwtmiddleware.ErrJWTMissing):
		return &Failure{Status: http.StatusUnauthorized, Description: "bearer token required", Err: ErrMissingToken}
	case errors.Is(err, ErrDPoPRequired):
		return &Failure{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "the DPoP scheme is required", Err: ErrDPoPRequired}
	case errors.As(err, &re):
		return requestFailure(re)
	case errors.As(err, &f):
		return f
	}
	return tokenFailure("", err) // not reached: CheckJWT has no other errors
}

func requestFailure(err error) *Failure {
	desc := "malformed request"
	var re *requestError
	if errors.As(err, &re) {
		desc = re.reason
	}
	return &Failure{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: desc, Err: err}
}

// tokenFailure is the answer to a token that the TokenValidator refused
// with err: 503 when the keys are unavailable, else 401 invalid_token.
// Failure.Err keeps err whole, for logs and the hook; the client is told
// only what [clientDescription] allows.
func tokenFailure(token string, err error) *Failure {
	if errors.Is(err, validator.ErrKeysUnavailable) {
		return &Failure{
			Status:      http.StatusServiceUnavailable,
			Code:        CodeTemporarilyUnavailable,
			Description: "signing keys unavailable, retry later",
			Err:         err,
		}
	}
	desc := ClientDescription(token, err)
	if !errors.Is(err, validator.ErrInvalidToken) {
		err = &invalidToken{err}
	}
	return &Failure{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: desc, Err: err}
}

// ClientDescription is what a client may be told about token, refused by
// the validator with err: the class only for checks that run after the
// signature verified ("token expired", "token not yet valid", "wrong
// audience", "missing or invalid claim"), and otherwise "malformed token"
// or "signature not verified", so that an anonymous client cannot learn
// which issuers, kids or algorithms are trusted. An error that is not a
// *validator.Error reads "invalid token". Other transports (package
// grpcguard) answer with it too.
func ClientDescription(token string, err error) string {
	var ve *validator.Error
	if !errors.As(err, &ve) {
		return "invalid token"
	}
	return clientDescription(token, ve.Class)
}

// Client descriptions of refused tokens.
const (
	descMalformed   = "malformed token"
	descNotVerified = "signature not verified"
)

// clientDescription is the error_description of a token refused with
// class. It must not let an anonymous client learn which issuers are
// trusted, which kids exist or which algorithms are allowed (issue 10,
// item 8). So a class is shown only when its check runs after the
// signature verified (exp, nbf/iat, aud, required claims), which nobody
// without a trusted key's signature can reach. Every earlier refusal reads
// "malformed token" when the token itself is not a compact JWS with a
// JSON object header (a fact of the token alone, whatever the
// configuration), and "signature not verified" otherwise: wrong issuer,
// unknown kid, algorithm not allowed, wrong typ, a claims set refused
// after the issuer check and a bad signature all read the same.
func clientDescription(token string, class error) string {
	switch class {
	case validator.ErrExpired, validator.ErrNotYetValid, validator.ErrAudience, validator.ErrClaims:
		return class.Error()
	}
	if !isCompactJWS(token) {
		return descMalformed
	}
	return descNotVerified
}

// isCompactJWS reports whether token has the shape of a compact JWS:
// three base64url segments, the first two not empty, the header a JSON
// object. It runs only on the error path.
func isCompactJWS(token string) bool {
	h, rest, ok1 := strings.Cut(token, ".")
	p, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || h == "" || p == "" || strings.Contains(sig, ".") {
		return false
	}
	for _, seg := range [...]string{h, p, sig} {
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; !isAlnum(c) && c != '-' && c != '_' {
				return false
			}
		}
	}
	hdr, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return false
	}
	hdr = bytes.TrimLeft(hdr, " \t\r\n")
	return len(hdr) > 0 && hdr[0] == '{' && json.Valid(hdr)
}

// invalidToken makes an error of a custom TokenValidator match
// validator.ErrInvalidToken.
type invalidToken struct{ err error }

func (e *invalidToken) Error() string        { return "invalid token: " + e.err.Error() }
func (e *invalidToken) Unwrap() error        { return e.err }
func (e *invalidToken) Is(target error) bool { return target == validator.ErrInvalidToken }
