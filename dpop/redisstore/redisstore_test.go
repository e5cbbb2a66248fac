package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/dpop/redisstore"
)

// redisServer is a redis-server process of the test's own.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis starts redis-server on a free loopback port, without
// persistence, and stops it when the test ends. Without redis-server the
// test is skipped, unless APIGUARD_REQUIRE_REDIS is set (as CI sets it).
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil && os.Getenv("APIGUARD_REQUIRE_REDIS") != "" {
		t.Fatal("redis-server is not installed and APIGUARD_REQUIRE_REDIS is set")
	}
	if err != nil {
		t.Skip("redis-server is not installed (Debian: apt-get install -y redis-server); the Redis store's tests need a real server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())

	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	s := &redisServer{addr: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan struct{})}
	var log strings.Builder
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
		}
		_ = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.stop)

	rdb := redis.NewClient(&redis.Options{Addr: s.addr})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			logMu.Lock()
			defer logMu.Unlock()
			t.Fatalf("redis-server did not answer on %s; its output:\n%s", s.addr, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// stop kills the server (the process this test started) and waits for it.
func (s *redisServer) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

func (s *redisServer) client(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

const (
	target = "http://api.example.com/api/private"
	token  = "access-token"
)

// replica is one instance of an API: its own Verifier and Redis client,
// behind a real HTTP server.
type replica struct {
	v   *dpop.Verifier
	srv *httptest.Server
}

// publicURL is where clients reach the replicas, behind a load balancer.
const publicURL = "https://api.example.com"

func newReplica(t *testing.T, rdb redis.Cmdable) *replica {
	t.Helper()
	v, err := dpop.NewVerifier(dpop.Config{
		ReplayStore:   redisstore.New(rdb, redisstore.Config{}),
		PublicBaseURL: publicURL,
	})
	require.NoError(t, err)
	r := &replica{v: v}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		jkt := req.Header.Get("X-Test-Jkt") // the token's cnf.jkt, validated elsewhere
		_, err := v.Verify(req.Context(), req, token, jkt)
		var e *dpop.Error
		switch {
		case err == nil:
			w.WriteHeader(http.StatusOK)
		case errors.As(err, &e) && e.Code() == "":
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		default:
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// call sends proof to the replica and returns the status and body.
func (r *replica) call(t *testing.T, k *dpoptest.Key, proof string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", r.srv.URL+"/api/private", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "DPoP "+token)
	req.Header.Set("DPoP", proof)
	req.Header.Set("X-Test-Jkt", k.Thumbprint())
	resp, err := r.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

func proof(k *dpoptest.Key) string {
	return k.Proof("GET", publicURL+"/api/private", dpoptest.WithAccessToken(token))
}

// TestCrossReplicaReplay: two API instances sharing one Redis refuse a
// proof replayed from one to the other.
func TestCrossReplicaReplay(t *testing.T) {
	s := startRedis(t)
	a := newReplica(t, s.client(t))
	b := newReplica(t, s.client(t))
	k := dpoptest.GenerateKey("ES256")

	p := proof(k)
	status, body := a.call(t, k, p)
	require.Equal(t, http.StatusOK, status, body)

	// Replayed to the other replica, and to the first again.
	status, body = b.call(t, k, p)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "proof jti already used")
	status, body = a.call(t, k, p)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "proof jti already used")

	// A fresh proof is accepted by either.
	status, body = b.call(t, k, proof(k))
	assert.Equal(t, http.StatusOK, status, body)
}

// TestCrossReplicaRace: the same proof sent to two replicas at once is
// accepted exactly once.
func TestCrossReplicaRace(t *testing.T) {
	s := startRedis(t)
	replicas := []*dpop.Verifier{newReplica(t, s.client(t)).v, newReplica(t, s.client(t)).v}
	k := dpoptest.GenerateKey("EdDSA")
	for round := range 20 {
		p := proof(k)
		var accepted, replayed atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				req := httptest.NewRequest("GET", "http://10.0.0.1/api/private", nil)
				req.Header.Set("DPoP", p)
				_, err := replicas[i%2].Verify(context.Background(), req, token, k.Thumbprint())
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, dpop.ErrReplay):
					replayed.Add(1)
				default:
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), accepted.Load(), "round %d", round)
		require.Equal(t, int32(7), replayed.Load(), "round %d", round)
	}
}

