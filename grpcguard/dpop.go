package grpcguard

import (
	"context"

	"google.golang.org/grpc/codes"

	"github.com/apiguard/apiguard/claims"
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

// checkProof decides whether the bound token of a call to method may be
// used. For now it refuses every bound token.
func checkProof(ctx context.Context, md Metadata, method, token string, c *claims.Claims) error {
	proofs := md.Values(ctx, "dpop")
	if len(proofs) > 1 {
		return errTwoProofs
	}
	// DPOP-INTEGRATION: verify proofs[0] with package dpop as the HTTP side
	// does: htm and htu from proofTarget(ctx, md, method), ath the hash of token,
	// the proof's key thumbprint equal to c's cnf.jkt; return nil when it
	// verifies. A missing or failing proof stays Unauthenticated, a replay
	// store that cannot answer Unavailable.
	_, _ = token, c
	return errProofRequired
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
