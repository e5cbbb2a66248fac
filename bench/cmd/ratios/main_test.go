package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/apiguard/apiguard/bench
cpu: AMD EPYC
BenchmarkCompare/RS256/Raw-2                 	   40000	     30000 ns/op	    2272 B/op	      10 allocs/op
BenchmarkCompare/RS256/Raw-2                 	   40000	     29000 ns/op	    2272 B/op	      10 allocs/op
BenchmarkCompare/RS256/Raw-2                 	   40000	     50000 ns/op	    2272 B/op	      10 allocs/op
BenchmarkCompare/RS256/ApiguardValidate-2    	   30000	     32000 ns/op	    2660 B/op	      11 allocs/op
BenchmarkCompare/RS256/ApiguardValidate-2    	   30000	     33000 ns/op	    2660 B/op	      11 allocs/op
BenchmarkCompare/RS256/ApiguardValidateGet-2 	   30000	     32100 ns/op	    2690 B/op	      12 allocs/op
BenchmarkCompare/RS256/ApiguardValidateGet-2 	   30000	     33100 ns/op	    2690 B/op	      12 allocs/op
BenchmarkCompare/RS256/ApiguardMiddleware-2  	   30000	     34000 ns/op	    3600 B/op	      17 allocs/op
BenchmarkCompare/RS256/ApiguardMiddleware-2  	   30000	     34000 ns/op	    3600 B/op	      17 allocs/op
BenchmarkInterleavedGlue/RS256-2 100 1000 ns/op 33000 ApiguardMiddleware-ns/call 32000 ApiguardValidate-ns/call 40000 GoJWTMiddlewareCheckJWT-ns/call 38000 GoJWTMiddlewareValidator-ns/call
BenchmarkCompare/RS256/GoJWTMiddlewareValidator-2 	   20000	     51000 ns/op	   15591 B/op	     211 allocs/op
BenchmarkCompareParallel/RS256/ApiguardValidate-2 	   60000	     20000 ns/op	    4831 B/op	      36 allocs/op
BenchmarkReject/alg-none-2                   	 1000000	      1462 ns/op	     728 B/op	       4 allocs/op
BenchmarkReject/issuer-2                     	 1000000	      2500 ns/op	    2376 B/op	      24 allocs/op
PASS
ok  	github.com/apiguard/apiguard/bench	12.3s
`

func TestParseAndEvaluate(t *testing.T) {
	res, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if res.Procs != 2 || res.Config["cpu"] != "AMD EPYC" {
		t.Errorf("procs %d, cpu %q", res.Procs, res.Config["cpu"])
	}
	if m, ok := res.Median("BenchmarkCompare/RS256/Raw", "ns/op"); !ok || m != 30000 {
		t.Errorf("median of odd count = %v, %v; want 30000", m, ok)
	}
	if m, _ := res.Median("BenchmarkCompare/RS256/ApiguardValidate", "ns/op"); m != 32500 {
		t.Errorf("median of even count = %v; want 32500", m)
	}
	if _, ok := res.Median("BenchmarkReject/alg-none", "allocs/op"); !ok {
		t.Error("a name with a dash lost its last part")
	}

	got := map[string]Row{}
	for _, r := range Evaluate(res) {
		got[r.Target] = r
	}
	want := map[string]Status{
		"RS256 Validate + 2 claims.Get / raw check":                       Pass, // 32600 / 30000 = 1.087
		"RS256 Validate allocs":                                           Pass, // 11
		"RS256 allocs of reading 2 custom claims with claims.Get":         Pass, // 1
		"RS256 middleware round trip - Validate":                          Pass, // 1 us, 6 allocs
		"ES256 middleware round trip - Validate":                          NA,
		"RS256 ApiguardValidate parallel speed-up":                        Fail, // 32500 / 20000 = 1.63
		"RS256 overhead over raw: go-jwt-middleware validator / apiguard": Pass, // 21000 / 2500 = 8.4
		"ES256 Validate / raw check":                                      NA,
		"ES256 Validate allocs":                                           NA,
		"reject alg-none":                                                 Pass,
		"reject issuer":                                                   Fail,
		"reject typ":                                                      NA,
		"RS256 cache hit (ApiguardValidateCached)":                        NA,
	}
	for target, st := range want {
		if r, ok := got[target]; !ok || r.Status != st {
			t.Errorf("%s: got %+v, want %s", target, r, st)
		}
	}

	var out bytes.Buffer
	Print(&out, res, Evaluate(res))
	if !strings.Contains(out.String(), "machine: AMD EPYC, linux/amd64, GOMAXPROCS 2") {
		t.Errorf("no machine line in\n%s", out.String())
	}
}

func TestPairedByRun(t *testing.T) {
	// Two rounds; the second ran under load and is slower for both.
	res, err := Parse(strings.NewReader(`BenchmarkCompare/ES256/Raw-2 1 100 ns/op
BenchmarkCompare/ES256/ApiguardValidate-2 1 110 ns/op
BenchmarkCompare/ES256/Raw-2 1 200 ns/op
BenchmarkCompare/ES256/ApiguardValidate-2 1 220 ns/op
`))
	if err != nil {
		t.Fatal(err)
	}
	// Per-round ratios 1.1 and 1.1; the medians alone would give 165/150.
	if x, _ := res.Ratio("BenchmarkCompare/ES256/ApiguardValidate", "BenchmarkCompare/ES256/Raw", "ns/op"); x < 1.0999 || x > 1.1001 {
		t.Errorf("paired ratio %v, want 1.1", x)
	}
	if d, _ := res.Diff("BenchmarkCompare/ES256/ApiguardValidate", "BenchmarkCompare/ES256/Raw", "ns/op"); d != 15 {
		t.Errorf("paired difference %v, want median of 10 and 20", d)
	}
}

func TestInterleaved(t *testing.T) {
	res, err := Parse(strings.NewReader(`BenchmarkInterleaved/RS256-2 100 1000 ns/op 40000 ApiguardValidate-ns/call 70000 GoJWTMiddlewareValidator-ns/call 30000 Raw-ns/call
BenchmarkInterleaved/RS256-2 100 1000 ns/op 80000 ApiguardValidate-ns/call 140000 GoJWTMiddlewareValidator-ns/call 60000 Raw-ns/call
BenchmarkInterleavedSpeedup/RS256/ApiguardValidate-2 100 1000 ns/op 1.95 speedup
BenchmarkCompare/RS256/Raw-2 1 30000 ns/op
BenchmarkCompare/RS256/ApiguardValidate-2 1 30000 ns/op
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Row{}
	for _, r := range Evaluate(res) {
		got[r.Target] = r
	}
	// 4/3 from the interleaved lines fails; the separate benchmarks' 1.0
	// does not decide.
	if r := got["RS256 Validate / raw check"]; r.Status != Fail || !strings.HasPrefix(r.Measured, "1.333x interleaved") {
		t.Errorf("ratio row %+v", r)
	}
	// (40000 + 80000)/2 over (10000 + 20000)/2 = 4.
	if r := got["RS256 overhead over raw: go-jwt-middleware validator / apiguard"]; r.Status != Pass || !strings.HasPrefix(r.Measured, "4.00x interleaved") {
		t.Errorf("overhead row %+v", r)
	}
	if r := got["RS256 ApiguardValidate parallel speed-up"]; r.Status != Pass {
		t.Errorf("speed-up row %+v", r)
	}
}

func TestParseRejectsBadValue(t *testing.T) {
	if _, err := Parse(strings.NewReader("BenchmarkX-2 10 abc ns/op\n")); err == nil {
		t.Error("no error for a non-numeric value")
	}
}
