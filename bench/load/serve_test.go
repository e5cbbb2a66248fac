package main

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServe checks what wrk.sh relies on: a line per server and the token,
// servers that accept it, and an end when stdin closes.
func TestServe(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Serve(time.Minute, stdinR, outW) }()

	urls := map[string]string{}
	var token string
	sc := bufio.NewScanner(outR)
	for token == "" && sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "server":
			urls[f[1]] = f[2]
		case len(f) == 2 && f[0] == "token":
			token = f[1]
		}
	}
	if len(urls) != 3 || token == "" {
		t.Fatalf("servers %v, token %q", urls, token)
	}
	for name, u := range urls {
		req, _ := http.NewRequest(http.MethodGet, u+"/api/private", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	stdinW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop when stdin closed")
	}
}
