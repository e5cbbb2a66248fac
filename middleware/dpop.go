package middleware

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/dpop"
)

// DPoPMode says whether the middleware accepts DPoP-bound tokens sent with
// the DPoP authorization scheme (RFC 9449 section 7.1), plain bearer
// tokens, or both. In every mode, a DPoP-bound token (one with cnf.jkt)
// sent with the Bearer scheme is refused: a bound token is never
// downgraded to a bearer token (RFC 9449 section 7.2).
type DPoPMode int

const (
	// DPoPOff accepts the Bearer scheme only; the DPoP scheme counts as no
	// credentials, like Basic. It is the default.
	DPoPOff DPoPMode = iota
	// DPoPAllowed accepts both schemes: Bearer with tokens that are not
	// DPoP-bound, DPoP with bound tokens and a valid proof.
	DPoPAllowed
	// DPoPRequired accepts the DPoP scheme only: a Bearer request gets 401
	// invalid_token with the DPoP challenge.
	DPoPRequired
)

// String returns "off", "allowed" or "required".
func (m DPoPMode) String() string {
	switch m {
	case DPoPOff:
		return "off"
	case DPoPAllowed:
		return "allowed"
	case DPoPRequired:
		return "required"
	}
	return "DPoPMode(invalid)"
}

// Error classes of [Failure.Err] for the scheme rules of DPoP. Refused
// proofs match the classes of package dpop (dpop.ErrInvalidProof,
// dpop.ErrUseNonce, dpop.ErrUnboundToken, dpop.ErrStoreUnavailable).
var (
	// ErrBoundTokenAsBearer: a bound token (any cnf claim; cnf.jkt for DPoP) was sent with
	// the Bearer scheme, whatever the mode. 401 invalid_token.
	ErrBoundTokenAsBearer = errors.New("bound token sent with the Bearer scheme")
	// ErrDPoPRequired: a Bearer request to a middleware in DPoPRequired
	// mode. 401 invalid_token with the DPoP challenge.
	ErrDPoPRequired = errors.New("DPoP scheme required")
)

// WithDPoP makes the middleware accept DPoP-bound access tokens with the
// DPoP scheme (RFC 9449), in mode: DPoPAllowed (Bearer or DPoP) or
// DPoPRequired (DPoP only). v checks the proofs: their algorithms, iat
// window, replay store, server nonces and how the request's URL is found
// (behind a proxy, set dpop.Config.PublicBaseURL or TrustedProxies: by
// default the URL is built from r.TLS and r.Host, and forwarding headers
// are not trusted). A nil v means dpop.NewVerifier(dpop.Config{}): the
// defaults of RFC 9449, with an in-memory replay store that protects one
// process only; replicas must share a store (package dpop/redisstore).
//
// A request with Authorization: DPoP <token> is accepted when the token
// is valid, has cnf.jkt, and the request's single DPoP header holds a
// proof that v accepts for it; the handler then finds the proof key's
// thumbprint with [DPoPThumbprint]. The answers:
//
//   - 401 challenges name the schemes the mode accepts, one
//     WWW-Authenticate field each: Bearer realm="api" and DPoP
//     realm="api", algs="ES256 ..." when both are; errors are reported in
//     the scheme the client used, whose challenge comes first (the DPoP
//     challenge only in DPoPRequired mode);
//   - a refused proof is 401 error="invalid_dpop_proof"; a missing or
//     stale server nonce 401 error="use_dpop_nonce" with one DPoP-Nonce
//     header; with nonces on, successful answers carry a fresh DPoP-Nonce;
//   - the DPoP scheme with a token that has no cnf.jkt is 401
//     invalid_token;
//   - a Bearer request that also carries a DPoP header is 400
//     invalid_request (the client meant DPoP and sent the wrong scheme);
//   - a replay store that fails is 503 with Retry-After: the proof is
//     refused, never let through.
//
// DPoPOff, or no WithDPoP at all, accepts only Bearer; a DPoP-bound token
// sent with it is still refused. New panics on a mode it does not know.
func WithDPoP(v *dpop.Verifier, mode DPoPMode) Option {
	switch mode {
	case DPoPOff, DPoPAllowed, DPoPRequired:
	default:
		panic("middleware: WithDPoP with an unknown mode")
	}
	return func(c *config) {
		if mode == DPoPOff {
			c.dpop = nil
			return
		}
		if v == nil {
			var err error
			if v, err = dpop.NewVerifier(dpop.Config{}); err != nil {
				panic("middleware: default DPoP verifier: " + err.Error()) // the zero Config is valid
			}
		}
		c.dpop = &dpopConfig{v: v, required: mode == DPoPRequired, algs: v.AlgorithmsParam()}
	}
}

// dpopConfig is the DPoP part of the settings.
type dpopConfig struct {
	v        *dpop.Verifier
	required bool
	algs     string // the DPoP challenge's algs="..."
}

// Authorization schemes of a request.
const (
	schemeBearer = "Bearer"
	schemeDPoP   = "DPoP"
)

