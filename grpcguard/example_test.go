package grpcguard_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/apiguard/apiguard/grpcguard"
	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// A server whose health Check is public and whose health Watch needs the
// scope "monitor"; every other method is refused.
func Example() {
	iss := testkit.NewIssuer() // in production: your Auth0 tenant
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	ic := grpcguard.New(v, grpcguard.Policy{
		grpcguard.HealthCheck: grpcguard.Public(),
		grpcguard.HealthWatch: grpcguard.RequireScope("monitor"),
	})
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(ic.Unary()), grpc.ChainStreamInterceptor(ic.Stream()))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	fmt.Println("unlisted:", ic.Unlisted(srv))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	_, err = client.Check(context.Background(), &healthpb.HealthCheckRequest{})
	fmt.Println("Check without a token:", status.Code(err))

	watch := func(token string) {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
		stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		fmt.Printf("Watch: %v %q\n", status.Code(err), status.Convert(err).Message())
	}
	watch("not-a-jwt")
	watch(iss.Mint(testkit.WithScope("openid")))
	watch(iss.Mint(testkit.WithScope("monitor")))
	// Output:
	// unlisted: [/grpc.health.v1.Health/List]
	// Check without a token: OK
	// Watch: Unauthenticated "invalid token: malformed token"
	// Watch: PermissionDenied "insufficient scope: requires: monitor"
	// Watch: OK ""
}
