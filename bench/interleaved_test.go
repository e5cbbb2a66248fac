package bench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apiguard/apiguard/bench/internal/fixture"
)

// The benchmarks of this file measure two or more things in alternation
// within one benchmark, in batches of a few calls (a few hundred
// microseconds), and report each one's time per call as a metric of its
// own. Load from other processes on a shared machine then hits all of them
// alike, so their ratios are much steadier than those of separate
// benchmarks run seconds apart. cmd/ratios prefers them for the targets.

// interleaveBatch is the number of calls per implementation and turn.
const interleaveBatch = 8

// interleavedImpls are the validators compared call by call.
var interleavedImpls = []string{"Raw", "ApiguardValidate", "ApiguardValidateGet", "GoJWTMiddlewareValidator", "GolangJWTKeyfunc"}

func (s *suite) impl(b *testing.B, name string) impl {
	for _, im := range s.impls {
		if im.name == name {
			return im
		}
	}
	b.Fatalf("no implementation %s", name)
	return impl{}
}

// interleavedGlue are the validators and the middleware round trips around
// them, compared call by call to measure what each middleware adds.
var interleavedGlue = []string{"ApiguardValidate", "ApiguardMiddleware", "GoJWTMiddlewareValidator", "GoJWTMiddlewareCheckJWT"}

// BenchmarkInterleaved checks the token with every implementation in
// turn, rotating the order each turn, and reports IMPL-ns/call for each
// (ns/op is one turn of all of them).
func BenchmarkInterleaved(b *testing.B) {
	benchmarkInterleaved(b, interleavedImpls)
}

// BenchmarkInterleavedPair is BenchmarkInterleaved for the raw check and
// apiguard alone: without the other libraries in between, whose garbage
// (15 KB per call for go-jwt-middleware) makes the collector run, and
// slows down, whichever check is running at the time.
func BenchmarkInterleavedPair(b *testing.B) {
	benchmarkInterleaved(b, []string{"Raw", "ApiguardValidate", "ApiguardValidateGet"})
}

// BenchmarkInterleavedGlue is BenchmarkInterleaved for the middleware
// round trips and their validators.
func BenchmarkInterleavedGlue(b *testing.B) {
	benchmarkInterleaved(b, interleavedGlue)
}

func benchmarkInterleaved(b *testing.B, names []string) {
	for _, alg := range fixture.Algorithms {
		s := getSuite(b, alg)
		b.Run(alg, func(b *testing.B) {
			ims := make([]impl, len(names))
			for i, n := range names {
				ims[i] = s.impl(b, n)
			}
			total := make([]time.Duration, len(ims))
			calls := 0
			ctx := context.Background()
			turn := 0
			for b.Loop() {
				for k := range ims {
					i := (k + turn) % len(ims)
					start := time.Now()
					for range interleaveBatch {
						if err := ims[i].check(ctx); err != nil {
							b.Fatal(err)
						}
					}
					total[i] += time.Since(start)
				}
				turn++
				calls += interleaveBatch
			}
			for i, im := range ims {
				b.ReportMetric(float64(total[i].Nanoseconds())/float64(calls), im.name+"-ns/call")
			}
		})
	}
}

// BenchmarkInterleavedSpeedup alternates batches on one goroutine with
// batches on GOMAXPROCS goroutines and reports the parallel speed-up
// (serial time per call ÷ parallel wall time per call) as "speedup".
func BenchmarkInterleavedSpeedup(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	for _, alg := range fixture.Algorithms {
		s := getSuite(b, alg)
		for _, name := range []string{"Raw", "ApiguardValidate", "ApiguardValidateCached"} {
			im := s.impl(b, name)
			b.Run(alg+"/"+name, func(b *testing.B) {
				ctx := context.Background()
				batch := interleaveBatch * 4
				if name == "ApiguardValidateCached" {
					batch *= 100 // a hit is ~200 ns, not ~50 us
				}
				var serial, par time.Duration
				var serialCalls, parCalls int
				var wg sync.WaitGroup
				errs := make(chan error, procs)
				for b.Loop() {
					start := time.Now()
					for range batch {
						if err := im.check(ctx); err != nil {
							b.Fatal(err)
						}
					}
					serial += time.Since(start)
					serialCalls += batch
					// The goroutines share the batch call by call, as
					// RunParallel's pb.Next does, so one descheduled by
					// another process delays the batch by one call at most.
					var left atomic.Int64
					left.Store(int64(procs * batch))
					start = time.Now()
					for range procs {
						wg.Go(func() {
							for left.Add(-1) >= 0 {
								if err := im.check(ctx); err != nil {
									errs <- err
									return
								}
							}
						})
					}
					wg.Wait()
					par += time.Since(start)
					parCalls += procs * batch
					select {
					case err := <-errs:
						b.Fatal(err)
					default:
					}
				}
				sPer := float64(serial.Nanoseconds()) / float64(serialCalls)
				pPer := float64(par.Nanoseconds()) / float64(parCalls)
				b.ReportMetric(sPer, "serial-ns/call")
				b.ReportMetric(pPer, "parallel-ns/call")
				b.ReportMetric(sPer/pPer, "speedup")
			})
		}
	}
}
