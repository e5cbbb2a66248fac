package grpcguard_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/grpcguard"
	"github.com/apiguard/apiguard/internal/testkit"
)

// fixedValidator returns the same claims for every token at no cost, so
// that a benchmark through it measures the interceptor alone.
type fixedValidator struct{ c *claims.Claims }

func (f fixedValidator) Validate(context.Context, string) (*claims.Claims, error) { return f.c, nil }

// BenchmarkInterceptor is the interceptor's own cost beyond Validate: the
// unary interceptor called directly, with incoming metadata as gRPC puts it
// in the context, a validator that costs nothing, and a scope guard.
func BenchmarkInterceptor(b *testing.B) {
	iss, v := fixture(b)
	token := iss.Mint(testkit.WithScope("openid read:contacts"))
	c, err := v.Validate(context.Background(), token)
	if err != nil {
		b.Fatal(err)
	}
	ic := grpcguard.New(fixedValidator{c}, testPolicy())
	unary := ic.Unary()
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(
		"authorization", "Bearer "+token, ":authority", "bufnet", "content-type", "application/grpc",
		"user-agent", "grpc-go/1.85.0", "te", "trailers"))
	info := &grpc.UnaryServerInfo{FullMethod: methodScoped}
	handler := func(ctx context.Context, req any) (any, error) {
		if _, ok := claims.FromContext(ctx); !ok {
			b.Fatal("no claims")
		}
		return req, nil
	}
	req := new(emptypb.Empty)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := unary(ctx, req, info, handler); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBufconn is a whole unary call over an in-memory connection:
// without interceptor, with the interceptor and a validator that costs
// nothing (the difference is the interceptor's cost in place), and with
// the real validator (RS256).
func BenchmarkBufconn(b *testing.B) {
	iss, v := fixture(b)
	token := iss.Mint(testkit.WithScope("openid read:contacts"))
	c, err := v.Validate(context.Background(), token)
	if err != nil {
		b.Fatal(err)
	}
	open := grpcguard.Policy{}
	for m := range testPolicy() {
		open[m] = grpcguard.Public()
	}
	for _, bc := range []struct {
		name string
		ic   *grpcguard.Interceptor
	}{
		{"NoAuth", grpcguard.New(fixedValidator{c}, open)},
		{"InterceptorOnly", grpcguard.New(fixedValidator{c}, testPolicy())},
		{"Validator", grpcguard.New(v, testPolicy())},
	} {
		b.Run(bc.name, func(b *testing.B) {
			conn := serve(b, bc.ic)
			ctx := withAuth(context.Background(), "Bearer "+token)
			in, out := new(emptypb.Empty), new(wrapperspb.StringValue)
			b.ReportAllocs()
			for b.Loop() {
				if err := conn.Invoke(ctx, methodScoped, in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
