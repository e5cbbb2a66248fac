package grpcguard

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestProofTarget: on a real server over loopback TCP, the htu of a call
// is https:// + its :authority + the full method name, and htm is POST.
func TestProofTarget(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	type target struct {
		htm, htu string
		ok       bool
	}
	got := make(chan target, 1)
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		htm, htu, ok := proofTarget(ctx, incoming{}, info.FullMethod)
		got <- target{htm, htu, ok}
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithAuthority("api.example.com"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, target{"POST", "https://api.example.com/grpc.health.v1.Health/Check", true}, <-got)

	_, _, ok := proofTarget(context.Background(), incoming{}, "/a.B/C")
	assert.False(t, ok, "no :authority, no target")
}