// DPoPThumbprint returns the RFC 7638 thumbprint of the key whose DPoP
// proof the middleware verified for the request of ctx (it equals the
// token's cnf.jkt), and false when the request was not authenticated with
// the DPoP scheme. The whole proof is dpop.FromContext(ctx), which
// package grpcguard fills too.
func DPoPThumbprint(ctx context.Context) (string, bool) {
	p, ok := dpop.FromContext(ctx)
	return p.Thumbprint, ok
}

// clientScheme returns the scheme the request was sent with, when it is
// one the configuration knows: "DPoP" only when DPoP is on; "Bearer"
// otherwise. After the middleware (guards), a verified proof in the
// context says DPoP; before it, the Authorization header does.
func clientScheme(r *http.Request, d *dpopConfig) string {
	if d == nil {
		return schemeBearer
	}
	if _, ok := dpop.FromContext(r.Context()); ok {
		return schemeDPoP
	}
	if vals := r.Header["Authorization"]; len(vals) > 0 {
		scheme, _, _ := strings.Cut(strings.TrimLeft(vals[0], " "), " ")
		if strings.EqualFold(scheme, schemeDPoP) {
			return schemeDPoP
		}
	}
	return schemeBearer
}

// decorate sets the scheme and the challenges of a rejection: errors in
// the scheme the client used (DPoP in required mode, where Bearer is not
// accepted); a 401 names every scheme the mode accepts, the client's
// first; other answers carry the client's challenge only. The DPoP
// challenge always carries algs.
func (d *dpopConfig) decorate(r *http.Request, f *Failure) {
	if f.Scheme == "" {
		f.Scheme = clientScheme(r, d)
		if d.required {
			f.Scheme = schemeDPoP
		}
	}
	if f.Challenges != nil {
		return
	}
	// A new Params slice per answer: error handlers may change it.
	dp := Challenge{Scheme: schemeDPoP, Params: []Param{{Name: "algs", Value: d.algs}}}
	status := f.Status
	if status < 100 || status > 999 {
		status = statusFor(f.Code) // as WriteError derives it
	}
	switch {
	case !strings.EqualFold(f.Scheme, schemeDPoP):
		f.Challenges = []Challenge{{Scheme: f.Scheme}}
		if status == http.StatusUnauthorized && !d.required {
			f.Challenges = append(f.Challenges, dp)
		}
	case status == http.StatusUnauthorized && !d.required:
		f.Challenges = []Challenge{dp, {Scheme: schemeBearer}}
	default:
		f.Challenges = []Challenge{dp}
	}
}

// bind applies the binding rules to a request whose token validated with
// claims c: a bound token must come with the DPoP scheme and a proof that
// d accepts, an unbound one with Bearer. It returns the context for the
// next handler (with the proof when there is one) or the rejection.
func bind(ctx context.Context, w http.ResponseWriter, r *http.Request, d *dpopConfig, c *claims.Claims) (context.Context, *Failure) {
	vals := r.Header["Authorization"]
	var token string
	if d != nil && len(vals) == 1 {
		// The extractor accepted the header: "DPoP" 1*SP b64token.
		scheme, rest, _ := strings.Cut(vals[0], " ")
		if strings.EqualFold(scheme, schemeDPoP) {
			token = strings.Trim(rest, " ")
		}
	}
	if token == "" { // Bearer, by header or query
		// Any cnf binds the token to a key (cnf.jkt for DPoP, x5t#S256 for
		// mutual TLS, which this middleware cannot check): never a bearer
		// token.
		if c.Confirmation.Present {
			return ctx, &Failure{
				Status:      http.StatusUnauthorized,
				Code:        CodeInvalidToken,
				Description: "bound token sent with the Bearer scheme",
				Err:         &invalidToken{ErrBoundTokenAsBearer}, // also validator.ErrInvalidToken
			}
		}
		return ctx, nil
	}
	proof, err := d.v.Verify(ctx, r, token, c.Confirmation.JKT)
	if err != nil {
		f := proofFailure(err)
		if f.Code == CodeUseDPoPNonce {
			w.Header().Set("DPoP-Nonce", d.v.Nonce())
		}
		return ctx, f
	}
	if d.v.NoncesRequired() {
		// The next nonce rides on the answer (RFC 9449 section 8.2), so
		// the client need not fail once when its nonce goes stale.
		w.Header().Set("DPoP-Nonce", d.v.Nonce())
	}
	return dpop.NewContext(ctx, proof), nil
}

// proofFailure is the answer to a proof that the Verifier refused.
func proofFailure(err error) *Failure {
	f := &Failure{Status: http.StatusUnauthorized, Code: CodeInvalidDPoPProof, Description: "invalid DPoP proof", Err: err}
	var de *dpop.Error
	if errors.As(err, &de) && de.Reason != "" {
		f.Description = de.Reason // fixed text without client input (package dpop)
	}
	switch {
	case errors.Is(err, dpop.ErrStoreUnavailable):
		f.Status, f.Code = http.StatusServiceUnavailable, CodeTemporarilyUnavailable
		f.Description = "DPoP replay store unavailable, retry later"
	case errors.Is(err, dpop.ErrUseNonce):
		f.Code = CodeUseDPoPNonce
	case errors.Is(err, dpop.ErrUnboundToken):
		f.Code = CodeInvalidToken
		f.Description = "token is not DPoP-bound"
	}
	return f
}
