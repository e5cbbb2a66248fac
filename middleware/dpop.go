package middleware

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/dpop"
)

// DPoPMode says which authorization schemes the middleware accepts
// (RFC 9449 section 7).
type DPoPMode int

const (
	// DPoPOff accepts the Bearer scheme only (the default).
	DPoPOff DPoPMode = iota
	// DPoPAllowed accepts Bearer tokens and DPoP-bound tokens with the
	// DPoP scheme and a proof.
	DPoPAllowed
	// DPoPRequired accepts only DPoP-bound tokens with the DPoP scheme
	// and a proof.
	DPoPRequired
)

// Error codes of DPoP answers (RFC 9449 sections 7.1 and 9).
const (
	CodeInvalidDPoPProof = "invalid_dpop_proof"
	CodeUseDPoPNonce     = "use_dpop_nonce"
)

// Error classes of [Failure.Err] for DPoP.
var (
	// ErrDPoPRequired: the request used the Bearer scheme where only DPoP
	// is accepted (DPoPRequired). It is answered like missing
	// credentials, with the DPoP challenge.
	ErrDPoPRequired = errors.New("DPoP scheme required")
)

// WithDPoP accepts DPoP-bound access tokens (RFC 9449) in mode, with
// proofs checked by v: a request with Authorization: DPoP <token> must
// carry one DPoP header with a proof that v accepts, and the token must
// have cnf.jkt. In every mode, off included, a token bound to a key (any
// cnf claim) sent as a Bearer token is refused (401 invalid_token).
//
// Answers: a refused proof is 401 with the challenge
// DPoP error="invalid_dpop_proof" (or "use_dpop_nonce", with a
// DPoP-Nonce header, when v requires server nonces) and algs; a replay
// store that fails is 503; failures are reported in the scheme the client
// used, and a request without credentials gets a challenge for each
// scheme the mode accepts. Two Authorization headers, or a Bearer token
// sent with a DPoP proof, are 400 invalid_request. With server nonces on,
// every response carries a fresh DPoP-Nonce. Handlers find the verified
// proof (the key's thumbprint) with dpop.FromContext.
//
// New panics when mode is not DPoPOff and v is nil.
func WithDPoP(v *dpop.Verifier, mode DPoPMode) Option {
	return func(c *config) {
		c.dpop = nil
		if mode == DPoPOff {
			return
		}
		if v == nil {
			panic("middleware: WithDPoP with a nil Verifier")
		}
		c.dpop = &dpopSettings{v: v, mode: mode, algs: v.AlgorithmsParam()}
	}
}

type dpopSettings struct {
	v    *dpop.Verifier
	mode DPoPMode
	algs string
}

// dpopRequest is what the middleware learned of a request's DPoP use,
// carried in its context from the handler to the validation and to the
// guards' answers.
type dpopRequest struct {
	scheme string // "DPoP" when the client used it, else ""
	r      *http.Request
	proof  dpop.Proof
	ok     bool // proof verified
}

type dpopRequestKey struct{}

func dpopRequestFrom(ctx context.Context) *dpopRequest {
	d, _ := ctx.Value(dpopRequestKey{}).(*dpopRequest)
	return d
}

// authScheme returns the scheme of a single Authorization line, or "".
func authScheme(vals []string) string {
	if len(vals) != 1 {
		return ""
	}
	scheme, _, _ := strings.Cut(vals[0], " ")
	return scheme
}

var errBearerWithProof = &requestError{"Bearer token sent with a DPoP proof"}

// serveDPoP runs before the token check when DPoP is on: it refuses what
// the mode does not accept and marks the request's scheme. It returns the
// request to go on with, or nil when it answered.
func (h *handler) serveDPoP(w http.ResponseWriter, r *http.Request) *http.Request {
	d := h.dpop
	if d.v.NoncesRequired() {
		w.Header().Set("DPoP-Nonce", d.v.Nonce())
	}
	auth := r.Header["Authorization"]
	scheme := authScheme(auth)
	st := &dpopRequest{r: r}
	switch {
	case len(auth) > 1:
		// Two lines: the extractor answers 400.
	case strings.EqualFold(scheme, "DPoP"):
		st.scheme = "DPoP"
	case strings.EqualFold(scheme, "Bearer"):
		if len(r.Header.Values("DPoP")) > 0 {
			h.s.reject(w, r, requestFailure(errBearerWithProof))
			return nil
		}
		if d.mode == DPoPRequired {
			h.s.reject(w, r, &Failure{Status: http.StatusUnauthorized, Description: "DPoP required", Err: ErrDPoPRequired})
			return nil
		}
	}
	return r.WithContext(context.WithValue(r.Context(), dpopRequestKey{}, st))
}

// checkDPoP verifies the proof of a DPoP-scheme request whose token
// validated with claims cl.
func checkDPoP(ctx context.Context, d *dpopSettings, st *dpopRequest, token string, cl *claims.Claims) error {
	p, err := d.v.Verify(ctx, st.r, token, cl.Confirmation.JKT)
	if err != nil {
		return dpopFailure(err)
	}
	st.proof, st.ok = p, true
	return nil
}

// dpopFailure is the answer to a proof that v refused.
func dpopFailure(err error) *Failure {
	var e *dpop.Error
	if !errors.As(err, &e) {
		return &Failure{Status: http.StatusUnauthorized, Code: CodeInvalidDPoPProof, Description: "invalid DPoP proof", Err: err}
	}
	switch e.Code() {
	case "":
		return &Failure{Status: http.StatusServiceUnavailable, Code: CodeTemporarilyUnavailable, Description: "DPoP replay check unavailable, retry later", Err: err}
	case CodeInvalidToken:
		return &Failure{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "token is not DPoP-bound", Err: &invalidToken{err}}
	}
	return &Failure{Status: http.StatusUnauthorized, Code: e.Code(), Description: e.Reason, Err: err}
}

// decorate makes f answer in the scheme the client used, and name the
// schemes the mode accepts when the client sent no credentials.
func (d *dpopSettings) decorate(r *http.Request, f *Failure) {
	if f.Scheme != "" {
		return
	}
	if st := dpopRequestFrom(r.Context()); st != nil && st.scheme == "DPoP" {
		f.Scheme, f.DPoPAlgs = "DPoP", d.algs
		return
	}
	switch {
	case d.mode == DPoPRequired:
		f.Scheme, f.DPoPAlgs = "DPoP", d.algs
	case f.Code == "":
		f.DPoPAlgs = d.algs // a DPoP challenge beside the Bearer one
	}
}
