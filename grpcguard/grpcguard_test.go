package grpcguard_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/grpcguard"
	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/scopes"
	"github.com/apiguard/apiguard/validator"
)

// TestAnswers covers every credentials variant on an authenticated method:
// its status code and message, and that no message quotes the token.
func TestAnswers(t *testing.T) {
	iss, v := fixture(t)
	conn := serve(t, grpcguard.New(v, testPolicy()))
	good := iss.Mint(testkit.WithSubject("auth0|alice"), testkit.WithScope("read:contacts"))
	expired := iss.Mint(testkit.WithExpiry(time.Now().Add(-time.Hour)))
	forged := resign(iss.Mint(), "Zm9yZ2Vk")
	otherAud := iss.Mint(testkit.WithAudience("https://other.example.com"))
	otherIss := testkit.NewIssuer()
	t.Cleanup(otherIss.Close)
	foreign := otherIss.Mint()

	tests := []struct {
		name    string
		auth    []string
		code    codes.Code
		message string // exact status message; for OK the subject seen
	}{
		{"valid", []string{"Bearer " + good}, codes.OK, "auth0|alice"},
		{"scheme lower case", []string{"bearer " + good}, codes.OK, "auth0|alice"},
		{"scheme upper case", []string{"BEARER " + good}, codes.OK, "auth0|alice"},
		{"several spaces", []string{"Bearer   " + good}, codes.OK, "auth0|alice"},
		{"no metadata", nil, codes.Unauthenticated, "bearer token required"},
		{"another scheme", []string{"Basic dXNlcjpwYXNz"}, codes.Unauthenticated, "bearer token required"},
		{"two values", []string{"Bearer " + good, "Bearer " + good}, codes.InvalidArgument, "invalid request: more than one authorization value"},
		{"empty value", []string{""}, codes.InvalidArgument, "invalid request: empty authorization value"},
		{"scheme only", []string{"Bearer"}, codes.InvalidArgument, "invalid request: empty bearer token"},
		{"scheme and space", []string{"Bearer "}, codes.InvalidArgument, "invalid request: empty bearer token"},
		{"extra parts", []string{"Bearer " + good + " extra"}, codes.InvalidArgument, "invalid request: authorization value has extra parts"},
		{"comma", []string{"Bearer " + good + ",x"}, codes.InvalidArgument, "invalid request: authorization value has extra parts"},
		{"bad characters", []string{"Bearer " + good + "!"}, codes.InvalidArgument, "invalid request: bearer token has invalid characters"},
		{"malformed scheme", []string{"Bea(rer " + good}, codes.InvalidArgument, "invalid request: malformed authorization value"},
		{"garbage token", []string{"Bearer abc"}, codes.Unauthenticated, "invalid token: malformed token"},
		{"expired", []string{"Bearer " + expired}, codes.Unauthenticated, "invalid token: token expired"},
		{"forged", []string{"Bearer " + forged}, codes.Unauthenticated, "invalid token: signature not verified"},
		{"other audience", []string{"Bearer " + otherAud}, codes.Unauthenticated, "invalid token: wrong audience"},
		{"other issuer", []string{"Bearer " + foreign}, codes.Unauthenticated, "invalid token: signature not verified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{methodOpen, methodWatch} {
				var got string
				var st *status.Status
				if method == methodWatch {
					got, st = watch(t, conn, tt.auth...)
				} else {
					got, st = call(t, conn, method, tt.auth...)
				}
				require.Equal(t, tt.code, st.Code(), "%s: %v", method, st.Err())
				if tt.code == codes.OK {
					if method == methodOpen {
						assert.Equal(t, tt.message, got)
					}
					continue
				}
				assert.Equal(t, tt.message, st.Message(), method)
				for _, tok := range []string{good, expired, forged, otherAud, foreign} {
					payload := strings.Split(tok, ".")[1]
					assert.NotContains(t, st.Message(), payload, "the message quotes a token")
				}
				assert.NotContains(t, st.Message(), iss.URL, "the message names the issuer")
			}
		})
	}
}

