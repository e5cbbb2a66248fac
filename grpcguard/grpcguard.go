package grpcguard

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator"
)

// Validator checks an access token and returns its claims.
// *validator.Validator implements it. An error matching
// validator.ErrKeysUnavailable becomes Unavailable; any other error is an
// invalid token (Unauthenticated), described by its class when it is a
// *validator.Error.
type Validator interface {
	Validate(ctx context.Context, token string) (*claims.Claims, error)
}

// Error classes of [Rejection.Err] for refusals made before or around
// validation. A token the validator refused matches
// validator.ErrInvalidToken, keys that could not be loaded match
// validator.ErrKeysUnavailable, and a guard's refusal its own class (for
// the built-in guards, those of package scopes).
var (
	// ErrMissingToken: the call carried no bearer credentials (no
	// authorization metadata, or another scheme).
	ErrMissingToken = errors.New("no bearer token")
	// ErrInvalidRequest: the authorization (or dpop) metadata is
	// malformed or repeated.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrNoPolicy: the policy does not list the method.
	ErrNoPolicy = errors.New("method has no access policy")
	// ErrProofRequired: the token is bound to a key (cnf claim) and no
	// valid DPoP proof came with it.
	ErrProofRequired = errors.New("DPoP proof required")
)

// Rejection is the error the interceptors return when they refuse a call.
// gRPC sends its Code and Message (GRPCStatus); Err is the cause, for
// errors.Is and errors.As in interceptors chained before these. Nothing in a
// Rejection holds the token, its claims or raw metadata values (the error of
// a custom Validator or Guard is kept in Err as it is, but only a guard's
// message is sent).
type Rejection struct {
	// Code is the status code: InvalidArgument, Unauthenticated,
	// PermissionDenied or Unavailable (Canceled or DeadlineExceeded when
	// the call ended during validation).
	Code codes.Code
	// Message is the status message, safe to show to the client.
	Message string
	// Err is the cause: one of this package's classes, an error matching
	// validator.ErrInvalidToken or validator.ErrKeysUnavailable, or a
	// guard's error.
	Err error
}

// Error returns the code and the message.
func (r *Rejection) Error() string { return fmt.Sprintf("%s: %s", r.Code, r.Message) }

// Unwrap returns Err.
func (r *Rejection) Unwrap() error { return r.Err }

// GRPCStatus is the status gRPC sends to the client.
func (r *Rejection) GRPCStatus() *status.Status { return status.New(r.Code, r.Message) }

// Interceptor authenticates and authorizes gRPC calls by a [Policy]. It is
// safe for concurrent use.
type Interceptor struct {
	v     Validator
	rules map[string]Rule
	dpop  *dpop.Verifier // nil: bound tokens are refused
}

// New returns an Interceptor that validates tokens with v and applies p,
// which it copies. It panics when v is nil or a key of p is not a full
// method name ("/pkg.Service/Method"): such a policy could never match.
func New(v Validator, p Policy, opts ...Option) *Interceptor {
	if v == nil {
		panic("grpcguard: New with a nil Validator")
	}
	rules := make(map[string]Rule, len(p))
	for name, r := range p {
		if !validMethod(name) {
			panic(fmt.Sprintf("grpcguard: policy key %q is not a full method name such as /pkg.Service/Method", name))
		}
		r.guards = slices.Clone(r.guards)
		rules[name] = r
	}
	ic := &Interceptor{v: v, rules: rules}
	for _, o := range opts {
		o(ic)
	}
	return ic
}

// Metadata gives a call's request metadata values by lower-case name
// ("authorization", "dpop", ":authority"): gRPC metadata, or the HTTP
// headers of a call made with another RPC framework.
type Metadata interface {
	Values(ctx context.Context, name string) []string
}

// incoming reads the gRPC metadata of the call from its context.
type incoming struct{}

func (incoming) Values(ctx context.Context, name string) []string {
	return metadata.ValueFromIncomingContext(ctx, name)
}

// Authorize applies the policy to a call of method (a full method name)
// whose request metadata md holds, and returns the context for its
// handler, with the claims unless the method is public, or a *Rejection
// (or a guard's status error). The interceptors call it; adapters for other
// RPC frameworks, such as Connect, call it too.
func (ic *Interceptor) Authorize(ctx context.Context, method string, md Metadata) (context.Context, error) {
	return ic.authorize(ctx, method, md)
}

