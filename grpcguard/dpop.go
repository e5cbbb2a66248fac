package grpcguard

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/dpop"
)

var (
	errBoundBearer = &Rejection{Code: codes.Unauthenticated, Message: "token is DPoP-bound; send it with the DPoP scheme and a proof", Err: ErrProofRequired}
	errStrayProof  = invalidRequest("a dpop proof with a Bearer token")
)

var errProofRequired = &Rejection{Code: codes.Unauthenticated, Message: "token is DPoP-bound; proof required", Err: ErrProofRequired}

// isBound reports whether c is sender-constrained: a token with a
// confirmation claim (RFC 7800; cnf.jkt for DPoP, RFC 9449 section 6) is
// bound to a key and is never accepted as a plain bearer token.
// cnf is a registered claim of package claims (not a custom one), so
// Confirmation.Present tells whether the token has it.
func isBound(c *claims.Claims) bool {
	return c.Confirmation.Present
}

// Option configures an Interceptor.
type Option func(*Interceptor)

// WithDPoP verifies DPoP proofs with v (package dpop): a bound token is
// accepted when the call carries one "dpop" metadata value holding a proof
// of its key for htm "POST" and htu "https://<authority><method>", and the
// "DPoP" authorization scheme is accepted too (for bound tokens only).
// Without it every bound token is refused. The verified proof is in the
// handler's context (dpop.FromContext).
func WithDPoP(v *dpop.Verifier) Option {
	return func(ic *Interceptor) { ic.dpop = v }
}

// credentials returns the token of the authorization values and whether
// it came with the DPoP scheme, which is taken only with WithDPoP and
// parsed like a bearer token.
func (ic *Interceptor) credentials(vals []string) (string, bool, *Rejection) {
	if ic.dpop != nil && len(vals) == 1 {
		scheme, _, _ := strings.Cut(vals[0], " ")
		if strings.EqualFold(scheme, "DPoP") {
			token, rej := bearer([]string{"Bearer" + vals[0][len(scheme):]})
			return token, true, rej
		}
	}
	token, rej := bearer(vals)
	return token, false, rej
}

var errProofTarget = &Rejection{Code: codes.Unauthenticated, Message: "DPoP proof cannot be checked: the call has no single :authority", Err: ErrProofRequired}

const msgReplayStore = "DPoP replay check unavailable, retry later"

// checkProof decides whether the token of a call to method, bound to a
// key or sent with the DPoP scheme, may be used, and returns the context
// with the verified proof.
func (ic *Interceptor) checkProof(ctx context.Context, md Metadata, method, token string, c *claims.Claims) (context.Context, error) {
	proofs := md.Values(ctx, "dpop")
	if len(proofs) > 1 {
		return nil, errTwoProofs
	}
	if ic.dpop == nil || len(proofs) == 0 {
		return nil, errProofRequired
	}
	htm, htu, ok := proofTarget(ctx, md, method)
	if !ok {
		return nil, errProofTarget
	}
	p, err := ic.dpop.Check(ctx, dpop.Request{Proofs: proofs, Method: htm, URL: htu, AccessToken: token, JKT: c.Confirmation.JKT})
	if err != nil {
		var e *dpop.Error
		switch {
		case errors.As(err, &e) && e.Code() == "":
			return nil, &Rejection{Code: codes.Unavailable, Message: msgReplayStore, Err: err}
		case errors.As(err, &e):
			return nil, &Rejection{Code: codes.Unauthenticated, Message: e.Error(), Err: err}
		}
		return nil, &Rejection{Code: codes.Unauthenticated, Message: "invalid DPoP proof", Err: err}
	}
	return dpop.NewContext(ctx, p), nil
}

// proofTarget returns the htm and htu a DPoP proof for a call to method
// must carry, by apiguard's convention for gRPC (no standard exists): the
// HTTP/2 request the call travels as, "POST" to
// "https://<authority><method>", where authority is the call's :authority.
// ok is false when the call has no single :authority.
func proofTarget(ctx context.Context, md Metadata, method string) (htm, htu string, ok bool) {
	auth := md.Values(ctx, ":authority")
	if len(auth) != 1 || auth[0] == "" {
		return "", "", false
	}
	return "POST", "https://" + auth[0] + method, true
}
