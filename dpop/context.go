package dpop

import "context"

type contextKey struct{}

// NewContext returns a copy of ctx that carries p, the proof of the
// request: the middleware stores it there once the proof verified.
func NewContext(ctx context.Context, p Proof) context.Context {
	return context.WithValue(ctx, contextKey{}, p)
}

// FromContext returns the verified proof stored by [NewContext]: for a
// request the middleware authenticated with the DPoP scheme, its key's
// thumbprint (Proof.Thumbprint, the token's cnf.jkt). ok is false for
// requests without a DPoP proof.
func FromContext(ctx context.Context) (Proof, bool) {
	p, ok := ctx.Value(contextKey{}).(Proof)
	return p, ok
}
