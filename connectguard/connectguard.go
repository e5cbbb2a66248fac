// Package connectguard protects Connect handlers (connectrpc.com/connect)
// with the policy, validator and guards of package grpcguard, answering
// each refusal with the Connect error of the same code, which every
// protocol Connect serves renders correctly: in the Connect protocol,
// Unauthenticated is HTTP 401, PermissionDenied 403, InvalidArgument 400
// and Unavailable 503; in gRPC and gRPC-Web, the status code itself.
//
//	ic := grpcguard.New(v, grpcguard.Policy{
//		"/contacts.v1.Contacts/ListContacts": grpcguard.RequireScope("read:contacts"),
//	})
//	path, h := contactsv1connect.NewContactsHandler(srv, connect.WithInterceptors(connectguard.New(ic)))
//
// The credentials are the request's Authorization header (exactly one,
// "Bearer <token>"); handlers find the claims with claims.FromContext. In
// the Connect protocol, 400, 401 and 403 answers carry a WWW-Authenticate
// challenge as RFC 6750 describes (error="invalid_token", or
// error="insufficient_scope" with the required scope).
package connectguard

import (
	"context"
	"errors"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apiguard/apiguard/grpcguard"
	"github.com/apiguard/apiguard/validator"
)

// Realm is the realm of the WWW-Authenticate challenges.
const Realm = "api"

// New returns a Connect interceptor that authorizes every call a handler
// receives with ic. It does nothing for clients.
func New(ic *grpcguard.Interceptor) connect.Interceptor {
	if ic == nil {
		panic("connectguard: New with a nil Interceptor")
	}
	return &interceptor{ic: ic}
}

type interceptor struct{ ic *grpcguard.Interceptor }

// headers are a call's HTTP headers as grpcguard metadata.
//
// DPOP-INTEGRATION: proofs are read from the DPoP header; the htu needs the
// request's authority, which Connect does not pass to interceptors (it is
// not a header): serve Connect behind an http.Handler that records r.Host
// in the context, or a configured public base URL, when proofs are checked.
type headers http.Header

func (h headers) Values(_ context.Context, name string) []string { return http.Header(h).Values(name) }

func (i *interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		ctx, err := i.ic.Authorize(ctx, req.Spec().Procedure, headers(req.Header()))
		if err != nil {
			return nil, connectError(err)
		}
		return next(ctx, req)
	}
}

func (i *interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i *interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := i.ic.Authorize(ctx, conn.Spec().Procedure, headers(conn.RequestHeader()))
		if err != nil {
			return connectError(err)
		}
		return next(ctx, conn)
	}
}

// connectError turns a refusal of grpcguard into the Connect error of the
// same code (Connect's codes are gRPC's), with the same message, wrapping
// the refusal so that errors.Is and errors.As still find its class.
func connectError(err error) *connect.Error {
	var rej *grpcguard.Rejection
	if !errors.As(err, &rej) { // a guard's own status error
		st := status.Convert(err)
		return connect.NewError(connect.Code(st.Code()), &message{msg: st.Message(), err: err})
	}
	ce := connect.NewError(connect.Code(rej.Code), &message{msg: rej.Message, err: rej})
	if c := challenge(rej); c != "" {
		ce.Meta().Set("WWW-Authenticate", c)
	}
	return ce
}

// message is an error whose text is the status message sent to the client
// and which unwraps to the refusal.
type message struct {
	msg string
	err error
}

func (m *message) Error() string { return m.msg }
func (m *message) Unwrap() error { return m.err }

// challenge returns the RFC 6750 challenge for a 400, 401 or 403 refusal,
// or "".
// Its parameters are fixed strings and scope tokens, which hold no '"' or
// '\' (RFC 6749 section 3.3), so they need no escaping.
func challenge(rej *grpcguard.Rejection) string {
	bare := `Bearer realm="` + Realm + `"`
	switch rej.Code {
	case codes.InvalidArgument:
		return bare + `, error="invalid_request"`
	case codes.Unauthenticated:
		if errors.Is(rej, validator.ErrInvalidToken) || errors.Is(rej, grpcguard.ErrProofRequired) {
			return bare + `, error="invalid_token"`
		}
		return bare
	case codes.PermissionDenied:
		var d *grpcguard.Denied
		if !errors.As(rej, &d) {
			return ""
		}
		if d.Scope != "" {
			return bare + `, error="insufficient_scope", scope="` + d.Scope + `"`
		}
		return bare + `, error="insufficient_scope"`
	}
	return ""
}
