package grpcguard_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/grpcguard"
	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// One issuer and validator for the package: RSA key generation is the slow
// part, and both are safe for concurrent use.
var (
	fixtureOnce sync.Once
	fixtureIss  *testkit.Issuer
	fixtureV    *validator.Validator
)

func fixture(t testing.TB) (*testkit.Issuer, *validator.Validator) {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureIss = testkit.NewIssuer()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, err := validator.New(ctx, fixtureIss.Config())
		if err != nil {
			panic(err)
		}
		fixtureV = v
	})
	return fixtureIss, fixtureV
}

// The test service, test.v1.Echo, hand-written so that no code generation
// is needed. Every method answers what its handler saw: the subject from
// claims.FromContext, or "anonymous".
const (
	methodPublic   = "/test.v1.Echo/Public"
	methodOpen     = "/test.v1.Echo/Open"
	methodScoped   = "/test.v1.Echo/Scoped"
	methodUnlisted = "/test.v1.Echo/Unlisted"
	methodWatch    = "/test.v1.Echo/Watch" // server streaming
)

func seen(ctx context.Context) string {
	if c, ok := claims.FromContext(ctx); ok {
		return c.Subject
	}
	return "anonymous"
}

func unary(full string) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: full[len("/test.v1.Echo/"):],
		Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, _ any) (any, error) { return wrapperspb.String(seen(ctx)), nil }
			if ic == nil {
				return h(ctx, in)
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: full}, h)
		},
	}
}

var echoDesc = grpc.ServiceDesc{
	ServiceName: "test.v1.Echo",
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{unary(methodPublic), unary(methodOpen), unary(methodScoped), unary(methodUnlisted)},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Watch",
		ServerStreams: true,
		Handler: func(_ any, ss grpc.ServerStream) error {
			if err := ss.RecvMsg(new(emptypb.Empty)); err != nil {
				return err
			}
			return ss.SendMsg(wrapperspb.String(seen(ss.Context())))
		},
	}},
}

// testPolicy is the policy of most tests.
func testPolicy() grpcguard.Policy {
	return grpcguard.Policy{
		methodPublic:           grpcguard.Public(),
		methodOpen:             grpcguard.Authenticated(),
		methodScoped:           grpcguard.RequireScope("read:contacts"),
		methodWatch:            grpcguard.RequireScope("read:contacts"),
		grpcguard.HealthCheck:  grpcguard.Public(),
		grpcguard.HealthWatch:  grpcguard.Public(),
		"/test.v1.Other/Never": grpcguard.Authenticated(),
	}
}

// serve starts a real gRPC server, over an in-memory connection, with the
// interceptors of ic in front of the test service and the health service,
// and returns a client connection to it. extra interceptors run before
// ic's.
func serve(t testing.TB, ic *grpcguard.Interceptor, extra ...grpc.UnaryServerInterceptor) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(append(extra, ic.Unary())...),
		grpc.ChainStreamInterceptor(ic.Stream()),
	)
	srv.RegisterService(&echoDesc, struct{}{})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// withAuth returns ctx with one authorization metadata value per element
// of auth.
func withAuth(ctx context.Context, auth ...string) context.Context {
	for _, a := range auth {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", a)
	}
	return ctx
}

// call invokes a unary method of the test service with auth and returns
// what the handler saw, or the status of the refusal.
func call(t testing.TB, conn *grpc.ClientConn, method string, auth ...string) (string, *status.Status) {
	t.Helper()
	return callCtx(t, withAuth(t.Context(), auth...), conn, method)
}

func callCtx(t testing.TB, ctx context.Context, conn *grpc.ClientConn, method string) (string, *status.Status) {
	t.Helper()
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, method, new(emptypb.Empty), out)
	return out.GetValue(), status.Convert(err)
}

// watch opens the server stream with auth and returns what the handler saw.
func watch(t testing.TB, conn *grpc.ClientConn, auth ...string) (string, *status.Status) {
	t.Helper()
	ctx := withAuth(t.Context(), auth...)
	st, err := conn.NewStream(ctx, &echoDesc.Streams[0], methodWatch)
	if err != nil {
		return "", status.Convert(err)
	}
	if err := st.SendMsg(new(emptypb.Empty)); err != nil {
		return "", status.Convert(err)
	}
	if err := st.CloseSend(); err != nil {
		return "", status.Convert(err)
	}
	out := new(wrapperspb.StringValue)
	if err := st.RecvMsg(out); err != nil {
		return "", status.Convert(err)
	}
	return out.GetValue(), nil
}
