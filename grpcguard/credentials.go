package grpcguard

import (
	"strings"

	"google.golang.org/grpc/codes"
)

// Refusals of malformed credentials: fixed messages, allocated once, safe to
// show.
var (
	errTwoValues   = invalidRequest("more than one authorization value")
	errEmptyValue  = invalidRequest("empty authorization value")
	errBadValue    = invalidRequest("malformed authorization value")
	errEmptyToken  = invalidRequest("empty bearer token")
	errExtraParts  = invalidRequest("authorization value has extra parts")
	errTokenSyntax = invalidRequest("bearer token has invalid characters")
	errTwoProofs   = invalidRequest("more than one dpop value")
	errMissing     = &Rejection{Code: codes.Unauthenticated, Message: "bearer token required", Err: ErrMissingToken}
)

func invalidRequest(reason string) *Rejection {
	return &Rejection{Code: codes.InvalidArgument, Message: "invalid request: " + reason, Err: ErrInvalidRequest}
}

// bearer returns the token of the authorization metadata values vals, or a
// *Rejection: exactly one value "Bearer" 1*SP b64token, the scheme in any
// letter case, as RFC 6750 section 2.1 has it for the HTTP header (gRPC
// carries metadata as HTTP/2 headers). Another scheme is no bearer
// credentials.
func bearer(vals []string) (string, *Rejection) {
	switch len(vals) {
	case 0:
		return "", errMissing
	case 1:
	default:
		return "", errTwoValues
	}
	v := vals[0]
	if v == "" {
		return "", errEmptyValue
	}
	scheme, rest, hasRest := strings.Cut(v, " ")
	if !isToken(scheme) {
		return "", errBadValue
	}
	// The DPoP scheme is taken by Interceptor.credentials, with WithDPoP.
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errMissing
	}
	rest = strings.TrimLeft(rest, " ")
	if !hasRest || rest == "" {
		return "", errEmptyToken
	}
	if !isB64token(rest) {
		if strings.ContainsAny(rest, " \t,") {
			return "", errExtraParts
		}
		return "", errTokenSyntax
	}
	return rest, nil
}

// isToken reports whether s is an RFC 9110 token (1*tchar).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if charClass[s[i]]&tchar == 0 {
			return false
		}
	}
	return true
}

// isB64token reports whether s matches RFC 6750's
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64token(s string) bool {
	i := 0
	for i < len(s) && charClass[s[i]]&b64char != 0 {
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

// Character classes, one table lookup per byte: a token is checked on
// every call and is usually around a kilobyte.
const (
	tchar   = 1 << iota // RFC 9110 tchar
	b64char             // RFC 6750 b64token, without the trailing "="
)

var charClass = func() (t [256]uint8) {
	for c := range 256 {
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if alnum || strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0 {
			t[c] |= tchar
		}
		if alnum || strings.IndexByte("-._~+/", byte(c)) >= 0 {
			t[c] |= b64char
		}
	}
	return t
}()
