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
	"github.com/apiguard/apiguard/examples/internal/stack"
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

// callGRPC shows that the web app's DPoP-bound token is refused over gRPC
// without a proof, then calls WhoAmI and ListContacts with a bearer token
// of alice's for scope and checks their status codes.
func (w *walk) callGRPC(ctx context.Context, scope string, wantList codes.Code) {
	_, err := grpcapi.NewClient(w.grpc.conn, w.tokens.access()).WhoAmI(ctx)
	w.check(status.Code(err) == codes.Unauthenticated, "%s with the web app's DPoP-bound token and no proof -> %v (want Unauthenticated)  %s",
		grpcapi.MethodWhoAmI, status.Code(err), status.Convert(err).Message())
	token, err := w.st.AccessToken(ctx, stack.Alice, scope)
	if !w.check(err == nil, "a bearer token for %s, scope %q: %v", stack.Alice.Username, scope, err) {
		return
	}
	c := grpcapi.NewClient(w.grpc.conn, token)
	sub, err := c.WhoAmI(ctx)
	w.check(status.Code(err) == codes.OK, "%s -> %v (want OK)  %s", grpcapi.MethodWhoAmI, status.Code(err), sub)
	list, err := c.ListContacts(ctx)
	extra := status.Convert(err).Message()
	if err == nil {
		extra = fmt.Sprintf("%d contacts", len(list))
	}
	w.check(status.Code(err) == wantList, "%s -> %v (want %v)  %s", grpcapi.MethodListContacts, status.Code(err), wantList, extra)
}