// TestScopeGuard: a token without the method's scope is PermissionDenied
// naming the scope, on unary and stream methods alike.
func TestScopeGuard(t *testing.T) {
	iss, v := fixture(t)
	conn := serve(t, grpcguard.New(v, testPolicy()))
	without := iss.Mint(testkit.WithSubject("auth0|bob"), testkit.WithScope("openid read:contacts:all"))
	with := iss.Mint(testkit.WithSubject("auth0|alice"), testkit.WithScope("openid read:contacts"))

	got, st := call(t, conn, methodOpen, "Bearer "+without)
	require.Equal(t, codes.OK, st.Code())
	assert.Equal(t, "auth0|bob", got)

	_, st = call(t, conn, methodScoped, "Bearer "+without)
	require.Equal(t, codes.PermissionDenied, st.Code())
	assert.Equal(t, "insufficient scope: requires: read:contacts", st.Message())
	_, st = watch(t, conn, "Bearer "+without)
	require.Equal(t, codes.PermissionDenied, st.Code())
	assert.Contains(t, st.Message(), "read:contacts")

	got, st = call(t, conn, methodScoped, "Bearer "+with)
	require.Equal(t, codes.OK, st.Code(), "%v", st.Err())
	assert.Equal(t, "auth0|alice", got)
	got, st = watch(t, conn, "Bearer "+with)
	require.Equal(t, codes.OK, st.Code(), "%v", st.Err())
	assert.Equal(t, "auth0|alice", got, "the stream's Context carries the claims")
}

// TestPolicyTable: public methods need nothing and see no claims, even with
// a token; unlisted methods are refused whatever the token; health is
// public only when the policy says so.
func TestPolicyTable(t *testing.T) {
	iss, v := fixture(t)
	good := iss.Mint(testkit.WithScope("read:contacts"))
	conn := serve(t, grpcguard.New(v, testPolicy()))

	got, st := call(t, conn, methodPublic)
	require.Equal(t, codes.OK, st.Code())
	assert.Equal(t, "anonymous", got)
	got, st = call(t, conn, methodPublic, "Bearer "+good, "Bearer x")
	require.Equal(t, codes.OK, st.Code(), "a public method reads no credentials")
	assert.Equal(t, "anonymous", got)

	for _, auth := range [][]string{nil, {"Bearer " + good}} {
		_, st = call(t, conn, methodUnlisted, auth...)
		require.Equal(t, codes.PermissionDenied, st.Code())
		assert.Equal(t, "method has no access policy", st.Message())
	}

	hc := healthpb.NewHealthClient(conn)
	_, err := hc.Check(t.Context(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err, "health is public when configured")

	p := testPolicy()
	delete(p, grpcguard.HealthCheck)
	closed := serve(t, grpcguard.New(v, p))
	_, err = healthpb.NewHealthClient(closed).Check(t.Context(), &healthpb.HealthCheckRequest{})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "health is not public unless listed")
}

// TestUnlisted names the registered methods without a policy entry.
func TestUnlisted(t *testing.T) {
	_, v := fixture(t)
	srv := grpc.NewServer()
	srv.RegisterService(&echoDesc, struct{}{})
	healthpb.RegisterHealthServer(srv, nil)
	got := grpcguard.New(v, testPolicy()).Unlisted(srv)
	assert.Equal(t, []string{grpcguard.HealthList, methodUnlisted}, got)
}

