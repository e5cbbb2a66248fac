package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/examples/internal/api"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// startRedis starts a redis-server of the test's own on a free loopback
// port, without persistence, and returns its address and a function that
// stops it (also called when the test ends). Without redis-server the test
// is skipped, unless APIGUARD_REQUIRE_REDIS is set (as CI sets it).
func startRedis(t *testing.T) (string, func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("APIGUARD_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server is not installed and APIGUARD_REQUIRE_REDIS is set")
		}
		t.Skip("redis-server is not installed (Debian: apt-get install -y redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill() // the process this test started
			<-done
		}
	}
	t.Cleanup(stop)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		require.True(t, time.Now().Before(deadline), "redis-server did not answer on %s", addr)
		time.Sleep(20 * time.Millisecond)
	}
	return addr, stop
}

// fleet is two instances of the example API, configured from the same
// command line, behind one round-robin proxy that keeps the Host header,
// as a load balancer does: both instances see the proxy's URL, which is
// the one proofs name.
func fleet(t *testing.T, iss *validatortest.Issuer, args ...string) *httptest.Server {
	t.Helper()
	v, err := validator.New(t.Context(), iss.Config())
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	var backends []*url.URL
	for range 2 {
		c, err := parseConfig(append([]string{"-issuer", "https://i/", "-audience", "x"}, args...), func(string) string { return "" }, io.Discard)
		require.NoError(t, err)
		opt, closeStore, err := c.dpopOption()
		require.NoError(t, err)
		t.Cleanup(closeStore)
		srv := httptest.NewServer(api.NewHandler(v, api.Settings{}, opt))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		backends = append(backends, u)
	}
	var n atomic.Int64
	lb := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(backends[n.Add(1)%2])
		pr.Out.Host = pr.In.Host
	}}
	srv := httptest.NewServer(lb)
	t.Cleanup(srv.Close)
	return srv
}

// TestRedisReplayAcrossInstances: two API instances started with the same
// -redis refuse a proof replayed from one to the other; with the default
// in-memory stores, the same replay passes (each instance has seen it
// once), which is what -redis is for. When Redis goes away, DPoP requests
// get 503, never 200.
func TestRedisReplayAcrossInstances(t *testing.T) {
	addr, stopRedis := startRedis(t)
	iss := validatortest.NewIssuer()
	t.Cleanup(iss.Close)
	k := dpoptest.GenerateKey("ES256")
	token := iss.Mint(k.Bind())

	send := func(req *http.Request) int {
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	twice := func(lb *httptest.Server) (int, int) {
		req, err := http.NewRequest(http.MethodGet, lb.URL+"/api/private", nil)
		require.NoError(t, err)
		k.Authorize(req, token)
		return send(req), send(req) // round robin: the second goes to the other instance
	}

	first, replay := twice(fleet(t, iss, "-redis="+addr))
	assert.Equal(t, 200, first)
	assert.Equal(t, 401, replay, "a proof replayed to the other instance is refused")

	first, replay = twice(fleet(t, iss))
	assert.Equal(t, 200, first)
	assert.Equal(t, 200, replay, "without a shared store, each instance accepts the proof once")

	lb := fleet(t, iss, "-redis="+addr)
	stopRedis()
	req, err := http.NewRequest(http.MethodGet, lb.URL+"/api/private", nil)
	require.NoError(t, err)
	k.Authorize(req, token)
	assert.Equal(t, 503, send(req), "Redis down: fail closed")
}
