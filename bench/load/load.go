package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apiguard/apiguard/bench/internal/fixture"
	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	gjmvalidator "github.com/auth0/go-jwt-middleware/v2/validator"
)

// Options bound a load test.
type Options struct {
	Duration    time.Duration // per server and round
	Warmup      time.Duration // per server, once
	Workers     int           // concurrent connections
	Rounds      int
	MaxRequests int64 // per run, a second bound beside Duration
}

// Server is one server under test.
type Server struct {
	Name string // apiguard, apiguard-cached or go-jwt-middleware
	URL  string // http://127.0.0.1:PORT
	srv  *httptest.Server
}

// Report holds the requests per second of every server in every round.
type Report struct {
	Options Options
	Servers []string
	RPS     map[string][]float64
	// CPU is the process's CPU time per answered request in microseconds,
	// client and server together, per round: unlike requests/s it hardly
	// changes when other processes take CPU away.
	CPU    map[string][]float64
	Errors map[string]int64 // transport errors and non-200 answers
}

// Median returns the median requests per second of server name.
func (r *Report) Median(name string) float64 { return median(r.RPS[name]) }

func median(s []float64) float64 {
	s = slices.Clone(s)
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Print writes the report and the ratios as Markdown tables.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%d workers, %v per server and round, %d rounds; median requests/s\n\n", r.Options.Workers, r.Options.Duration, r.Options.Rounds)
	fmt.Fprintln(w, "| server | requests/s (median) | rounds | CPU us/request (median) | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, s := range r.Servers {
		rounds := ""
		for i, v := range r.RPS[s] {
			if i > 0 {
				rounds += ", "
			}
			rounds += fmt.Sprintf("%.0f", v)
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %.1f | %d |\n", s, r.Median(s), rounds, median(r.CPU[s]), r.Errors[s])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| ratio (median of per-round ratios) | value | target | result |")
	fmt.Fprintln(w, "|---|---|---|---|")
	target := func(label, a, b string, min float64) {
		x, ok := r.Ratio(a, b)
		switch {
		case !ok:
			fmt.Fprintf(w, "| %s | not run | >= %.1fx | n/a |\n", label, min)
		case min == 0:
			fmt.Fprintf(w, "| %s | %.2fx | | info |\n", label, x)
		default:
			res := "FAIL"
			if x >= min {
				res = "PASS"
			}
			fmt.Fprintf(w, "| %s | %.2fx | >= %.1fx | %s |\n", label, x, min, res)
		}
	}
	target("apiguard / go-jwt-middleware, distinct tokens", "apiguard", "go-jwt-middleware", 1.3)
	target("apiguard-cached, one repeated token / public route of the same server", "apiguard-cached", "public", 0.8)
	target("apiguard-cached, one repeated token / apiguard, distinct tokens", "apiguard-cached", "apiguard", 0)
	if median(r.CPU["apiguard-cached"]) > 0 && median(r.CPU["apiguard"]) > 0 {
		fmt.Fprintf(w, "| apiguard / apiguard-cached, CPU per request | %.2fx | | info |\n", median(r.CPU["apiguard"])/median(r.CPU["apiguard-cached"]))
	}
}

// Ratio returns the requests/s of a over b's: the median of the per-round
// ratios when both ran every round (the rounds interleave, so load from
// other processes hits both sides of a ratio alike), else the ratio of the
// medians.
func (r *Report) Ratio(a, b string) (float64, bool) {
	ra, rb := r.RPS[a], r.RPS[b]
	if len(ra) == 0 || len(rb) == 0 {
		return 0, false
	}
	if len(ra) != len(rb) {
		if median(rb) == 0 {
			return 0, false
		}
		return median(ra) / median(rb), true
	}
	x := make([]float64, 0, len(ra))
	for i := range ra {
		if rb[i] > 0 {
			x = append(x, ra[i]/rb[i])
		}
	}
	if len(x) == 0 {
		return 0, false
	}
	return median(x), true
}

// distinctTokens is how many different tokens the uncached servers get,
// as from many clients: no cache anywhere can answer for them.
const distinctTokens = 1000

// Run is one server and route loaded with some tokens.
type run struct {
	name   string
	url    string
	path   string
	tokens []string // cycled through by each worker; none: no credentials
}

// Run starts the servers, loads them as o says, and stops them. Progress
// goes to log.
func Run(o Options, log io.Writer) (*Report, error) {
	fx := fixture.New("RS256")
	defer fx.Close()
	servers, err := StartServers(fx)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	byName := map[string]*Server{}
	for _, s := range servers {
		byName[s.Name] = s
	}
	tokens := make([]string, distinctTokens)
	for i := range tokens {
		c := fixture.Claims(time.Now())
		c["jti"] = fmt.Sprintf("load-%d", i)
		tokens[i] = fx.Sign(nil, c)
	}
	runs := []run{
		{"apiguard", byName["apiguard"].URL, "/api/private", tokens},
		{"go-jwt-middleware", byName["go-jwt-middleware"].URL, "/api/private", tokens},
	}
	if s, ok := byName["apiguard-cached"]; ok {
		runs = append(runs,
			run{"apiguard-cached", s.URL, "/api/private", []string{fx.Token}},
			run{"public", s.URL, "/api/public", nil})
	}
	rep := &Report{Options: o, RPS: map[string][]float64{}, CPU: map[string][]float64{}, Errors: map[string]int64{}}
	for _, ru := range runs {
		rep.Servers = append(rep.Servers, ru.name)
		if o.Warmup > 0 {
			if _, _, err := Load(ru.url, ru.path, ru.tokens, o.Workers, o.Warmup, o.MaxRequests); err != nil {
				return nil, fmt.Errorf("%s: %w", ru.name, err)
			}
		}
	}
	for round := 1; round <= o.Rounds; round++ {
		for _, ru := range runs {
			cpu0 := processCPU()
			ok, bad, err := Load(ru.url, ru.path, ru.tokens, o.Workers, o.Duration, o.MaxRequests)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ru.name, err)
			}
			cpu := float64((processCPU() - cpu0).Microseconds()) / float64(max(ok, 1))
			rps := float64(ok) / o.Duration.Seconds()
			rep.RPS[ru.name] = append(rep.RPS[ru.name], rps)
			rep.CPU[ru.name] = append(rep.CPU[ru.name], cpu)
			rep.Errors[ru.name] += bad
			fmt.Fprintf(log, "round %d %-18s %8.0f req/s %6.1f CPU us/req (%d errors)\n", round, ru.name, rps, cpu, bad)
		}
	}
	return rep, nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// StartServers starts the servers under test on 127.0.0.1, each with the