// TestKeysUnavailable: while the issuer's keys cannot be loaded, a
// well-formed token gets Unavailable (clients retry), never Unauthenticated
// or Internal.
func TestKeysUnavailable(t *testing.T) {
	dead := httptest.NewServer(nil)
	issuer := dead.URL + "/"
	dead.Close()
	keys, err := validator.NewRemoteKeySet(t.Context(), validator.RemoteConfig{
		Issuer: issuer, StartWithoutKeys: true, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(func() { keys.Close() })
	v, err := validator.New(t.Context(), validator.Config{
		Issuer: issuer, Audiences: []string{testkit.DefaultAudience}, Keys: keys,
	})
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	var seen recorder
	conn := serve(t, grpcguard.New(v, testPolicy()), seen.interceptor())

	// Any well-formed token of that issuer needs its keys.
	tok := testkit.SignRaw(nil, []byte(`{"alg":"RS256","kid":"k1","typ":"JWT"}`),
		[]byte(`{"iss":"`+issuer+`","sub":"u","aud":"`+testkit.DefaultAudience+`","exp":9999999999}`), []byte("sig"))
	_, st := call(t, conn, methodOpen, "Bearer "+tok)
	require.Equal(t, codes.Unavailable, st.Code(), "%v", st.Err())
	assert.Equal(t, "signing keys unavailable, retry later", st.Message())
	assert.ErrorIs(t, seen.last(), validator.ErrKeysUnavailable)
	_, st = watch(t, conn, "Bearer "+tok)
	require.Equal(t, codes.Unavailable, st.Code())

	_, st = call(t, conn, methodPublic)
	require.Equal(t, codes.OK, st.Code(), "a public method needs no keys")
}

// recorder keeps the last error the guard returned, as a logging
// interceptor chained before it would see it.
type recorder struct {
	mu  sync.Mutex
	err error
}

func (r *recorder) interceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
		return resp, err
	}
}

func (r *recorder) last() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// TestRejectionClasses: the error an outer interceptor sees matches its
// class with errors.Is and is a *Rejection.
func TestRejectionClasses(t *testing.T) {
	iss, v := fixture(t)
	var seen recorder
	conn := serve(t, grpcguard.New(v, testPolicy()), seen.interceptor())
	tests := []struct {
		method string
		auth   []string
		class  error
	}{
		{methodOpen, nil, grpcguard.ErrMissingToken},
		{methodOpen, []string{"Bearer a", "Bearer b"}, grpcguard.ErrInvalidRequest},
		{methodOpen, []string{"Bearer " + iss.Mint(testkit.WithExpiry(time.Now().Add(-time.Hour)))}, validator.ErrExpired},
		{methodOpen, []string{"Bearer abc"}, validator.ErrInvalidToken},
		{methodScoped, []string{"Bearer " + iss.Mint()}, scopes.ErrScope},
		{methodUnlisted, nil, grpcguard.ErrNoPolicy},
		{methodOpen, []string{"Bearer " + iss.Mint(testkit.WithClaim("cnf", map[string]string{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}))}, grpcguard.ErrProofRequired},
	}
	for _, tt := range tests {
		_, st := call(t, conn, tt.method, tt.auth...)
		require.NotEqual(t, codes.OK, st.Code())
		assert.ErrorIs(t, seen.last(), tt.class, "%s %v", tt.method, st.Err())
		var rej *grpcguard.Rejection
		require.ErrorAs(t, seen.last(), &rej)
		assert.Equal(t, st.Code(), rej.Code)
		assert.Equal(t, st.Message(), rej.Message)
	}
}