// TestOutageFailsClosed: with Redis gone, proofs are refused (503 class),
// never accepted.
func TestOutageFailsClosed(t *testing.T) {
	s := startRedis(t)
	a := newReplica(t, s.client(t))
	k := dpoptest.GenerateKey("ES256")
	status, body := a.call(t, k, proof(k))
	require.Equal(t, http.StatusOK, status, body)

	s.stop()
	for range 3 {
		status, body = a.call(t, k, proof(k))
		assert.Equal(t, http.StatusServiceUnavailable, status, body)
		assert.Contains(t, body, "DPoP replay store unavailable")
	}
	req := httptest.NewRequest("GET", target, nil)
	req.Header.Set("DPoP", proof(k))
	_, err := a.v.Verify(context.Background(), req, token, k.Thumbprint())
	require.ErrorIs(t, err, dpop.ErrStoreUnavailable)
	assert.NotErrorIs(t, err, dpop.ErrInvalidProof)
	assert.NotContains(t, err.Error(), token)
}

// TestContextCanceledFailsClosed: a request whose context ends before
// Redis answers is refused.
func TestContextCanceledFailsClosed(t *testing.T) {
	s := startRedis(t)
	st := redisstore.New(s.client(t), redisstore.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ok, err := st.CheckAndSet(ctx, "k", time.Now().Add(time.Minute))
	assert.False(t, ok)
	require.Error(t, err)
}

// TestEntriesExpire: a key lives until the proof leaves its iat window,
// then Redis drops it.
func TestEntriesExpire(t *testing.T) {
	s := startRedis(t)
	rdb := s.client(t)
	ctx := context.Background()
	st := redisstore.New(rdb, redisstore.Config{Prefix: "test:"})

	ok, err := st.CheckAndSet(ctx, "short", time.Now().Add(200*time.Millisecond))
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = st.CheckAndSet(ctx, "short", time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.False(t, ok, "an unexpired key is refused")
	require.Eventually(t, func() bool {
		ok, err := st.CheckAndSet(ctx, "short", time.Now().Add(time.Minute))
		return err == nil && ok
	}, 10*time.Second, 50*time.Millisecond, "the key expires")

	// A key set through a Verifier expires at iat + MaxAge (+1 s).
	v, err := dpop.NewVerifier(dpop.Config{MaxAge: time.Minute, ReplayStore: st})
	require.NoError(t, err)
	k := dpoptest.GenerateKey("ES256")
	req := httptest.NewRequest("GET", target, nil)
	req.Header.Set("DPoP", k.Proof("GET", target, dpoptest.WithAccessToken(token)))
	_, err = v.Verify(ctx, req, token, k.Thumbprint())
	require.NoError(t, err)
	keys, err := rdb.Keys(ctx, "test:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 2)
	for _, key := range keys {
		if key == "test:short" {
			continue
		}
		ttl, err := rdb.PTTL(ctx, key).Result()
		require.NoError(t, err)
		assert.Greater(t, ttl, 50*time.Second)
		assert.LessOrEqual(t, ttl, 61*time.Second)
		assert.Len(t, strings.TrimPrefix(key, "test:"), 43, "a fixed-length hash, no raw client input")
	}
}

// BenchmarkCheckAndSet is one round trip to a local redis-server.
func BenchmarkCheckAndSet(b *testing.B) {
	s := startRedis(b)
	st := redisstore.New(s.client(b), redisstore.Config{})
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := st.CheckAndSet(ctx, strconv.Itoa(i), exp); err != nil {
			b.Fatal(err)
		}
	}
}
