// Command ratios reads the output of the bench module's benchmarks (go test
// -bench, any -count) and prints the ratios apiguard's performance targets
// are stated in, each with PASS or FAIL against its target:
//
//	go test -run '^$' -bench . -benchmem -count 6 > results.txt
//	go run ./cmd/ratios < results.txt
//
// Every absolute figure is the median of the runs of a benchmark, as
// benchstat reports it. A ratio or difference of two benchmarks is paired
// by run when both have the same number of samples (run.sh runs the whole
// suite once per round, so the i-th samples of two benchmarks were taken
// close in time, under the same load from other processes): it is the
// median over rounds of the per-round ratio or difference. Otherwise it is
// computed from the two medians. A target whose benchmarks are absent from
// the input is reported as n/a.
//
// With -strict, ratios exits with status 1 when a target is not met.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	strict := flag.Bool("strict", false, "exit with status 1 when a target is not met")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ratios [-strict] [results.txt] (default: standard input)")
		flag.PrintDefaults()
	}
	flag.Parse()
	in := io.Reader(os.Stdin)
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "ratios:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	}
	res, err := Parse(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(2)
	}
	rows := Evaluate(res)
	Print(os.Stdout, res, rows)
	if *strict {
		for _, r := range rows {
			if r.Status == Fail {
				os.Exit(1)
			}
		}
	}
}

// Results are the parsed samples of one or more benchmark runs.
type Results struct {
	// Config holds the "key: value" lines go test prints (goos, goarch,
	// cpu, pkg), last value wins.
	Config map[string]string
	// Procs is the GOMAXPROCS suffix of the benchmark names, 0 if none.
	Procs int
	// Samples maps a benchmark name without its -PROCS suffix, and a unit
	// such as "ns/op" or "allocs/op", to every value read.
	Samples map[string]map[string][]float64
}

var procsSuffix = regexp.MustCompile(`-(\d+)$`)

// Parse reads go test -bench output. Lines that are not benchmark results
// or configuration are ignored.
func Parse(r io.Reader) (*Results, error) {
	res := &Results{Config: map[string]string{}, Samples: map[string]map[string][]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "Benchmark") {
			if k, v, ok := strings.Cut(line, ": "); ok && k != "" && !strings.ContainsAny(k, " \t") {
				res.Config[k] = strings.TrimSpace(v)
			}
			continue
		}
		f := strings.Fields(line)
		// name iterations (value unit)+
		if len(f) < 4 || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		name := f[0]
		if m := procsSuffix.FindStringSubmatch(name); m != nil {
			name = strings.TrimSuffix(name, m[0])
			res.Procs, _ = strconv.Atoi(m[1])
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: bad value %q", name, f[i])
			}
			if res.Samples[name] == nil {
				res.Samples[name] = map[string][]float64{}
			}
			res.Samples[name][f[i+1]] = append(res.Samples[name][f[i+1]], v)
		}
	}
	return res, sc.Err()
}

// Median returns the median of the samples of benchmark name in unit, and
// false when there are none.
func (r *Results) Median(name, unit string) (float64, bool) {
	s := r.Samples[name][unit]
	if len(s) == 0 {
		return 0, false
	}
	return median(s), true
}

// Ratio returns a / b in unit, paired by run when the two have as many
// samples, else the ratio of the medians.
func (r *Results) Ratio(a, b, unit string) (float64, bool) {
	return r.paired(a, b, unit, func(x, y float64) float64 { return x / y })
}

// Diff returns a - b in unit, paired by run when the two have as many
// samples, else the difference of the medians.
func (r *Results) Diff(a, b, unit string) (float64, bool) {
	return r.paired(a, b, unit, func(x, y float64) float64 { return x - y })
}

// UnitRatio returns the median over the samples of benchmark name of the
// ratio of its metrics ua and ub, which each line reports together.
func (r *Results) UnitRatio(name, ua, ub string) (float64, bool) {
	return r.sameLine(name, ua, ub, func(x, y float64) float64 { return x / y })
}

// UnitDiff is UnitRatio for the difference ua - ub.
func (r *Results) UnitDiff(name, ua, ub string) (float64, bool) {
	return r.sameLine(name, ua, ub, func(x, y float64) float64 { return x - y })
}

func (r *Results) sameLine(name, ua, ub string, op func(x, y float64) float64) (float64, bool) {
	sa, sb := r.Samples[name][ua], r.Samples[name][ub]
	if len(sa) == 0 || len(sa) != len(sb) {
		return 0, false
	}
	v := make([]float64, len(sa))
	for i := range sa {
		v[i] = op(sa[i], sb[i])
	}
	return median(v), true
}

