package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/apiguard/apiguard/examples/internal/grpcapi"
	"github.com/apiguard/apiguard/validator/validatortest"
)

func TestSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name             string
		issuer, audience string
		env              map[string]string
		wantIss, wantAud string
		wantErr          bool
	}{
		{name: "flags", issuer: "https://t.auth0.com/", audience: "https://a", wantIss: "https://t.auth0.com/", wantAud: "https://a"},
		{name: "env", env: map[string]string{"AUTH0_DOMAIN": "tenant.us.auth0.com", "AUTH0_AUDIENCE": "https://a"}, wantIss: "https://tenant.us.auth0.com/", wantAud: "https://a"},
		{name: "env with scheme and slash", env: map[string]string{"AUTH0_DOMAIN": "https://tenant.us.auth0.com/", "AUTH0_AUDIENCE": "https://a"}, wantIss: "https://tenant.us.auth0.com/", wantAud: "https://a"},
		{name: "flags win", issuer: "http://127.0.0.1:9/", audience: "x", env: map[string]string{"AUTH0_DOMAIN": "t", "AUTH0_AUDIENCE": "y"}, wantIss: "http://127.0.0.1:9/", wantAud: "x"},
		{name: "issuer taken as given", issuer: "https://idp.example.com/realms/a", audience: "x", wantIss: "https://idp.example.com/realms/a", wantAud: "x"},
		{name: "missing audience", issuer: "https://t/", wantErr: true},
		{name: "missing issuer", audience: "x", wantErr: true},
		{name: "AUTH0_DOMAIN with another scheme", env: map[string]string{"AUTH0_DOMAIN": "http://tenant.us.auth0.com", "AUTH0_AUDIENCE": "https://a"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, aud, err := settings(tt.issuer, tt.audience, env(tt.env))
			if (err != nil) != tt.wantErr || iss != tt.wantIss || aud != tt.wantAud {
				t.Errorf("got %q %q %v", iss, aud, err)
			}
		})
	}
}

// build compiles the command once per test binary run.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "grpcapi")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var listening = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// run starts the command with args and returns a connection to the address
// it reports; the command is stopped with SIGTERM at the end of the test,
// and must then exit cleanly.
func run(t *testing.T, bin string, args ...string) *grpc.ClientConn {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "AUTH0_DOMAIN=", "AUTH0_AUDIENCE=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log(sc.Text())
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("after SIGTERM: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("no exit 10 s after SIGTERM")
		}
	})
	var a string
	select {
	case a = <-addr:
	case err := <-exited:
		t.Fatalf("exited before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("not listening after 20 s")
	}
	conn, err := grpc.NewClient(a, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func codesOf(t *testing.T, conn *grpc.ClientConn, token string) [2]codes.Code {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c := grpcapi.NewClient(conn, token)
	_, err1 := c.WhoAmI(ctx)
	_, err2 := c.ListContacts(ctx)
	return [2]codes.Code{status.Code(err1), status.Code(err2)}
}

// TestCommand runs the built command as outside tests do, with empty
// request messages, and judges status codes only: against a live issuer,
// and against one that is down at start-up (cold start).
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command; skipped with -short")
	}
	bin := build(t)

	t.Run("issuer up", func(t *testing.T) {
		iss := validatortest.NewIssuer()
		t.Cleanup(iss.Close)
		conn := run(t, bin, "-issuer", iss.URL, "-audience", iss.Config().Audiences[0])
		tests := []struct {
			name  string
			token string
			want  [2]codes.Code // WhoAmI, ListContacts
		}{
			{"no token", "", [2]codes.Code{codes.Unauthenticated, codes.Unauthenticated}},
			{"bad token", "abc.def.ghi", [2]codes.Code{codes.Unauthenticated, codes.Unauthenticated}},
			{"without read:contacts", iss.Mint(validatortest.WithScope("openid")), [2]codes.Code{codes.OK, codes.PermissionDenied}},
			{"with read:contacts", iss.Mint(validatortest.WithScope("openid read:contacts")), [2]codes.Code{codes.OK, codes.OK}},
		}
		for _, tt := range tests {
			if got := codesOf(t, conn, tt.token); got != tt.want {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
		if _, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Errorf("health without a token: %v", err)
		}
	})

	t.Run("issuer down", func(t *testing.T) {
		iss := validatortest.NewIssuer()
		t.Cleanup(iss.Close)
		iss.SetFault(validatortest.FaultDown)
		conn := run(t, bin, "-issuer", iss.URL, "-audience", iss.Config().Audiences[0])
		token := iss.Mint(validatortest.WithScope("openid read:contacts"))
		if got := codesOf(t, conn, token); got != [2]codes.Code{codes.Unavailable, codes.Unavailable} {
			t.Errorf("keys unavailable: got %v, want Unavailable for both", got)
		}
		if got := codesOf(t, conn, ""); got != [2]codes.Code{codes.Unauthenticated, codes.Unauthenticated} {
			t.Errorf("no token while keys are unavailable: got %v", got)
		}
		// The readiness tracker runs beside the server: poll for its answer.
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
			if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("health while keys are unavailable: %v %v, want NOT_SERVING", resp.GetStatus(), err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
