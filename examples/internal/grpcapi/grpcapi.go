// Package grpcapi is the example's gRPC service, protected by apiguard's
// grpcguard interceptors: the contacts API of package api, over gRPC.
//
//	service apiguard.examples.contacts.v1.Contacts {
//	  // Any valid access token; answers the token's subject.
//	  rpc WhoAmI(google.protobuf.Empty) returns (google.protobuf.StringValue);
//	  // Needs scope read:contacts; answers {"contacts": [{"name": ..., "email": ...}, ...]}.
//	  rpc ListContacts(google.protobuf.Empty) returns (google.protobuf.Struct);
//	}
//
// plus the standard health service (grpc.health.v1.Health), which needs no
// token. The messages are well-known protobuf types and the service
// descriptor is written by hand, so no code is generated.
package grpcapi

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/grpcguard"
)

// Service is the full name of the contacts service.
const Service = "apiguard.examples.contacts.v1.Contacts"

// Full method names.
const (
	MethodWhoAmI       = "/" + Service + "/WhoAmI"
	MethodListContacts = "/" + Service + "/ListContacts"
)

// ContactsScope is the scope ListContacts requires.
const ContactsScope = "read:contacts"

// Policy is what each method needs. Methods not listed, including any
// added to the service later, are refused.
func Policy() grpcguard.Policy {
	return grpcguard.Policy{
		MethodWhoAmI:          grpcguard.Authenticated(),
		MethodListContacts:    grpcguard.RequireScope(ContactsScope),
		grpcguard.HealthCheck: grpcguard.Public(),
		grpcguard.HealthWatch: grpcguard.Public(),
		grpcguard.HealthList:  grpcguard.Public(),
	}
}

// Server is the gRPC server with its health service.
type Server struct {
	*grpc.Server
	// Health reports SERVING for the server ("") and for Service, unless
	// TrackReadiness says otherwise.
	Health *health.Server
}

// NewServer returns a gRPC server with the contacts and health services,
// protected by grpcguard with v. It panics if a registered method has no
// policy entry: a programming error of this example.
func NewServer(v grpcguard.Validator, opts ...grpc.ServerOption) *Server {
	// DPoP-bound tokens are taken with a proof in metadata "dpop" (POST
	// https://<authority>/<service>/<method>), as the HTTP API takes them;
	// without one they are refused, never used as bearer tokens.
	proofs, err := dpop.NewVerifier(dpop.Config{})
	if err != nil {
		panic("grpcapi: " + err.Error()) // the zero Config is valid
	}
	ic := grpcguard.New(v, Policy(), grpcguard.WithDPoP(proofs))
	opts = append(opts, grpc.ChainUnaryInterceptor(ic.Unary()), grpc.ChainStreamInterceptor(ic.Stream()))
	s := &Server{Server: grpc.NewServer(opts...), Health: health.NewServer()}
	s.RegisterService(&serviceDesc, contacts{})
	healthpb.RegisterHealthServer(s.Server, s.Health)
	s.Health.SetServingStatus(Service, healthpb.HealthCheckResponse_SERVING)
	if missing := ic.Unlisted(s.Server); len(missing) > 0 {
		panic("grpcapi: methods without a policy entry: " + strings.Join(missing, ", "))
	}
	return s
}

// TrackReadiness makes the health service report NOT_SERVING, for the
// server and for Service, while ready (such as the validator's Ready: are
// the signing keys loaded?) returns an error, and SERVING once it returns
// nil. It checks at once and then every interval until ctx ends.
func (s *Server) TrackReadiness(ctx context.Context, ready func(context.Context) error, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st := healthpb.HealthCheckResponse_SERVING
		if ready(ctx) != nil {
			st = healthpb.HealthCheckResponse_NOT_SERVING
		}
		s.Health.SetServingStatus("", st)
		s.Health.SetServingStatus(Service, st)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// contactsServer is the service's handler type.
type contactsServer interface {
	WhoAmI(ctx context.Context) (*wrapperspb.StringValue, error)
	ListContacts(ctx context.Context) (*structpb.Struct, error)
}

type contacts struct{}

func (contacts) WhoAmI(ctx context.Context) (*wrapperspb.StringValue, error) {
	c, ok := claims.FromContext(ctx)
	if !ok { // cannot happen behind grpcguard with this policy
		return nil, status.Error(codes.Unauthenticated, "no validated token")
	}
	return wrapperspb.String(c.Subject), nil
}

// Contact is one entry of the demo address book.
type Contact struct {
	Name, Email string
}

// Contacts is the demo address book, as in package api.
var Contacts = []Contact{
	{"Ada Lovelace", "ada@example.com"},
	{"Grace Hopper", "grace@example.com"},
	{"Edsger Dijkstra", "edsger@example.com"},
}

func (contacts) ListContacts(context.Context) (*structpb.Struct, error) {
	list := make([]any, 0, len(Contacts))
	for _, c := range Contacts {
		list = append(list, map[string]any{"name": c.Name, "email": c.Email})
	}
	return structpb.NewStruct(map[string]any{"contacts": list})
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: Service,
	HandlerType: (*contactsServer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "WhoAmI", Handler: unary(MethodWhoAmI, func(s contactsServer, ctx context.Context) (any, error) { return s.WhoAmI(ctx) })},
		{MethodName: "ListContacts", Handler: unary(MethodListContacts, func(s contactsServer, ctx context.Context) (any, error) { return s.ListContacts(ctx) })},
	},
	Metadata: "apiguard/examples/contacts/v1/contacts.proto",
}

// unary adapts a method that takes google.protobuf.Empty to grpc's handler
// signature, as generated code would.
func unary(full string, call func(contactsServer, context.Context) (any, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
		in := new(emptypb.Empty)
		if err := dec(in); err != nil {
			return nil, err
		}
		h := func(ctx context.Context, _ any) (any, error) { return call(srv.(contactsServer), ctx) }
		if ic == nil {
			return h(ctx, in)
		}
		return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: full}, h)
	}
}

// Client calls the contacts service with an access token.
type Client struct {
	conn  grpc.ClientConnInterface
	token string
}

// NewClient returns a client that sends token (when not empty) as
// "authorization: Bearer <token>" metadata with every call.
func NewClient(conn grpc.ClientConnInterface, token string) *Client {
	return &Client{conn: conn, token: token}
}

func (c *Client) ctx(ctx context.Context) context.Context {
	if c.token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
}

// WhoAmI returns the subject of the client's token.
func (c *Client) WhoAmI(ctx context.Context) (string, error) {
	out := new(wrapperspb.StringValue)
	if err := c.conn.Invoke(c.ctx(ctx), MethodWhoAmI, new(emptypb.Empty), out); err != nil {
		return "", err
	}
	return out.GetValue(), nil
}

// ListContacts returns the address book.
func (c *Client) ListContacts(ctx context.Context) ([]Contact, error) {
	out := new(structpb.Struct)
	if err := c.conn.Invoke(c.ctx(ctx), MethodListContacts, new(emptypb.Empty), out); err != nil {
		return nil, err
	}
	var list []Contact
	for _, v := range out.GetFields()["contacts"].GetListValue().GetValues() {
		f := v.GetStructValue().GetFields()
		list = append(list, Contact{Name: f["name"].GetStringValue(), Email: f["email"].GetStringValue()})
	}
	return list, nil
}
