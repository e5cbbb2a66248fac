// Command load is a bounded HTTP load test on loopback. It starts, in this
// process, three servers with the example API's protected route
// GET /api/private and its public route GET /api/public, checking RS256
// access tokens of the benchmark fixture (from a fake issuer):
//
//   - apiguard: middleware.New around a validator without the verified-token
//     cache, loaded with 1,000 distinct tokens;
//   - go-jwt-middleware: go-jwt-middleware v2's CheckJWT around its
//     validator with its caching JWKS provider, with the same tokens;
//   - apiguard-cached: apiguard with the cache on, loaded with one repeated
//     token, and, as "public", on its unauthenticated route.
//
// It then sends them requests from a fixed number of workers, each with
// one keep-alive HTTP/1.1 connection and one request in flight (as wrk
// does), for a fixed time per server, in several interleaved rounds, and
// prints requests per second (median of the rounds) and their ratios
// (median of the per-round ratios). It only ever connects to the servers
// it started on 127.0.0.1, and stops by itself.
//
//	go run ./load -duration 3s -workers 16 -rounds 5
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	var o Options
	flag.DurationVar(&o.Duration, "duration", 3*time.Second, "load time per server and round")
	flag.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured load per server before the first round")
	flag.IntVar(&o.Workers, "workers", 16, "concurrent connections")
	flag.IntVar(&o.Rounds, "rounds", 5, "interleaved rounds; the report uses the median")
	flag.Int64Var(&o.MaxRequests, "max-requests", 10_000_000, "stop a run after this many requests even before -duration")
	serve := flag.Duration("serve", 0, "only start the servers, print their URLs and the token, and serve for this long (at most 30m) or until stdin closes, for an outside load generator such as wrk")
	flag.Parse()
	if *serve > 0 {
		if err := Serve(min(*serve, 30*time.Minute), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		return
	}
	if o.Duration <= 0 || o.Duration > time.Minute || o.Workers < 1 || o.Workers > 256 || o.Rounds < 1 || o.Rounds > 20 {
		fmt.Fprintln(os.Stderr, "load: want 0 < -duration <= 1m, 1 <= -workers <= 256, 1 <= -rounds <= 20")
		os.Exit(2)
	}
	rep, err := Run(o, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
}
