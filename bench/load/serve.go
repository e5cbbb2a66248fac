package main

import (
	"fmt"
	"io"
	"time"

	"github.com/apiguard/apiguard/bench/internal/fixture"
)

// Serve starts the servers under test and prints one line per server,
// "server NAME URL", then "token TOKEN", so that a load generator in
// another process (bench/wrk.sh runs wrk) can load them. It serves until
// stdin reaches EOF or d has passed, so it always stops by itself.
func Serve(d time.Duration, stdin io.Reader, out io.Writer) error {
	fx := fixture.New("RS256")
	defer fx.Close()
	servers, err := StartServers(fx)
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	for _, s := range servers {
		fmt.Fprintf(out, "server %s %s\n", s.Name, s.URL)
	}
	fmt.Fprintf(out, "token %s\n", fx.Token)
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
	return nil
}
