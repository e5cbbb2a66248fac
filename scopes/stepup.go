package scopes

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator"
)

// MultiFactorACR is the acr value of a multi-factor sign-in that Auth0
// sends and accepts in acr_values (the OpenID PAPE multi-factor policy).
const MultiFactorACR = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"

// ErrStepUp is the class of middleware.Failure.Err when [RequireStepUp]
// refuses a token: the user's authentication is too weak or too old.
var ErrStepUp = errors.New("insufficient user authentication")

// StepUp says which authentication of the user a route requires, for
// [RequireStepUp] (OAuth 2.0 Step-Up Authentication Challenge, RFC 9470).
// At least one of ACRValues and MaxAge must be set.
type StepUp struct {
	// ACRValues are the authentication context class references that
	// satisfy the route, in order of preference: the token's acr claim
	// must be one of them (or its amr claim hold one of AMRValues). They
	// are sent to the client, space-separated, as acr_values.
	ACRValues []string
	// AMRValues are authentication method references (RFC 8176) any one
	// of which in the token's amr array also satisfies ACRValues, for
	// tokens that say how the user signed in rather than at which level:
	// []string{"mfa"} with ACRValues []string{MultiFactorACR}. They are not
	// sent to the client (RFC 9470 has no parameter for them).
	AMRValues []string
	// MaxAge is the longest time since the user last authenticated
	// actively (the auth_time claim, in seconds since the epoch), in whole
	// seconds; zero means no limit. A token without auth_time fails it. It
	// is sent to the client as max_age, in seconds.
	MaxAge time.Duration
	// Leeway is the clock skew allowed on auth_time, as the validator
	// allows on exp: zero means validator.DefaultLeeway; at most
	// validator.MaxLeeway.
	Leeway time.Duration
	// ACRClaim, AMRClaim and AuthTimeClaim name the claims read; empty
	// means "acr", "amr" and "auth_time". Auth0 puts such facts into
	// access tokens through an Action, as namespaced custom claims such as
	// "https://example.com/amr" (from event.authentication.methods).
	ACRClaim, AMRClaim, AuthTimeClaim string
}

// RequireStepUp lets a request through when its token's authentication
// satisfies s, and otherwise answers, as RFC 9470 section 3 says, 401 with
//
//	WWW-Authenticate: Bearer realm="api", error="insufficient_user_authentication", error_description="...", acr_values="...", max_age="..."
//
// (acr_values and max_age only when configured) and a JSON body with the
// same error, error_description, acr_values and max_age, so that the
// client can send the user to the authorization server again with those
// parameters. The acr claim must be a string and one of s.ACRValues, or
// the amr claim an array holding one of s.AMRValues; auth_time must be a
// number no more than s.MaxAge + s.Leeway in the past and no more than
// s.Leeway in the future (a value in milliseconds is thus refused). Place
// it after the middleware, whose invalid_token answer comes first.
//
//	mux.Handle("POST /transfers", scopes.RequireStepUp(scopes.StepUp{
//		ACRValues: []string{scopes.MultiFactorACR},
//		AMRValues: []string{"mfa"},
//		MaxAge:    10 * time.Minute,
//	})(transfer))
//
// It panics when s requires nothing, when MaxAge is negative or not whole
// seconds, when AMRValues is set without ACRValues, when the Leeway is out
// of range, or when a value could not be sent in acr_values.
func RequireStepUp(s StepUp) func(http.Handler) http.Handler {
	s = mustStepUp(s)
	params := s.Params()
	fail := func(desc string, err error) *middleware.Failure {
		return &middleware.Failure{
			Status:      http.StatusUnauthorized,
			Code:        middleware.CodeInsufficientUserAuthentication,
			Description: desc,
			Params:      params,
			Err:         err,
		}
	}
	return check(func(_ *http.Request, c *claims.Claims) *middleware.Failure {
		if desc, err := s.check(c, time.Now()); err != nil {
			return fail(desc, err)
		}
		return nil
	})
}

// Check reports whether c satisfies s at now, as [RequireStepUp] decides,
// for transports other than net/http (package grpcguard uses it). The
// error, of class [ErrStepUp], is for logs: it names the claims but never
// their values. It panics on an invalid s, as RequireStepUp does.
func (s StepUp) Check(c *claims.Claims, now time.Time) error {
	s = mustStepUp(s)
	_, err := s.check(c, now)
	return err
}

