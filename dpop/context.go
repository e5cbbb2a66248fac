package dpop

import "context"

type contextKey struct{}

// proofContext carries a verified proof: one allocation, where
// context.WithValue would make two (its node and the boxed Proof).
type proofContext struct {
	context.Context
	p Proof
}

// Value returns a pointer to the proof for this package's key, which
// boxes without allocating.
func (c *proofContext) Value(key any) any {
	if _, ok := key.(contextKey); ok {
		return &c.p
	}
	return c.Context.Value(key)
}

// NewContext returns a copy of ctx that carries p, the proof of the
// request: the middleware stores it there once the proof verified.
func NewContext(ctx context.Context, p Proof) context.Context {
	return &proofContext{Context: ctx, p: p}
}

// FromContext returns the verified proof stored by [NewContext]: for a
// request the middleware authenticated with the DPoP scheme, its key's
// thumbprint (Proof.Thumbprint, the token's cnf.jkt). ok is false for
// requests without a DPoP proof.
func FromContext(ctx context.Context) (Proof, bool) {
	if p, ok := ctx.Value(contextKey{}).(*Proof); ok {
		return *p, true
	}
	return Proof{}, false
}
