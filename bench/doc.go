// Package bench compares apiguard's token validation with the raw signature
// check and with the libraries an Auth0-protected Go API would otherwise
// use (golang-jwt/jwt v5 with keyfunc v3, go-jwt-middleware v2), in one
// process, on the same token. It lives in a module of its own so that those
// libraries stay out of apiguard's go.mod.
//
// The benchmarks are in compare_test.go; cmd/ratios turns their output into
// the ratios the project's performance targets are stated in, run.sh runs
// both, and load/ is the loopback HTTP load test. See BENCHMARKS.md at the
// repository root.
package bench
