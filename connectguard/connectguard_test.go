package connectguard_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/connectguard"
	"github.com/apiguard/apiguard/grpcguard"
	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

const (
	procOpen     = "/test.v1.Echo/Open"
	procScoped   = "/test.v1.Echo/Scoped"
	procPublic   = "/test.v1.Echo/Public"
	procUnlisted = "/test.v1.Echo/Unlisted"
	procWatch    = "/test.v1.Echo/Watch"
)

func seen(ctx context.Context) string {
	if c, ok := claims.FromContext(ctx); ok {
		return c.Subject
	}
	return "anonymous"
}

// serve starts an HTTP/2 (TLS) server with Connect handlers behind
// connectguard for v; it serves the Connect, gRPC and gRPC-Web protocols.
func serve(t *testing.T, v grpcguard.Validator) *httptest.Server {
	t.Helper()
	ic := grpcguard.New(v, grpcguard.Policy{
		procOpen:   grpcguard.Authenticated(),
		procScoped: grpcguard.RequireScope("read:contacts"),
		procWatch:  grpcguard.RequireScope("read:contacts"),
		procPublic: grpcguard.Public(),
	})
	opt := connect.WithInterceptors(connectguard.New(ic))
	echo := func(ctx context.Context, _ *connect.Request[emptypb.Empty]) (*connect.Response[wrapperspb.StringValue], error) {
		return connect.NewResponse(wrapperspb.String(seen(ctx))), nil
	}
	mux := http.NewServeMux()
	for _, p := range []string{procOpen, procScoped, procPublic, procUnlisted} {
		mux.Handle(p, connect.NewUnaryHandler(p, echo, opt))
	}
	mux.Handle(procWatch, connect.NewServerStreamHandler(procWatch,
		func(ctx context.Context, _ *connect.Request[emptypb.Empty], s *connect.ServerStream[wrapperspb.StringValue]) error {
			return s.Send(wrapperspb.String(seen(ctx)))
		}, opt))
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func fixture(t *testing.T) (*testkit.Issuer, *validator.Validator) {
	t.Helper()
	iss := testkit.NewIssuer()
	t.Cleanup(iss.Close)
	v, err := validator.New(t.Context(), iss.Config())
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	return iss, v
}

// TestConnectProtocol posts Connect unary requests by hand and checks the
// HTTP answer: status, WWW-Authenticate and the Connect error code.
func TestConnectProtocol(t *testing.T) {
	iss, v := fixture(t)
	srv := serve(t, v)
	good := iss.Mint(testkit.WithSubject("auth0|alice"), testkit.WithScope("read:contacts"))
	noScope := iss.Mint(testkit.WithScope("openid"))
	bound := iss.Mint(testkit.WithScope("read:contacts"), testkit.WithClaim("cnf", map[string]string{"jkt": "x"}))
	tests := []struct {
		name      string
		proc      string
		auth      []string
		status    int
		code      string // Connect error code; "" for success
		challenge string
	}{
		{"valid", procScoped, []string{"Bearer " + good}, 200, "", ""},
		{"public", procPublic, nil, 200, "", ""},
		{"no token", procOpen, nil, 401, "unauthenticated", `Bearer realm="api"`},
		{"another scheme", procOpen, []string{"Basic eDp5"}, 401, "unauthenticated", `Bearer realm="api"`},
		{"garbage", procOpen, []string{"Bearer abc"}, 401, "unauthenticated", `Bearer realm="api", error="invalid_token"`},
		{"bound token", procOpen, []string{"Bearer " + bound}, 401, "unauthenticated", `Bearer realm="api", error="invalid_token"`},
		{"two headers", procOpen, []string{"Bearer " + good, "Bearer " + good}, 400, "invalid_argument", `Bearer realm="api", error="invalid_request"`},
		{"no scope", procScoped, []string{"Bearer " + noScope}, 403, "permission_denied", `Bearer realm="api", error="insufficient_scope", scope="read:contacts"`},
		{"unlisted", procUnlisted, []string{"Bearer " + good}, 403, "permission_denied", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+tt.proc, strings.NewReader("{}"))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			for _, a := range tt.auth {
				req.Header.Add("Authorization", a)
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var raw json.RawMessage
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
			var body struct{ Code, Message string }
			if resp.StatusCode != http.StatusOK { // a success is the StringValue, a JSON string
				require.NoError(t, json.Unmarshal(raw, &body))
			}
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.code, body.Code)
			assert.Equal(t, tt.challenge, resp.Header.Get("WWW-Authenticate"))
			payload := strings.Split(good, ".")[1]
			assert.NotContains(t, body.Message, payload)
		})
	}
}