func (r *Results) paired(a, b, unit string, op func(x, y float64) float64) (float64, bool) {
	sa, sb := r.Samples[a][unit], r.Samples[b][unit]
	if len(sa) == 0 || len(sb) == 0 {
		return 0, false
	}
	if len(sa) != len(sb) {
		ma, _ := r.Median(a, unit)
		mb, _ := r.Median(b, unit)
		return op(ma, mb), true
	}
	v := make([]float64, len(sa))
	for i := range sa {
		v[i] = op(sa[i], sb[i])
	}
	return median(v), true
}

func median(s []float64) float64 {
	s = slices.Clone(s)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Status is the verdict of a Row.
type Status string

// Verdicts.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Info Status = "info" // context, no target
	NA   Status = "n/a"  // benchmarks missing from the input
)

// Row is one line of the report.
type Row struct {
	Target   string // what is measured
	Measured string // the figure, formatted
	Limit    string // the target, formatted; empty for Info
	Status   Status
}

// Targets per algorithm (issue 15): Validate, with two custom claims read
// through claims.Get, at most this many times the raw check.
var validateRatio = map[string]float64{"RS256": 1.10, "ES256": 1.06, "EdDSA": 1.06}

var algs = []string{"RS256", "ES256", "EdDSA"}

// Target limits.
const (
	maxValidateAllocs = 12   // issue 15, typed claims included
	maxGetAllocs      = 2    // per custom claim read (two are read)
	maxGlueNs         = 1200 // the middleware round trip minus Validate
	maxGlueAllocs     = 6
	minSpeedup        = 1.9
	minOverheadRatio  = 2.5
	maxRejectNs       = 2000
	maxCacheHitNs     = 1000
	maxCacheHitAllocs = 2
)

var rejects = []string{"malformed", "malformed-segments", "malformed-header", "alg-none", "typ", "oversized", "issuer"}

func cmp(name string) string            { return "BenchmarkCompare/" + name }
func parallel(name string) string       { return "BenchmarkCompareParallel/" + name }
func interleaved(alg string) string     { return "BenchmarkInterleaved/" + alg }
func interleavedGlue(alg string) string { return "BenchmarkInterleavedGlue/" + alg }
func speedup(alg, impl string) string   { return "BenchmarkInterleavedSpeedup/" + alg + "/" + impl }

// verdict is Pass when ok, else Fail.
func verdict(ok bool) Status {
	if ok {
		return Pass
	}
	return Fail
}

func us(ns float64) string { return fmt.Sprintf("%.2f us", ns/1000) }