// Unary returns the unary server interceptor.
func (ic *Interceptor) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := ic.authorize(ctx, info.FullMethod, incoming{})
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// Stream returns the stream server interceptor. The handler gets a stream
// whose Context carries the claims.
func (ic *Interceptor) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := ic.authorize(ss.Context(), info.FullMethod, incoming{})
		if err != nil {
			return err
		}
		if ctx != ss.Context() {
			ss = &serverStream{ServerStream: ss, ctx: ctx}
		}
		return handler(srv, ss)
	}
}

// serverStream is a grpc.ServerStream with the claims in its context.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// Unlisted returns the full names of the methods registered on srv (usually
// a *grpc.Server) that the policy does not list, sorted. Calls to them are
// refused; a server can refuse to start, or a test fail, unless the list is
// empty.
func (ic *Interceptor) Unlisted(srv interface {
	GetServiceInfo() map[string]grpc.ServiceInfo
}) []string {
	var out []string
	for svc, info := range srv.GetServiceInfo() {
		for _, m := range info.Methods {
			name := "/" + svc + "/" + m.Name
			if _, ok := ic.rules[name]; !ok {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

var errNoPolicy = &Rejection{Code: codes.PermissionDenied, Message: "method has no access policy", Err: ErrNoPolicy}

// authorize applies the policy of method to the call and returns the
// handler's context, with the claims unless the method is public.
func (ic *Interceptor) authorize(ctx context.Context, method string, md Metadata) (context.Context, error) {
	rule, ok := ic.rules[method]
	if !ok {
		return nil, errNoPolicy
	}
	if rule.public {
		return ctx, nil
	}
	token, dpopScheme, rej := ic.credentials(md.Values(ctx, "authorization"))
	if rej != nil {
		return nil, rej
	}
	c, err := ic.v.Validate(ctx, token)
	if err != nil {
		return nil, validationRejection(ctx, token, err)
	}
	if c == nil {
		return nil, errNoClaims
	}
	// As over HTTP: a bound token comes with the DPoP scheme and a proof,
	// never as a bearer token, and a proof never rides with a Bearer one.
	switch bound := isBound(c); {
	case dpopScheme || (bound && ic.dpop == nil):
		if ctx, err = ic.checkProof(ctx, md, method, token, c); err != nil {
			return nil, err
		}
	case bound:
		return nil, errBoundBearer
	case ic.dpop != nil && len(md.Values(ctx, "dpop")) > 0:
		return nil, errStrayProof
	}
	ctx = claims.NewContext(ctx, c)
	for _, g := range rule.guards {
		if err := g(ctx, c); err != nil {
			return nil, guardRejection(err)
		}
	}
	return ctx, nil
}

var errNoClaims = &Rejection{Code: codes.Unauthenticated, Message: "invalid token", Err: &invalidToken{errors.New("validator returned no claims")}}

const msgUnavailable = "signing keys unavailable, retry later"

// validationRejection maps a Validate error to its answer. Only the class
// of a *validator.Error is sent: it says what kind of check failed without
// naming issuers, key IDs or algorithms.
func validationRejection(ctx context.Context, token string, err error) *Rejection {
	if ctxErr := ctx.Err(); ctxErr != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		st := status.FromContextError(ctxErr)
		return &Rejection{Code: st.Code(), Message: st.Message(), Err: err}
	}
	if errors.Is(err, validator.ErrKeysUnavailable) {
		return &Rejection{Code: codes.Unavailable, Message: msgUnavailable, Err: err}
	}
	// The same words as over HTTP: no class that would let a caller map
	// the trusted issuers, kids or algorithms.
	msg := "invalid token"
	if d := middleware.ClientDescription(token, err); d != msg {
		msg = "invalid token: " + d
	}
	if !errors.Is(err, validator.ErrInvalidToken) {
		err = &invalidToken{err}
	}
	return &Rejection{Code: codes.Unauthenticated, Message: msg, Err: err}
}

// guardRejection maps a guard's error to its answer: a status error as it
// is, anything else PermissionDenied with the error's message.
func guardRejection(err error) error {
	var st interface{ GRPCStatus() *status.Status }
	if errors.As(err, &st) {
		return err
	}
	return &Rejection{Code: codes.PermissionDenied, Message: err.Error(), Err: err}
}

// invalidToken makes an error of a custom Validator match
// validator.ErrInvalidToken.
type invalidToken struct{ err error }

func (e *invalidToken) Error() string        { return "invalid token: " + e.err.Error() }
func (e *invalidToken) Unwrap() error        { return e.err }
func (e *invalidToken) Is(target error) bool { return target == validator.ErrInvalidToken }