// Params returns the auth-params of a refusal, acr_values and max_age (only
// those s sets), for the challenge or an error message.
func (s StepUp) Params() []middleware.Param {
	var params []middleware.Param
	if len(s.ACRValues) > 0 {
		params = append(params, middleware.Param{Name: "acr_values", Value: strings.Join(s.ACRValues, " ")})
	}
	if s.MaxAge > 0 {
		params = append(params, middleware.Param{Name: "max_age", Value: strconv.FormatInt(int64(s.MaxAge/time.Second), 10)})
	}
	return params
}

// check is the decision of RequireStepUp and Check: the client's
// description and the error for logs.
func (s *StepUp) check(c *claims.Claims, now time.Time) (string, error) {
	if len(s.ACRValues) > 0 && !s.acrOK(c) {
		return "a different authentication level is required",
			fmt.Errorf("%w: neither %s nor %s satisfies the required acr values", ErrStepUp, s.ACRClaim, s.AMRClaim)
	}
	if s.MaxAge > 0 {
		return s.ageError(c, now)
	}
	return "", nil
}

func (s *StepUp) acrOK(c *claims.Claims) bool {
	if acr, err := claims.Get[string](c, s.ACRClaim); err == nil && slices.Contains(s.ACRValues, acr) {
		return true
	}
	if len(s.AMRValues) == 0 {
		return false
	}
	amr, err := claims.Get[[]string](c, s.AMRClaim)
	return err == nil && slices.ContainsFunc(amr, func(m string) bool { return slices.Contains(s.AMRValues, m) })
}

// ageError checks auth_time against now; it returns the client's
// description and the error for logs.
func (s *StepUp) ageError(c *claims.Claims, now time.Time) (string, error) {
	const again = "a more recent authentication is required"
	secs, err := claims.Get[float64](c, s.AuthTimeClaim)
	if err != nil {
		return again, fmt.Errorf("%w: %s missing or not a number", ErrStepUp, s.AuthTimeClaim)
	}
	if secs < 0 || secs > float64(maxUnix) {
		return again, fmt.Errorf("%w: %s out of range", ErrStepUp, s.AuthTimeClaim)
	}
	whole := math.Floor(secs)
	at := time.Unix(int64(whole), int64((secs-whole)*1e9))
	switch {
	case at.After(now.Add(s.Leeway)):
		return again, fmt.Errorf("%w: %s is in the future", ErrStepUp, s.AuthTimeClaim)
	case now.Sub(at) > s.MaxAge+s.Leeway:
		return again, fmt.Errorf("%w: authenticated %d s ago, more than %d s", ErrStepUp,
			int64(now.Sub(at)/time.Second), int64(s.MaxAge/time.Second))
	}
	return "", nil
}

// maxUnix is 9999-12-31T23:59:59Z, the largest NumericDate the claims
// package accepts.
const maxUnix = 253402300799

func mustStepUp(s StepUp) StepUp {
	switch {
	case len(s.ACRValues) == 0 && s.MaxAge == 0:
		panic("scopes: RequireStepUp requires neither acr values nor a max age")
	case s.MaxAge < 0 || s.MaxAge%time.Second != 0:
		panic("scopes: RequireStepUp: MaxAge must be zero or a positive number of whole seconds")
	case len(s.AMRValues) > 0 && len(s.ACRValues) == 0:
		panic("scopes: RequireStepUp: AMRValues only satisfy ACRValues, which are not set")
	case s.Leeway < 0 || s.Leeway > validator.MaxLeeway:
		panic(fmt.Sprintf("scopes: RequireStepUp: Leeway must be between 0 and %v", validator.MaxLeeway))
	}
	if len(s.ACRValues) > 0 {
		s.ACRValues = mustScopes("RequireStepUp", s.ACRValues) // space-separated in acr_values, like scopes
	}
	s.AMRValues = slices.Clone(s.AMRValues)
	if s.Leeway == 0 {
		s.Leeway = validator.DefaultLeeway
	}
	if s.ACRClaim == "" {
		s.ACRClaim = "acr"
	}
	if s.AMRClaim == "" {
		s.AMRClaim = "amr"
	}
	if s.AuthTimeClaim == "" {
		s.AuthTimeClaim = "auth_time"
	}
	return s
}
