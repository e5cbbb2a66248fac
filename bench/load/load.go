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
	fmt.Fprintln(w, "| ratio | value | target | result |")
	fmt.Fprintln(w, "|---|---|---|---|")
	ratio := func(a, b string) (float64, bool) {
		if _, ok := r.RPS[a]; !ok {
			return 0, false
		}
		if _, ok := r.RPS[b]; !ok || r.Median(b) == 0 {
			return 0, false
		}
		return r.Median(a) / r.Median(b), true
	}
	if x, ok := ratio("apiguard-cached", "apiguard"); ok {
		res := "FAIL"
		if x >= 2 {
			res = "PASS"
		}
		fmt.Fprintf(w, "| apiguard-cached / apiguard | %.2fx | >= 2x | %s |\n", x, res)
	} else {
		fmt.Fprintln(w, "| apiguard-cached / apiguard | not run | >= 2x | n/a |")
	}
	if _, ok := ratio("apiguard-cached", "apiguard"); ok && median(r.CPU["apiguard-cached"]) > 0 {
		fmt.Fprintf(w, "| apiguard / apiguard-cached, CPU per request | %.2fx | | info |\n", median(r.CPU["apiguard"])/median(r.CPU["apiguard-cached"]))
	}
	if x, ok := ratio("apiguard", "go-jwt-middleware"); ok {
		fmt.Fprintf(w, "| apiguard / go-jwt-middleware | %.2fx | | info |\n", x)
	}
	if x, ok := ratio("apiguard-cached", "go-jwt-middleware"); ok {
		fmt.Fprintf(w, "| apiguard-cached / go-jwt-middleware | %.2fx | | info |\n", x)
	}
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
	rep := &Report{Options: o, RPS: map[string][]float64{}, CPU: map[string][]float64{}, Errors: map[string]int64{}}
	for _, s := range servers {
		rep.Servers = append(rep.Servers, s.Name)
		if o.Warmup > 0 {
			if _, _, err := Load(s.URL, fx.Token, o.Workers, o.Warmup, o.MaxRequests); err != nil {
				return nil, fmt.Errorf("%s: %w", s.Name, err)
			}
		}
	}
	for round := 1; round <= o.Rounds; round++ {
		for _, s := range servers {
			cpu0 := processCPU()
			ok, bad, err := Load(s.URL, fx.Token, o.Workers, o.Duration, o.MaxRequests)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.Name, err)
			}
			cpu := float64((processCPU() - cpu0).Microseconds()) / float64(max(ok, 1))
			rps := float64(ok) / o.Duration.Seconds()
			rep.RPS[s.Name] = append(rep.RPS[s.Name], rps)
			rep.CPU[s.Name] = append(rep.CPU[s.Name], cpu)
			rep.Errors[s.Name] += bad
			fmt.Fprintf(log, "round %d %-18s %8.0f req/s %6.1f CPU us/req (%d errors)\n", round, s.Name, rps, cpu, bad)
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

// Load sends GET /api/private with token to base from workers connections
// for d (or until maxRequests in all), and returns the number of 200
// answers and of failures (transport errors and other statuses). base
// must be a loopback http URL.
func Load(base, token string, workers int, d time.Duration, maxRequests int64) (ok, bad int64, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return 0, 0, err
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return 0, 0, fmt.Errorf("refusing to load %q: loopback http only", base)
	}
	req := []byte("GET /api/private HTTP/1.1\r\nHost: " + u.Host + "\r\nAuthorization: Bearer " + token + "\r\nUser-Agent: apiguard-bench-load\r\n\r\n")
	var nOK, nBad, sent atomic.Int64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			_ = conn.SetDeadline(end.Add(5 * time.Second))
			br := bufio.NewReaderSize(conn, 8<<10)
			for time.Now().Before(end) && sent.Add(1) <= maxRequests {
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