// TestBoundToken: a token with a confirmation claim is refused as
// Unauthenticated, with or without a dpop value, until DPoP proofs are
// verified; a repeated dpop value is InvalidArgument. An unbound token
// with a stray dpop value still works.
func TestBoundToken(t *testing.T) {
	iss, v := fixture(t)
	conn := serve(t, grpcguard.New(v, testPolicy()))
	bound := iss.Mint(testkit.WithScope("read:contacts"),
		testkit.WithClaim("cnf", map[string]string{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}))
	plain := iss.Mint(testkit.WithSubject("auth0|alice"))

	for _, proofs := range [][]string{nil, {"a.b.c"}} {
		ctx := withAuth(t.Context(), "Bearer "+bound)
		for _, p := range proofs {
			ctx = metadata.AppendToOutgoingContext(ctx, "dpop", p)
		}
		for _, m := range []string{methodOpen, methodScoped} {
			_, st := callCtx(t, ctx, conn, m)
			require.Equal(t, codes.Unauthenticated, st.Code(), "a bound token is never a plain bearer token")
			assert.Equal(t, "token is DPoP-bound; proof required", st.Message())
		}
	}
	_, st := watch(t, conn, "Bearer "+bound)
	require.Equal(t, codes.Unauthenticated, st.Code())

	ctx := metadata.AppendToOutgoingContext(withAuth(t.Context(), "Bearer "+bound), "dpop", "a.b.c", "dpop", "d.e.f")
	_, st = callCtx(t, ctx, conn, methodOpen)
	require.Equal(t, codes.InvalidArgument, st.Code())
	assert.Equal(t, "invalid request: more than one dpop value", st.Message())

	ctx = metadata.AppendToOutgoingContext(withAuth(t.Context(), "Bearer "+plain), "dpop", "a.b.c")
	got, st := callCtx(t, ctx, conn, methodOpen)
	require.Equal(t, codes.OK, st.Code())
	assert.Equal(t, "auth0|alice", got)
}

// stubValidator is a Validator of the user's own: it answers err, or
// claims with sub.
type stubValidator struct {
	err error
	c   *claims.Claims
}

func (s stubValidator) Validate(context.Context, string) (*claims.Claims, error) { return s.c, s.err }

// TestCustomValidator: errors of a validator other than *validator.Validator
// are invalid tokens with a generic message, keys-unavailable errors stay
// Unavailable, and a nil claims set is refused.
func TestCustomValidator(t *testing.T) {
	tests := []struct {
		name    string
		v       stubValidator
		code    codes.Code
		message string
		class   error
	}{
		{"plain error", stubValidator{err: errors.New("secret detail eyJhbGciOi")}, codes.Unauthenticated, "invalid token", validator.ErrInvalidToken},
		{"validator error", stubValidator{err: &validator.Error{Class: validator.ErrAudience, Reason: "r"}}, codes.Unauthenticated, "invalid token: wrong audience", validator.ErrAudience},
		{"keys unavailable", stubValidator{err: &validator.Error{Class: validator.ErrKeysUnavailable}}, codes.Unavailable, "signing keys unavailable, retry later", validator.ErrKeysUnavailable},
		{"wrapped keys unavailable", stubValidator{err: errors.Join(errors.New("x"), validator.ErrKeysUnavailable)}, codes.Unavailable, "signing keys unavailable, retry later", validator.ErrKeysUnavailable},
		{"nil claims", stubValidator{}, codes.Unauthenticated, "invalid token", validator.ErrInvalidToken},
		{"valid", stubValidator{c: &claims.Claims{Subject: "s"}}, codes.OK, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen recorder
			conn := serve(t, grpcguard.New(tt.v, testPolicy()), seen.interceptor())
			got, st := call(t, conn, methodOpen, "Bearer abc")
			require.Equal(t, tt.code, st.Code(), "%v", st.Err())
			if tt.code == codes.OK {
				assert.Equal(t, "s", got)
				return
			}
			assert.Equal(t, tt.message, st.Message())
			assert.ErrorIs(t, seen.last(), tt.class)
		})
	}
}

// slowValidator waits for the call's context to end.
type slowValidator struct{}

func (slowValidator) Validate(ctx context.Context, _ string) (*claims.Claims, error) {
	<-ctx.Done()
	return nil, &validator.Error{Class: validator.ErrKeysUnavailable, Err: ctx.Err()}
}

