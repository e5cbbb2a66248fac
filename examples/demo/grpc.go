package main

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/apiguard/apiguard/examples/internal/grpcapi"
	"github.com/apiguard/apiguard/examples/internal/loopback"
	"github.com/apiguard/apiguard/validator"
)

// grpcService is the gRPC contacts service, served beside the HTTP API with
// the same validator, and a plaintext connection to it.
type grpcService struct {
	addr string
	srv  *grpcapi.Server
	conn *grpc.ClientConn
}

func startGRPC(v *validator.Validator) (*grpcService, error) {
	l, err := loopback.Listen("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := &grpcService{addr: l.Addr().String(), srv: grpcapi.NewServer(v)}
	go func() { _ = g.srv.Serve(l) }()
	g.conn, err = grpc.NewClient(g.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		g.srv.Stop()
		return nil, err
	}
	return g, nil
}

func (g *grpcService) close() {
	_ = g.conn.Close()
	g.srv.Stop()
}

// callGRPC calls WhoAmI and ListContacts with the web app's current access
// token and checks their status codes.
func (w *walk) callGRPC(ctx context.Context, wantList codes.Code) {
	c := grpcapi.NewClient(w.grpc.conn, w.tokens.access())
	sub, err := c.WhoAmI(ctx)
	w.check(status.Code(err) == codes.OK, "%s -> %v (want OK)  %s", grpcapi.MethodWhoAmI, status.Code(err), sub)
	list, err := c.ListContacts(ctx)
	extra := status.Convert(err).Message()
	if err == nil {
		extra = fmt.Sprintf("%d contacts", len(list))
	}
	w.check(status.Code(err) == wantList, "%s -> %v (want %v)  %s", grpcapi.MethodListContacts, status.Code(err), wantList, extra)
}