// route GET /api/private, checking tokens from fx.
func StartServers(fx *fixture.Fixture) ([]*Server, error) {
	var out []*Server
	start := func(name string, guard func(http.Handler) http.Handler, private http.HandlerFunc) {
		mux := http.NewServeMux()
		mux.Handle("GET /api/private", guard(private))
		mux.HandleFunc("GET /api/public", public)
		// httptest servers listen on 127.0.0.1 only.
		srv := httptest.NewServer(mux)
		out = append(out, &Server{Name: name, URL: srv.URL, srv: srv})
	}
	v, err := fx.Validator(fx.Config())
	if err != nil {
		return nil, err
	}
	start("apiguard", middleware.New(v), apiguardPrivate)
	if cfg, ok := cachedConfig(fx.Config()); ok {
		vc, err := fx.Validator(cfg)
		if err != nil {
			return nil, err
		}
		start("apiguard-cached", middleware.New(vc), apiguardPrivate)
	}
	gv, err := fx.GoJWTMiddlewareValidator()
	if err != nil {
		return nil, err
	}
	start("go-jwt-middleware", jwtmiddleware.New(gv.ValidateToken).CheckJWT, goJWTMiddlewarePrivate)
	return out, nil
}

const privateMessage = "Hello from a private endpoint! You need to be authenticated to see this."

// apiguardPrivate answers like the example API's GET /api/private.
func apiguardPrivate(w http.ResponseWriter, r *http.Request) {
	c, ok := claims.FromContext(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]string{"message": privateMessage, "sub": c.Subject})
}

const publicMessage = "Hello from a public endpoint! You don't need to be authenticated to see this."

// public answers like the example API's GET /api/public: the same JSON
// reply without authentication, the ceiling of a route's requests/s.
func public(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{"message": publicMessage, "sub": ""})
}

// goJWTMiddlewarePrivate is the same route behind go-jwt-middleware.
func goJWTMiddlewarePrivate(w http.ResponseWriter, r *http.Request) {
	c, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*gjmvalidator.ValidatedClaims)
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]string{"message": privateMessage, "sub": c.RegisteredClaims.Subject})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Load sends GET path to base from workers connections for d (or until
// maxRequests in all), each worker cycling through tokens from its own
// starting point (no Authorization header when there are none), and
// returns the number of 200 answers and of failures (transport errors and
// other statuses). base must be a loopback http URL.
func Load(base, path string, tokens []string, workers int, d time.Duration, maxRequests int64) (ok, bad int64, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return 0, 0, err
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return 0, 0, fmt.Errorf("refusing to load %q: loopback http only", base)
	}
	reqs := [][]byte{[]byte("GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: apiguard-bench-load\r\n\r\n")}
	if len(tokens) > 0 {
		reqs = reqs[:0]
		for _, token := range tokens {
			reqs = append(reqs, []byte("GET "+path+" HTTP/1.1\r\nHost: "+u.Host+"\r\nAuthorization: Bearer "+token+"\r\nUser-Agent: apiguard-bench-load\r\n\r\n"))
		}
	}
	var nOK, nBad, sent atomic.Int64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			_ = conn.SetDeadline(end.Add(5 * time.Second))
			br := bufio.NewReaderSize(conn, 8<<10)
			next := w * len(reqs) / workers
			for time.Now().Before(end) && sent.Add(1) <= maxRequests {
				req := reqs[next%len(reqs)]
				next++
				if _, err := conn.Write(req); err != nil {
					nBad.Add(1)
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					nBad.Add(1)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					nOK.Add(1)
				} else {
					nBad.Add(1)
				}
				if resp.Close {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if e := <-errs; e != nil {
		return nOK.Load(), nBad.Load(), errors.Join(e)
	}
	return nOK.Load(), nBad.Load(), nil
}
