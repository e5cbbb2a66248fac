package grpcapi_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/examples/internal/browser"
	"github.com/apiguard/apiguard/examples/internal/grpcapi"
	"github.com/apiguard/apiguard/examples/internal/loopback"
	"github.com/apiguard/apiguard/examples/internal/stack"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// serve starts the example server for v on a loopback TCP port and returns
// a plaintext connection to it.
func serve(t *testing.T, v *validator.Validator) (*grpcapi.Server, *grpc.ClientConn) {
	t.Helper()
	l, err := loopback.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpcapi.NewServer(v)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return srv, conn
}

// result is the outcome of the two methods for one token.
type result struct{ whoAmI, listContacts codes.Code }

func callBoth(t *testing.T, conn *grpc.ClientConn, token string) result {
	t.Helper()
	c := grpcapi.NewClient(conn, token)
	_, err1 := c.WhoAmI(t.Context())
	_, err2 := c.ListContacts(t.Context())
	return result{status.Code(err1), status.Code(err2)}
}

// TestContract is the example's contract with tokens of a fake issuer:
// the status codes that outside tests judge.
func TestContract(t *testing.T) {
	iss := validatortest.NewIssuer()
	t.Cleanup(iss.Close)
	v, err := validator.New(t.Context(), iss.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	_, conn := serve(t, v)

	tests := []struct {
		name  string
		token string
		want  result
	}{
		{"no token", "", result{codes.Unauthenticated, codes.Unauthenticated}},
		{"bad token", "abc.def.ghi", result{codes.Unauthenticated, codes.Unauthenticated}},
		{"expired token", iss.Mint(validatortest.WithScope(grpcapi.ContactsScope), validatortest.WithExpiry(time.Now().Add(-time.Hour))), result{codes.Unauthenticated, codes.Unauthenticated}},
		{"other audience", iss.Mint(validatortest.WithScope(grpcapi.ContactsScope), validatortest.WithAudience("https://other.example.com")), result{codes.Unauthenticated, codes.Unauthenticated}},
		{"valid without read:contacts", iss.Mint(validatortest.WithScope("openid read:contacts:all")), result{codes.OK, codes.PermissionDenied}},
		{"valid with read:contacts", iss.Mint(validatortest.WithScope("openid read:contacts")), result{codes.OK, codes.OK}},
		{"DPoP-bound token as Bearer", iss.Mint(validatortest.WithScope("read:contacts"), validatortest.WithClaim("cnf", map[string]string{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})), result{codes.Unauthenticated, codes.Unauthenticated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := callBoth(t, conn, tt.token); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	c := grpcapi.NewClient(conn, iss.Mint(validatortest.WithSubject("auth0|ada"), validatortest.WithScope("read:contacts")))
	sub, err := c.WhoAmI(t.Context())
	if err != nil || sub != "auth0|ada" {
		t.Errorf("WhoAmI = %q, %v", sub, err)
	}
	list, err := c.ListContacts(t.Context())
	if err != nil || len(list) != len(grpcapi.Contacts) || list[0] != grpcapi.Contacts[0] {
		t.Errorf("ListContacts = %v, %v", list, err)
	}
	resp, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{Service: grpcapi.Service})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health without a token = %v, %v", resp, err)
	}
}

// TestKeysUnavailable: while the issuer's keys cannot be loaded, both
// methods answer Unavailable, never Unauthenticated or Internal, and the
// health service reports NOT_SERVING without a token; once the issuer is
// back, the same token is served.
func TestKeysUnavailable(t *testing.T) {
	iss := validatortest.NewIssuer()
	t.Cleanup(iss.Close)
	iss.SetFault(validatortest.FaultDown)
	keys, err := validator.NewRemoteKeySet(t.Context(), validator.RemoteConfig{
		Issuer: iss.URL, StartWithoutKeys: true, RetryInterval: 50 * time.Millisecond,
		Logger: iss.Config().Logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	cfg := iss.Config()
	cfg.Keys = keys
	v, err := validator.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	srv, conn := serve(t, v)
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	go srv.TrackReadiness(ctx, v.Ready, 20*time.Millisecond)

	token := iss.Mint(validatortest.WithScope("read:contacts"))
	if got := callBoth(t, conn, token); got != (result{codes.Unavailable, codes.Unavailable}) {
		t.Fatalf("keys unavailable: got %v, want Unavailable for both", got)
	}
	health := healthpb.NewHealthClient(conn)
	waitHealth(t, health, healthpb.HealthCheckResponse_NOT_SERVING)

	iss.SetFault(validatortest.NoFault)
	waitHealth(t, health, healthpb.HealthCheckResponse_SERVING)
	if got := callBoth(t, conn, token); got != (result{codes.OK, codes.OK}) {
		t.Fatalf("issuer back: got %v", got)
	}
}

func waitHealth(t *testing.T, h healthpb.HealthClient, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := h.Check(t.Context(), &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health: %v %v, want %v", resp.GetStatus(), err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tokenRecorder keeps the access tokens the web app obtains.
type tokenRecorder struct {
	mu     sync.Mutex
	tokens []string
}

func (r *tokenRecorder) record(_ string, t *oauth2.Token) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens = append(r.tokens, t.AccessToken)
}

func (r *tokenRecorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tokens) == 0 {
		return ""
	}
	return r.tokens[len(r.tokens)-1]
}

// TestWithDevauthTokens is the contract end to end: users sign in through
// the web app at the development authorization server, and the access
// tokens the web app obtained call the gRPC service, which validates them
// with the same issuer and audience as the HTTP API.
func TestWithDevauthTokens(t *testing.T) {
	rec := &tokenRecorder{}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{OnToken: rec.record, BearerOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	_, conn := serve(t, st.Validator)

	tests := []struct {
		user stack.DemoUser
		sub  string
		want result
	}{
		{stack.Alice, "auth0|alice", result{codes.OK, codes.OK}},           // holds read:contacts
		{stack.Bob, "auth0|bob", result{codes.OK, codes.PermissionDenied}}, // holds no permission
	}
	for _, tt := range tests {
		t.Run(tt.user.Username, func(t *testing.T) {
			token := signIn(t, st, tt.user, rec)
			if got := callBoth(t, conn, token); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if sub, err := grpcapi.NewClient(conn, token).WhoAmI(t.Context()); err != nil || sub != tt.sub {
				t.Errorf("WhoAmI = %q, %v", sub, err)
			}
		})
	}
	// A token that is not a JWT.
	if got := callBoth(t, conn, "not-a-token"); got != (result{codes.Unauthenticated, codes.Unauthenticated}) {
		t.Errorf("garbage: %v", got)
	}
}

// signIn signs user in through the web app and returns the access token
// the web app received.
func signIn(t *testing.T, st *stack.Stack, user stack.DemoUser, rec *tokenRecorder) string {
	t.Helper()
	b := browser.New()
	p, err := b.Get(t.Context(), st.WebAppURL+"/login")
	if err != nil {
		t.Fatal(err)
	}
	if p.Has("login-form") {
		if p, err = b.Submit(t.Context(), p, "login-form", map[string]string{"username": user.Username, "password": user.Password}, "login"); err != nil {
			t.Fatal(err)
		}
	}
	if p.Has("consent-form") {
		if p, err = b.Submit(t.Context(), p, "consent-form", nil, "consent-accept"); err != nil {
			t.Fatal(err)
		}
	}
	if !p.Has("welcome") {
		t.Fatalf("sign-in of %s failed: %d %s", user.Username, p.Status, p.URL)
	}
	token := rec.last()
	if token == "" {
		t.Fatal("the web app obtained no access token")
	}
	return token
}

// TestDPoPBoundTokens: the service takes a DPoP-bound token only with a
// proof of its key in metadata "dpop" (POST https://<authority><method>);
// without one the token is refused, never used as a bearer token.
func TestDPoPBoundTokens(t *testing.T) {
	iss := validatortest.NewIssuer()
	t.Cleanup(iss.Close)
	v, err := validator.New(t.Context(), iss.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	_, conn := serve(t, v)
	k := dpoptest.GenerateKey("ES256")
	token := iss.Mint(k.Bind(), validatortest.WithSubject("auth0|ada"))
	htu := "https://" + conn.Target() + grpcapi.MethodWhoAmI
	call := func(md ...string) codes.Code {
		ctx := metadata.AppendToOutgoingContext(t.Context(), md...)
		err := conn.Invoke(ctx, grpcapi.MethodWhoAmI, &emptypb.Empty{}, &wrapperspb.StringValue{})
		return status.Code(err)
	}
	if got := call("authorization", "Bearer "+token); got != codes.Unauthenticated {
		t.Errorf("bound token as Bearer: %v, want Unauthenticated", got)
	}
	if got := call("authorization", "DPoP "+token); got != codes.Unauthenticated {
		t.Errorf("bound token without a proof: %v, want Unauthenticated", got)
	}
	proof := k.Proof("POST", htu, dpoptest.WithAccessToken(token))
	if got := call("authorization", "DPoP "+token, "dpop", proof); got != codes.OK {
		t.Errorf("bound token with its proof: %v, want OK", got)
	}
	if got := call("authorization", "DPoP "+token, "dpop", proof); got != codes.Unauthenticated {
		t.Errorf("the same proof again: %v, want Unauthenticated", got)
	}
	other := dpoptest.GenerateKey("ES256")
	if got := call("authorization", "DPoP "+token, "dpop", other.Proof("POST", htu, dpoptest.WithAccessToken(token))); got != codes.Unauthenticated {
		t.Errorf("a proof of another key: %v, want Unauthenticated", got)
	}
}