// TestDeadlineDuringValidation: a call whose deadline passes while the
// validator waits ends DeadlineExceeded (or Canceled), not Unavailable.
func TestDeadlineDuringValidation(t *testing.T) {
	var seen recorder
	conn := serve(t, grpcguard.New(slowValidator{}, testPolicy()), seen.interceptor())
	ctx, cancel := context.WithTimeout(withAuth(t.Context(), "Bearer abc"), 200*time.Millisecond)
	defer cancel()
	_, st := callCtx(t, ctx, conn, methodOpen)
	require.Equal(t, codes.DeadlineExceeded, st.Code())
	var rej *grpcguard.Rejection
	require.Eventually(t, func() bool { return errors.As(seen.last(), &rej) }, 5*time.Second, 10*time.Millisecond)
	// The server sees the deadline, or the client's cancellation when that
	// arrives first: either way not an invalid token nor unavailable keys.
	assert.Contains(t, []codes.Code{codes.DeadlineExceeded, codes.Canceled}, rej.Code)
}

// TestGuardHook: any func(ctx, *claims.Claims) error plugs in as a guard
// (a step-up rule, say): it sees the claims and the method in ctx, runs
// after the built-in guards, a plain error is PermissionDenied with its
// message, and a status error is passed on as it is.
func TestGuardHook(t *testing.T) {
	iss, v := fixture(t)
	var sawMethod, sawSub string
	stepUp := func(ctx context.Context, c *claims.Claims) error {
		sawMethod, _ = grpc.Method(ctx)
		fromCtx, _ := claims.FromContext(ctx)
		sawSub = fromCtx.Subject
		acr, _ := claims.Get[string](c, "acr")
		switch acr {
		case "mfa":
			return nil
		case "none":
			return status.Error(codes.Unauthenticated, "step-up authentication required")
		}
		return errors.New("requires acr mfa")
	}
	p := testPolicy()
	p[methodOpen] = grpcguard.Authenticated(grpcguard.Scope("read:contacts"), stepUp)
	conn := serve(t, grpcguard.New(v, p))

	_, st := call(t, conn, methodOpen, "Bearer "+iss.Mint(testkit.WithSubject("u1"), testkit.WithScope("read:contacts")))
	require.Equal(t, codes.PermissionDenied, st.Code())
	assert.Equal(t, "requires acr mfa", st.Message())
	assert.Equal(t, methodOpen, sawMethod)
	assert.Equal(t, "u1", sawSub)

	_, st = call(t, conn, methodOpen, "Bearer "+iss.Mint(testkit.WithScope("read:contacts"), testkit.WithClaim("acr", "none")))
	require.Equal(t, codes.Unauthenticated, st.Code())
	assert.Equal(t, "step-up authentication required", st.Message())

	sawMethod = ""
	_, st = call(t, conn, methodOpen, "Bearer "+iss.Mint(testkit.WithClaim("acr", "mfa")))
	require.Equal(t, codes.PermissionDenied, st.Code(), "the scope guard runs first")
	assert.Empty(t, sawMethod, "a guard after a failed one does not run")

	got, st := call(t, conn, methodOpen, "Bearer "+iss.Mint(testkit.WithSubject("u2"), testkit.WithScope("read:contacts"), testkit.WithClaim("acr", "mfa")))
	require.Equal(t, codes.OK, st.Code(), "%v", st.Err())
	assert.Equal(t, "u2", got)
}

// TestPolicyIsCopied: changing the Policy after New changes nothing.
func TestPolicyIsCopied(t *testing.T) {
	iss, v := fixture(t)
	p := testPolicy()
	ic := grpcguard.New(v, p)
	p[methodUnlisted] = grpcguard.Public()
	p[methodOpen] = grpcguard.Public()
	conn := serve(t, ic)
	_, st := call(t, conn, methodUnlisted)
	assert.Equal(t, codes.PermissionDenied, st.Code())
	_, st = call(t, conn, methodOpen)
	assert.Equal(t, codes.Unauthenticated, st.Code())
	_, st = call(t, conn, methodOpen, "Bearer "+iss.Mint())
	assert.Equal(t, codes.OK, st.Code())
}

