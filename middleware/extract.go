package middleware

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// requestError is an ErrInvalidRequest with the reason the client is told.
type requestError struct{ reason string }

func (e *requestError) Error() string        { return "invalid request: " + e.reason }
func (e *requestError) Is(target error) bool { return target == ErrInvalidRequest }

// Reasons are fixed strings, allocated once, safe to show.
var (
	errTwoHeaders    = &requestError{"more than one Authorization header"}
	errEmptyHeader   = &requestError{"empty Authorization header"}
	errBadHeader     = &requestError{"malformed Authorization header"}
	errEmptyToken    = &requestError{"empty bearer token"}
	errExtraParts    = &requestError{"Authorization header has extra parts"}
	errTokenSyntax   = &requestError{"bearer token has invalid characters"}
	errTwoMethods    = &requestError{"token sent by more than one method"}
	errQueryRepeated = &requestError{"access token parameter repeated"}
	errQueryEmpty    = &requestError{"empty access token parameter"}
)

// Fixed reasons of the DPoP scheme.
var (
	errEmptyDPoPToken  = &requestError{"empty DPoP token"}
	errDPoPTokenSyntax = &requestError{"DPoP token has invalid characters"}
	errProofWithBearer = &requestError{"DPoP proof sent with a Bearer token"}
)

// tokenFromHeader returns the scheme and token of the Authorization header
// lines vals: "Bearer", or "DPoP" when dpopOn, with the token; "" when
// there are none or they use another scheme; or a *requestError. With
// checkSyntax false, the token's characters are left unchecked: the caller
// then checks them with tokenSyntax before it tells a token's refusal.
//
// RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token, the scheme
// matched without regard to case (RFC 7235 section 2.1); RFC 9449 section
// 7.1 gives the DPoP scheme the same syntax.
func tokenFromHeader(vals []string, dpopOn, checkSyntax bool) (scheme, token string, _ error) {
	switch len(vals) {
	case 0:
		return "", "", nil
	case 1:
	default:
		return "", "", errTwoHeaders
	}
	v := vals[0]
	if v == "" {
		return "", "", errEmptyHeader
	}
	scheme, rest, hasRest := strings.Cut(v, " ")
	if !isToken(scheme) {
		return "", "", errBadHeader
	}
	emptyErr, syntaxErr := errEmptyToken, errTokenSyntax
	switch {
	case strings.EqualFold(scheme, schemeBearer):
		scheme = schemeBearer
	case dpopOn && strings.EqualFold(scheme, schemeDPoP):
		scheme = schemeDPoP
		emptyErr, syntaxErr = errEmptyDPoPToken, errDPoPTokenSyntax
	default:
		return "", "", nil // another scheme: no credentials
	}
	rest = strings.TrimLeft(rest, " ")
	if !hasRest || rest == "" {
		return "", "", emptyErr
	}
	if checkSyntax {
		if err := tokenSyntax(rest, syntaxErr); err != nil {
			return "", "", err
		}
	}
	return scheme, rest, nil
}

// tokenSyntax returns nil when token is a b64token, errExtraParts when it
// holds a separator, and syntaxErr otherwise.
func tokenSyntax(token string, syntaxErr error) error {
	if isB64token(token) {
		return nil
	}
	if strings.ContainsAny(token, " \t,") {
		return errExtraParts
	}
	return syntaxErr
}

// hasTokenScheme reports whether an Authorization header line uses the
// Bearer scheme (or DPoP, when dpopOn), well-formed or not.
func hasTokenScheme(vals []string, dpopOn bool) bool {
	for _, v := range vals {
		scheme, _, _ := strings.Cut(strings.TrimLeft(v, " "), " ")
		if strings.EqualFold(scheme, schemeBearer) || (dpopOn && strings.EqualFold(scheme, schemeDPoP)) {
			return true
		}
	}
	return false
}

// isToken reports whether s is an RFC 7230 token (1*tchar).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// isB64token reports whether s matches RFC 6750's
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64token(s string) bool {
	// A token is a kilobyte or more, and a byte-at-a-time loop over it
	// was half of the middleware's own time. Nearly every token is a JWS,
	// base64url and dots, which a b64token always is when not empty: one
	// table lookup per byte, OR-ed together without a branch, tells.
	if notJWS := jwsBytes(s); notJWS == 0 {
		return s != ""
	}
	i := 0
	for i < len(s) && b64tokenChars[s[i]] {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// jwsBytes returns zero exactly when every byte of s is base64url or a
// dot.
func jwsBytes(s string) byte {
	t := &notJWSChars
	var bad byte
	i := 0
	for ; len(s)-i >= 8; i += 8 {
		w := s[i : i+8]
		bad |= t[w[0]] | t[w[1]] | t[w[2]] | t[w[3]] | t[w[4]] | t[w[5]] | t[w[6]] | t[w[7]]
	}
	for ; i < len(s); i++ {
		bad |= t[s[i]]
	}
	return bad
}

// notJWSChars marks the bytes that are neither base64url nor a dot.
var notJWSChars = func() (t [256]byte) {
	for c := range 256 {
		b := byte(c)
		if !isAlnum(b) && b != '-' && b != '_' && b != '.' {
			t[c] = 1
		}
	}
	return t
}()

// b64tokenChars marks the bytes of a b64token before its "=" padding.
var b64tokenChars = func() (t [256]bool) {
	for c := range 256 {
		b := byte(c)
		t[c] = isAlnum(b) || strings.IndexByte("-._~+/", b) >= 0
	}
	return t
}()

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

type queryTokenKey struct{}

// takeQueryToken removes every param=value pair from r's query and, when
// there was one, returns a shallow copy of r whose URL and RequestURI no
// longer hold it, with the token in the copy's context, and stripped true.
// Handlers, hooks and loggers after the middleware thus never see it. The
// error tells a repeated or empty parameter; the copy is stripped anyway.
func takeQueryToken(r *http.Request, param string) (_ *http.Request, stripped bool, _ error) {
	raw := r.URL.RawQuery
	// A fast path for queries that cannot name param, even percent-encoded.
	if !strings.Contains(raw, param) && !strings.Contains(raw, "%") {
		return r, false, nil
	}
	var token string
	var n int
	kept := make([]string, 0, strings.Count(raw, "&")+1)
	for _, pair := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); err != nil || key != param {
			kept = append(kept, pair)
			continue
		}
		n++
		token, _ = url.QueryUnescape(v)
	}
	if n == 0 {
		return r, false, nil
	}
	newRaw := strings.Join(kept, "&")
	u := *r.URL
	u.RawQuery = newRaw
	var err error
	switch {
	case n > 1:
		err = errQueryRepeated
	case token == "":
		err = errQueryEmpty
	}
	ctx := r.Context()
	if err == nil {
		ctx = context.WithValue(ctx, queryTokenKey{}, token)
	}
	r2 := r.WithContext(ctx)
	r2.URL = &u
	if r.RequestURI != "" {
		path, _, _ := strings.Cut(r.RequestURI, "?")
		if newRaw != "" {
			path += "?" + newRaw
		}
		r2.RequestURI = path
	}
	return r2, true, err
}