// TestProtocols: the same refusals reach Connect clients of each protocol
// with the same code, on unary and server-streaming procedures.
func TestProtocols(t *testing.T) {
	iss, v := fixture(t)
	srv := serve(t, v)
	good := iss.Mint(testkit.WithSubject("auth0|alice"), testkit.WithScope("read:contacts"))
	noScope := iss.Mint(testkit.WithSubject("auth0|bob"), testkit.WithScope("openid"))
	for name, proto := range map[string]connect.ClientOption{
		"connect": connect.WithProtoJSON(), "grpc": connect.WithGRPC(), "grpcweb": connect.WithGRPCWeb(),
	} {
		t.Run(name, func(t *testing.T) {
			unary := func(proc, token string) (string, connect.Code) {
				c := connect.NewClient[emptypb.Empty, wrapperspb.StringValue](srv.Client(), srv.URL+proc, proto)
				req := connect.NewRequest(&emptypb.Empty{})
				if token != "" {
					req.Header().Set("Authorization", "Bearer "+token)
				}
				resp, err := c.CallUnary(t.Context(), req)
				if err != nil {
					return "", connect.CodeOf(err)
				}
				return resp.Msg.GetValue(), 0
			}
			stream := func(token string) (string, connect.Code) {
				c := connect.NewClient[emptypb.Empty, wrapperspb.StringValue](srv.Client(), srv.URL+procWatch, proto)
				req := connect.NewRequest(&emptypb.Empty{})
				req.Header().Set("Authorization", "Bearer "+token)
				s, err := c.CallServerStream(t.Context(), req)
				if err != nil {
					return "", connect.CodeOf(err)
				}
				defer s.Close()
				if !s.Receive() {
					return "", connect.CodeOf(s.Err())
				}
				return s.Msg().GetValue(), 0
			}
			got, code := unary(procOpen, good)
			assert.Equal(t, connect.Code(0), code)
			assert.Equal(t, "auth0|alice", got)
			_, code = unary(procOpen, "")
			assert.Equal(t, connect.CodeUnauthenticated, code)
			_, code = unary(procScoped, noScope)
			assert.Equal(t, connect.CodePermissionDenied, code)
			got, code = unary(procScoped, good)
			assert.Equal(t, connect.Code(0), code)
			assert.Equal(t, "auth0|alice", got)

			got, code = stream(good)
			assert.Equal(t, connect.Code(0), code)
			assert.Equal(t, "auth0|alice", got, "the stream handler's context carries the claims")
			_, code = stream(noScope)
			assert.Equal(t, connect.CodePermissionDenied, code)
			_, code = stream("abc")
			assert.Equal(t, connect.CodeUnauthenticated, code)
		})
	}
}

// TestKeysUnavailable: Unavailable (503 in the Connect protocol), never
// Internal, while the issuer's keys cannot be loaded.
func TestKeysUnavailable(t *testing.T) {
	iss := testkit.NewIssuer()
	t.Cleanup(iss.Close)
	iss.SetFault(testkit.FaultDown)
	rc := iss.RemoteConfig()
	rc.StartWithoutKeys = true
	keys, err := validator.NewRemoteKeySet(t.Context(), rc)
	require.NoError(t, err)
	t.Cleanup(func() { keys.Close() })
	cfg := iss.Config()
	cfg.Keys = keys
	v, err := validator.New(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	srv := serve(t, v)
	c := connect.NewClient[emptypb.Empty, wrapperspb.StringValue](srv.Client(), srv.URL+procOpen)
	req := connect.NewRequest(&emptypb.Empty{})
	req.Header().Set("Authorization", "Bearer "+iss.Mint())
	_, err = c.CallUnary(t.Context(), req)
	require.Equal(t, connect.CodeUnavailable, connect.CodeOf(err), "%v", err)
}

// errValidator fails every token with err.
type errValidator struct{ err error }

func (e errValidator) Validate(context.Context, string) (*claims.Claims, error) { return nil, e.err }

// TestErrorClasses: a Connect interceptor chained before connectguard
// finds the refusal's class with errors.Is.
func TestErrorClasses(t *testing.T) {
	ic := grpcguard.New(errValidator{&validator.Error{Class: validator.ErrExpired}}, grpcguard.Policy{procOpen: grpcguard.Authenticated()})
	var got error
	outer := connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			resp, err := next(ctx, req)
			got = err
			return resp, err
		}
	})
	h := connect.NewUnaryHandler(procOpen, func(context.Context, *connect.Request[emptypb.Empty]) (*connect.Response[wrapperspb.StringValue], error) {
		return connect.NewResponse(wrapperspb.String("x")), nil
	}, connect.WithInterceptors(outer, connectguard.New(ic)))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := connect.NewClient[emptypb.Empty, wrapperspb.StringValue](srv.Client(), srv.URL+procOpen)
	req := connect.NewRequest(&emptypb.Empty{})
	req.Header().Set("Authorization", "Bearer abc")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := c.CallUnary(ctx, req)
	require.Equal(t, connect.CodeUnauthenticated, connect.CodeOf(err))
	assert.Equal(t, "invalid token: token expired", errorMessage(err))
	assert.ErrorIs(t, got, validator.ErrExpired)
	var rej *grpcguard.Rejection
	assert.True(t, errors.As(got, &rej))
}

func errorMessage(err error) string {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Message()
	}
	return ""
}