func TestNewPanics(t *testing.T) {
	_, v := fixture(t)
	for _, name := range []string{"", "/", "test.v1.Echo/Open", "/test.v1.Echo", "/test.v1.Echo/", "//Open", "/a/b/c"} {
		assert.Panics(t, func() { grpcguard.New(v, grpcguard.Policy{name: grpcguard.Public()}) }, "%q", name)
	}
	assert.Panics(t, func() { grpcguard.New(nil, grpcguard.Policy{}) })
	assert.NotPanics(t, func() { grpcguard.New(v, grpcguard.Policy{}) })
}

// TestMessagesAreSafe: no refusal quotes the token, even for tokens built
// to be echoed.
func TestMessagesAreSafe(t *testing.T) {
	iss, v := fixture(t)
	conn := serve(t, grpcguard.New(v, testPolicy()))
	marker := "SECRETMARKER"
	for _, tok := range []string{
		marker,
		iss.Mint(testkit.WithHeader("kid", marker)),
		iss.Mint(testkit.WithHeader("alg", marker)),
		iss.Mint(testkit.WithClaim("iss", "https://"+marker+"/")),
		iss.Mint(testkit.WithAudience(marker)),
	} {
		for _, m := range []string{methodOpen, methodScoped} {
			_, st := call(t, conn, m, "Bearer "+tok)
			require.NotEqual(t, codes.OK, st.Code())
			assert.False(t, strings.Contains(st.Message(), marker), "%q", st.Message())
		}
	}
}

// resign replaces the token's signature segment with sig: a forged token.
func resign(token, sig string) string {
	return token[:strings.LastIndexByte(token, '.')+1] + sig
}

// TestStepUpGuard: the RFC 9470 step-up rules of package scopes, over gRPC:
// PermissionDenied naming acr_values and max_age, class scopes.ErrStepUp.
func TestStepUpGuard(t *testing.T) {
	iss, v := fixture(t)
	var rejected error
	p := testPolicy()
	p[methodOpen] = grpcguard.Authenticated(grpcguard.StepUp(scopes.StepUp{
		ACRValues: []string{scopes.MultiFactorACR}, AMRValues: []string{"mfa"}, MaxAge: 600 * time.Second,
	}))
	conn := serve(t, grpcguard.New(v, p), func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		rejected = err
		return resp, err
	})
	now := time.Now().Unix()
	tests := []struct {
		name string
		opts []testkit.TokenOption
		want codes.Code
	}{
		{"acr multi-factor, recent", []testkit.TokenOption{testkit.WithClaim("acr", scopes.MultiFactorACR), testkit.WithClaim("auth_time", now-60)}, codes.OK},
		{"amr mfa, recent", []testkit.TokenOption{testkit.WithClaim("amr", []string{"pwd", "mfa"}), testkit.WithClaim("auth_time", now)}, codes.OK},
		{"password only", []testkit.TokenOption{testkit.WithClaim("amr", []string{"pwd"}), testkit.WithClaim("auth_time", now)}, codes.PermissionDenied},
		{"too old", []testkit.TokenOption{testkit.WithClaim("acr", scopes.MultiFactorACR), testkit.WithClaim("auth_time", now-700)}, codes.PermissionDenied},
		{"no auth_time", []testkit.TokenOption{testkit.WithClaim("acr", scopes.MultiFactorACR)}, codes.PermissionDenied},
		{"milliseconds", []testkit.TokenOption{testkit.WithClaim("acr", scopes.MultiFactorACR), testkit.WithClaim("auth_time", now*1000)}, codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rejected = nil
			_, st := call(t, conn, methodOpen, "Bearer "+iss.Mint(tt.opts...))
			require.Equal(t, tt.want, st.Code(), "%v", st.Err())
			if tt.want == codes.OK {
				return
			}
			assert.Equal(t, `insufficient user authentication: requires acr_values=`+scopes.MultiFactorACR+` max_age=600`, st.Message())
			assert.ErrorIs(t, rejected, scopes.ErrStepUp)
		})
	}
	assert.Panics(t, func() { grpcguard.StepUp(scopes.StepUp{}) }, "a step-up that requires nothing")
}
