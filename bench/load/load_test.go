package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apiguard/apiguard/bench/internal/fixture"
)

// TestServersAndLoad checks that every server accepts the fixture token
// and refuses a request without one, and runs a tiny bounded load.
func TestServersAndLoad(t *testing.T) {
	fx := fixture.New("RS256")
	defer fx.Close()
	servers, err := StartServers(fx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		defer s.Close()
		resp, err := http.Get(s.URL + "/api/private")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// go-jwt-middleware's default answer is a 400, apiguard's a 401.
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s without a token: %d, want 401 or 400", s.Name, resp.StatusCode)
		}
		ok, bad, err := Load(s.URL, "/api/private", []string{fx.Token, fx.Sign(nil, nil)}, 2, 100*time.Millisecond, 50)
		if err != nil || ok == 0 || bad != 0 || ok > 50 {
			t.Errorf("%s: %d ok, %d bad, %v", s.Name, ok, bad, err)
		}
	}
	// The public route answers without a token.
	ok, bad, err := Load(servers[0].URL, "/api/public", nil, 2, 100*time.Millisecond, 50)
	if err != nil || ok == 0 || bad != 0 {
		t.Errorf("public route: %d ok, %d bad, %v", ok, bad, err)
	}
	if _, _, err := Load("http://192.0.2.1:80", "/api/private", []string{fx.Token}, 1, time.Millisecond, 1); err == nil {
		t.Error("Load accepted a non-loopback address")
	}
	// Ratios are medians of per-round ratios when both ran every round.
	rep := &Report{Options: Options{Workers: 1, Duration: time.Second, Rounds: 3}, Servers: []string{"apiguard", "go-jwt-middleware", "apiguard-cached", "public"},
		RPS: map[string][]float64{"apiguard": {300, 100, 200}, "go-jwt-middleware": {100, 100, 200}, "apiguard-cached": {70, 90}, "public": {100}}, Errors: map[string]int64{}}
	var sb strings.Builder
	rep.Print(&sb)
	for _, want := range []string{
		"| apiguard / go-jwt-middleware, distinct tokens | 1.00x | >= 1.3x | FAIL |",
		"| apiguard-cached, one repeated token / public route of the same server | 0.80x | >= 0.8x | PASS |",
	} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, sb.String())
		}
	}
}