// Evaluate computes every target's figure from res.
func Evaluate(res *Results) []Row {
	var rows []Row
	add := func(r Row) { rows = append(rows, r) }
	na := func(target, limit string) { add(Row{target, "not run", limit, NA}) }
	ns := func(name string) (float64, bool) { return res.Median(name, "ns/op") }
	allocs := func(name string) (float64, bool) { return res.Median(name, "allocs/op") }
	nsRatio := func(a, b string) (float64, bool) { return res.Ratio(a, b, "ns/op") }
	nsDiff := func(a, b string) (float64, bool) { return res.Diff(a, b, "ns/op") }

	// Validate / raw: interleaved call by call when measured so (the
	// verdict), and from the separate benchmarks. The verdict is on
	// Validate plus two claims.Get (ApiguardValidateGet), as the issue
	// measured it; Validate alone is shown beside it.
	for _, a := range algs {
		t := fmt.Sprintf("%s Validate + 2 claims.Get / raw check", a)
		lim := fmt.Sprintf("<= %.2fx", validateRatio[a])
		il := interleaved(a)
		impl := "ApiguardValidateGet"
		_, okI := res.Median(il, impl+"-ns/call")
		_, okS := ns(cmp(a + "/" + impl))
		if !okI && !okS {
			impl, t = "ApiguardValidate", fmt.Sprintf("%s Validate / raw check", a)
		}
		x, ok := res.UnitRatio(il, impl+"-ns/call", "Raw-ns/call")
		sep, okSep := nsRatio(cmp(a+"/"+impl), cmp(a+"/Raw"))
		sepText := ""
		if okSep {
			mv, _ := ns(cmp(a + "/" + impl))
			mr, _ := ns(cmp(a + "/Raw"))
			sepText = fmt.Sprintf("separate benchmarks %.3fx (%s vs %s)", sep, us(mv), us(mr))
		}
		switch {
		case ok:
			mv, _ := res.Median(il, impl+"-ns/call")
			mr, _ := res.Median(il, "Raw-ns/call")
			d, _ := res.UnitDiff(il, impl+"-ns/call", "Raw-ns/call")
			m := fmt.Sprintf("%.3fx interleaved (%s vs %s, %+.2f us)", x, us(mv), us(mr), d/1000)
			if alone, ok := res.UnitRatio(il, "ApiguardValidate-ns/call", "Raw-ns/call"); ok && impl != "ApiguardValidate" {
				m += fmt.Sprintf("; Validate alone %.3fx", alone)
			}
			if sepText != "" {
				m += "; " + sepText
			}
			add(Row{t, m, lim, verdict(x <= validateRatio[a])})
		case okSep:
			add(Row{t, sepText, lim, verdict(sep <= validateRatio[a])})
		default:
			na(t, lim)
		}
	}
	for _, a := range algs {
		t := fmt.Sprintf("%s Validate allocs", a)
		lim := fmt.Sprintf("<= %d", maxValidateAllocs)
		n, ok := allocs(cmp(a + "/ApiguardValidate"))
		if !ok {
			na(t, lim)
			continue
		}
		m := fmt.Sprintf("%.0f", n)
		if raw, ok := allocs(cmp(a + "/Raw")); ok {
			m += fmt.Sprintf(" (the raw check alone: %.0f)", raw)
		}
		add(Row{t, m, lim, verdict(n <= maxValidateAllocs)})
	}
	for _, a := range algs {
		t := fmt.Sprintf("%s allocs of reading 2 custom claims with claims.Get", a)
		lim := fmt.Sprintf("<= %d", 2*maxGetAllocs)
		n, ok := res.Diff(cmp(a+"/ApiguardValidateGet"), cmp(a+"/ApiguardValidate"), "allocs/op")
		if !ok {
			na(t, lim)
			continue
		}
		add(Row{t, fmt.Sprintf("%.0f", n), lim, verdict(n <= 2*maxGetAllocs)})
	}
	// Parallel speed-up: interleaved serial and parallel batches when
	// measured so (the verdict), and from the separate benchmarks. The raw
	// check's is the machine's own ceiling, for context.
	for _, a := range algs {
		for _, im := range []string{"ApiguardValidate", "Raw", "ApiguardValidateCached"} {
			t := fmt.Sprintf("%s %s parallel speed-up", a, im)
			lim := fmt.Sprintf(">= %.1fx", minSpeedup)
			x, ok := res.Median(speedup(a, im), "speedup")
			sep, okSep := nsRatio(cmp(a+"/"+im), parallel(a+"/"+im))
			sepText := ""
			if okSep {
				s, _ := ns(cmp(a + "/" + im))
				p, _ := ns(parallel(a + "/" + im))
				sepText = fmt.Sprintf("separate benchmarks %.2fx (%s / %s)", sep, us(s), us(p))
			}
			var row Row
			switch {
			case ok:
				m := fmt.Sprintf("%.2fx interleaved", x)
				if sepText != "" {
					m += "; " + sepText
				}
				row = Row{t, m, lim, verdict(x >= minSpeedup)}
			case okSep:
				row = Row{t, sepText, lim, verdict(sep >= minSpeedup)}
			default:
				if im != "ApiguardValidate" {
					continue
				}
				na(t, lim)
				continue
			}
			if im != "ApiguardValidate" {
				row.Limit, row.Status = "", Info
			}
			add(row)
		}
	}

	// Issue 15: the round trip adds at most maxGlueNs and maxGlueAllocs to
	// Validate, interleaved call by call (the verdict, per algorithm).
	for _, a := range algs {
		t := fmt.Sprintf("%s middleware round trip - Validate", a)
		lim := fmt.Sprintf("<= %s, <= %d allocs", us(maxGlueNs), maxGlueAllocs)
		d, ok1 := res.UnitDiff(interleavedGlue(a), "ApiguardMiddleware-ns/call", "ApiguardValidate-ns/call")
		n, ok2 := res.Diff(cmp(a+"/ApiguardMiddleware"), cmp(a+"/ApiguardValidate"), "allocs/op")
		if !ok1 || !ok2 {
			na(t, lim)
			continue
		}
		add(Row{t, fmt.Sprintf("%s interleaved, %.0f allocs", us(d), n), lim, verdict(d <= maxGlueNs && n <= maxGlueAllocs)})
	}
	if d, ok := ns("BenchmarkGlue/ApiguardMiddleware"); ok {
		n, _ := allocs("BenchmarkGlue/ApiguardMiddleware")
		rec, _ := ns("BenchmarkGlue/Recorder")
		add(Row{"middleware round trip with a validator stub, minus the harness floor", fmt.Sprintf("%s, %.0f allocs", us(d-rec), n), lim15Glue(), verdict(d-rec <= maxGlueNs && n <= maxGlueAllocs)})
	}

	// Middleware glue as issue 7 stated it: round trip minus validator,
	// interleaved call by call (the verdict, per algorithm).
	for _, a := range algs {
		t := fmt.Sprintf("%s middleware glue, round trip - validator: apiguard vs go-jwt-middleware CheckJWT", a)
		lim := "apiguard <= go-jwt-middleware"
		il := interleavedGlue(a)
		ours, ok1 := res.UnitDiff(il, "ApiguardMiddleware-ns/call", "ApiguardValidate-ns/call")
		theirs, ok2 := res.UnitDiff(il, "GoJWTMiddlewareCheckJWT-ns/call", "GoJWTMiddlewareValidator-ns/call")
		if !ok1 || !ok2 {
			na(t, lim)
			continue
		}
		add(Row{t, fmt.Sprintf("%s vs %s interleaved", us(ours), us(theirs)), lim, verdict(ours <= theirs)})
	}

	// Middleware glue, measured directly with a validator stub.
	ours, ok1 := ns("BenchmarkGlue/ApiguardMiddleware")
	theirs, ok2 := ns("BenchmarkGlue/GoJWTMiddlewareCheckJWT")
	oursA, ok3 := allocs("BenchmarkGlue/ApiguardMiddleware")
	theirsA, ok4 := allocs("BenchmarkGlue/GoJWTMiddlewareCheckJWT")
	if ok1 && ok2 && ok3 && ok4 {
		add(Row{"middleware glue ns (stub validator): apiguard vs go-jwt-middleware CheckJWT", fmt.Sprintf("%s vs %s", us(ours), us(theirs)), "apiguard <= go-jwt-middleware", verdict(ours <= theirs)})
		add(Row{"middleware glue allocs (stub validator): apiguard vs go-jwt-middleware CheckJWT", fmt.Sprintf("%.0f vs %.0f", oursA, theirsA), "apiguard <= go-jwt-middleware", verdict(oursA <= theirsA)})
		if rec, ok := ns("BenchmarkGlue/Recorder"); ok {
			recA, _ := allocs("BenchmarkGlue/Recorder")
			add(Row{"  of which the response writer and a bare handler (harness floor, in both)", fmt.Sprintf("%s, %.0f allocs", us(rec), recA), "", Info})
		}
		if cl, ok := ns("BenchmarkGlue/RequestClone"); ok {
			clA, _ := allocs("BenchmarkGlue/RequestClone")
			add(Row{"  of which go-jwt-middleware's r.Clone (in both)", fmt.Sprintf("%s, %.0f allocs (%.0f%% of apiguard's glue ns, %.0f%% of its allocs)", us(cl), clA, 100*cl/ours, 100*clA/oursA), "", Info})
		}
	} else {
		na("middleware glue (stub validator): apiguard vs go-jwt-middleware CheckJWT", "apiguard <= go-jwt-middleware")
	}
	// The same glue as differences of separate benchmarks, for context.
	for _, a := range algs {
		ours, ok1 := nsDiff(cmp(a+"/ApiguardMiddleware"), cmp(a+"/ApiguardValidate"))
		theirs, ok2 := nsDiff(cmp(a+"/GoJWTMiddlewareCheckJWT"), cmp(a+"/GoJWTMiddlewareValidator"))
		if !ok1 || !ok2 {
			continue
		}
		oa, _ := res.Diff(cmp(a+"/ApiguardMiddleware"), cmp(a+"/ApiguardValidate"), "allocs/op")
		ta, _ := res.Diff(cmp(a+"/GoJWTMiddlewareCheckJWT"), cmp(a+"/GoJWTMiddlewareValidator"), "allocs/op")
		add(Row{fmt.Sprintf("%s glue, separate benchmarks: apiguard vs go-jwt-middleware", a),
			fmt.Sprintf("%s, %.0f allocs vs %s, %.0f allocs", us(ours), oa, us(theirs), ta), "", Info})
	}

	// Overhead over the raw check, go-jwt-middleware's ÷ apiguard's.
	for _, a := range algs {
		t := fmt.Sprintf("%s overhead over raw: go-jwt-middleware validator / apiguard", a)
		lim := fmt.Sprintf(">= %.1fx", minOverheadRatio)
		il := interleaved(a)
		theirs, ok1 := res.UnitDiff(il, "GoJWTMiddlewareValidator-ns/call", "Raw-ns/call")
		ours, ok2 := res.UnitDiff(il, "ApiguardValidate-ns/call", "Raw-ns/call")
		how := "interleaved"
		if !ok1 || !ok2 {
			raw := cmp(a + "/Raw")
			theirs, ok1 = nsDiff(cmp(a+"/GoJWTMiddlewareValidator"), raw)
			ours, ok2 = nsDiff(cmp(a+"/ApiguardValidate"), raw)
			how = "separate benchmarks"
		}
		if !ok1 || !ok2 {
			na(t, lim)
			continue
		}
		if ours <= 0 {
			add(Row{t, fmt.Sprintf("inf %s (+%s vs %+.2f us: apiguard measured at or below raw)", how, us(theirs), ours/1000), lim, Pass})
			continue
		}
		x := theirs / ours
		add(Row{t, fmt.Sprintf("%.2fx %s (+%s vs +%s)", x, how, us(theirs), us(ours)), lim, verdict(x >= minOverheadRatio)})
	}
	for _, a := range algs {
		x, ok := res.UnitRatio(interleaved(a), "GolangJWTKeyfunc-ns/call", "Raw-ns/call")
		if !ok {
			continue
		}
		d, _ := res.UnitDiff(interleaved(a), "GolangJWTKeyfunc-ns/call", "Raw-ns/call")
		add(Row{fmt.Sprintf("%s golang-jwt + keyfunc / raw check", a), fmt.Sprintf("%.3fx interleaved (%+.2f us%s)", x, d/1000, allocsText(res, cmp(a+"/GolangJWTKeyfunc"))), "", Info})
	}
	for _, a := range algs {
		x, ok := res.UnitRatio(interleaved(a), "GoJWTMiddlewareValidator-ns/call", "Raw-ns/call")
		if !ok {
			continue
		}
		add(Row{fmt.Sprintf("%s go-jwt-middleware validator / raw check", a), fmt.Sprintf("%.3fx interleaved%s", x, allocsText(res, cmp(a+"/GoJWTMiddlewareValidator"))), "", Info})
	}

	for _, k := range rejects {
		t := "reject " + k
		lim := fmt.Sprintf("< %s", us(maxRejectNs))
		n, ok := ns("BenchmarkReject/" + k)
		if !ok {
			na(t, lim)
			continue
		}
		al, _ := allocs("BenchmarkReject/" + k)
		add(Row{t, fmt.Sprintf("%s, %.0f allocs", us(n), al), lim, verdict(n < maxRejectNs)})
	}

	for _, a := range algs {
		t := fmt.Sprintf("%s cache hit (ApiguardValidateCached)", a)
		lim := fmt.Sprintf("<= %s, <= %d allocs", us(maxCacheHitNs), maxCacheHitAllocs)
		n, ok1 := ns(cmp(a + "/ApiguardValidateCached"))
		al, ok2 := allocs(cmp(a + "/ApiguardValidateCached"))
		if !ok1 || !ok2 {
			na(t, lim)
			continue
		}
		add(Row{t, fmt.Sprintf("%s, %.0f allocs", us(n), al), lim, verdict(n <= maxCacheHitNs && al <= maxCacheHitAllocs)})
	}
	return rows
}

func lim15Glue() string { return fmt.Sprintf("<= %s, <= %d allocs", us(maxGlueNs), maxGlueAllocs) }

// Print writes the report as a Markdown table, preceded by the machine.
func Print(w io.Writer, res *Results, rows []Row) {
	fmt.Fprintf(w, "machine: %s, %s/%s, GOMAXPROCS %d\n\n", orNA(res.Config["cpu"]), orNA(res.Config["goos"]), orNA(res.Config["goarch"]), res.Procs)
	fmt.Fprintln(w, "| target | measured (median) | limit | result |")
	fmt.Fprintln(w, "|---|---|---|---|")
	counts := map[Status]int{}
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.Target, r.Measured, r.Limit, r.Status)
		counts[r.Status]++
	}
	fmt.Fprintf(w, "\n%d met, %d not met, %d not run\n", counts[Pass], counts[Fail], counts[NA])
}

// allocsText is ", N allocs" for benchmark name, or "" when not run.
func allocsText(res *Results, name string) string {
	if n, ok := res.Median(name, "allocs/op"); ok {
		return fmt.Sprintf(", %.0f allocs", n)
	}
	return ""
}

func orNA(s string) string {
	if s == "" {
		return "?"
	}
	return s
}
