package validator

import (
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/internal/strictjson"
)

// The checks of a token's header and claims, other than its signature.

// typOK reports whether typ fits the profile.
func (p Profile) typOK(typ string) bool {
	if strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt") {
		return true
	}
	return p == ProfileAuth0 && strings.EqualFold(typ, "JWT")
}

// peekIssuer returns the first top-level iss of a payload that
// claims.Parse refused, so that a token from an unknown issuer is refused
// as such even when its claims are malformed too. ok is false when iss is
// absent or not a string, or the payload is not a JSON object. For every
// payload claims.Parse accepts it returns the Issuer Parse returns
// (FuzzPeekIssuer): the two never disagree on whose token it is.
func peekIssuer(p []byte) (iss []byte, ok bool) { return strictjson.PeekString(p, "iss") }

// checkTimes checks exp, nbf and iat against now, with the leeway.
func (v *Validator) checkTimes(c *claims.Claims, now time.Time) error {
	switch {
	case c.ExpiresAt.IsZero():
		return errNoExp
	case !now.Before(c.ExpiresAt.Add(v.leeway)):
		return errExpired
	case !c.NotBefore.IsZero() && now.Add(v.leeway).Before(c.NotBefore):
		return errNbf
	case !c.IssuedAt.IsZero() && now.Add(v.leeway).Before(c.IssuedAt):
		return errIat
	}
	return nil
}

// checkClaims checks the claims that do not change with time.
func (v *Validator) checkClaims(c *claims.Claims) error {
	if !slices.ContainsFunc(v.audiences, c.HasAudience) {
		return v.errAudience
	}
	if c.Subject == "" {
		return errNoSub
	}
	if v.profile == ProfileRFC9068 {
		switch {
		case c.ClientID == "":
			return errNoClientID
		case c.ID == "":
			return errNoJti
		case c.IssuedAt.IsZero():
			return errNoIat
		}
	}
	return nil
}

// issuerError is the error for a token of an unknown issuer iss. An iss
// that differs from a configured issuer only by a trailing slash is nearly
// always a configuration mistake, so the reason (for the logs) says so.
func (v *Validator) issuerError(iss string) error {
	if iss == "" {
		return errIssuer
	}
	alt := iss + "/"
	if strings.HasSuffix(iss, "/") {
		alt = iss[:len(iss)-1]
	}
	if _, ok := v.source(alt); ok {
		return errIssuerSlash
	}
	return errIssuer
}

// quoteList renders configured values for an error reason.
func quoteList(vals []string) string {
	q := make([]string, len(vals))
	for i, s := range vals {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// warnIssuer warns about an Auth0 issuer without its trailing slash: Auth0
// puts one in every token's iss, so every token would be refused.
func warnIssuer(logger *slog.Logger, issuer string) {
	u, err := url.Parse(issuer)
	if err != nil || u.Path != "" || !strings.HasSuffix(strings.ToLower(u.Hostname()), ".auth0.com") {
		return
	}
	if logger == nil {
		logger = slog.Default()
	}
	logger.Warn("validator: Auth0 issuers end with a slash; tokens whose iss is "+strconv.Quote(issuer+"/")+" will be refused", "issuer", issuer)
}

var (
	errIssuerSlash = &Error{Class: ErrIssuer, Reason: "iss differs from a configured issuer only by a trailing slash; configure the issuer exactly as the tokens' iss"}

	errNoSub      = claimError("sub missing")
	errNoClientID = claimError("client_id missing")
	errNoJti      = claimError("jti missing")
	errNoIat      = claimError("iat missing")
)
