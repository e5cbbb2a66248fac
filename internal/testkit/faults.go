package testkit

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is a way for the Issuer to misbehave; see [Issuer.SetFault]. A
// fault applies to every request (discovery and JWKS alike) until
// replaced; NoFault restores normal service.
type Fault struct {
	kind   faultKind
	delay  time.Duration
	status int
}

type faultKind int

const (
	faultNone faultKind = iota
	faultDown
	faultReset
	faultStatus
	faultSlow
	faultGarbage
	faultEmptySet
	faultHugeBody
)

// HugeBodySize is the size of a FaultHugeBody answer: 64 MiB, the size
// that keyfunc/v3 was measured to read whole.
const HugeBodySize = 64 << 20

var (
	// NoFault serves normally.
	NoFault = Fault{}
	// FaultDown closes the listening socket, so connections are refused
	// as when the issuer is down; established connections are closed.
	// Clearing the fault listens again on the same address.
	FaultDown = Fault{kind: faultDown}
	// FaultReset reads each request, then resets the connection without
	// answering.
	FaultReset = Fault{kind: faultReset}
	// FaultRefuse answers 503 Service Unavailable with Retry-After: the
	// issuer is up but refuses to serve.
	FaultRefuse = FaultStatus(http.StatusServiceUnavailable)
	// FaultGarbage answers 200 with an HTML page, as a captive portal or
	// a misrouted load balancer does.
	FaultGarbage = Fault{kind: faultGarbage}
	// FaultEmptySet answers 200 with {"keys":[]}.
	FaultEmptySet = Fault{kind: faultEmptySet}
	// FaultHugeBody answers 200 with HugeBodySize bytes of a JSON-looking
	// body, streamed without Content-Length, stopping when the client
	// goes away.
	FaultHugeBody = Fault{kind: faultHugeBody}
)

// FaultStatus answers every request with the HTTP status code and a short
// text body.
func FaultStatus(code int) Fault { return Fault{kind: faultStatus, status: code} }

// FaultSlow holds every request for d, or until the client gives up or the
// Issuer closes, then serves it normally (a hung issuer: a large d).
func FaultSlow(d time.Duration) Fault { return Fault{kind: faultSlow, delay: d} }

// String names the fault, for test names.
func (f Fault) String() string {
	switch f.kind {
	case faultNone:
		return "none"
	case faultDown:
		return "down"
	case faultReset:
		return "reset"
	case faultStatus:
		return "status-" + strconv.Itoa(f.status)
	case faultSlow:
		return "slow-" + f.delay.String()
	case faultGarbage:
		return "garbage"
	case faultEmptySet:
		return "empty-set"
	case faultHugeBody:
		return "huge-body"
	}
	return "unknown"
}

// SetFault makes the issuer misbehave as f says from now on; NoFault
// restores it. Switching to or from FaultDown closes or reopens the
// listening socket; SetFault panics if the port cannot be listened on
// again.
func (i *Issuer) SetFault(f Fault) {
	i.mu.Lock()
	prev := i.fault
	i.fault = f
	i.mu.Unlock()
	switch {
	case f.kind == faultDown && prev.kind != faultDown:
		i.listener.down()
		i.Server.CloseClientConnections()
	case f.kind != faultDown && prev.kind == faultDown:
		if err := i.listener.up(); err != nil {
			panic("testkit: listening again: " + err.Error())
		}
	}
}

// serveFault answers r as f says, and reports whether it did (false: serve
// normally, after a FaultSlow delay).
func (i *Issuer) serveFault(f Fault, w http.ResponseWriter, r *http.Request) bool {
	switch f.kind {
	case faultSlow:
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
		case <-i.stop:
		}
		return true
	case faultReset, faultDown: // faultDown: a request that raced the close
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST instead of FIN
		}
		conn.Close()
	case faultStatus:
		if f.status == http.StatusServiceUnavailable || f.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, http.StatusText(f.status), f.status)
	case faultGarbage:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><head><title>Sign in to the network</title></head><body><p>Please accept the terms.</p></body></html>\n")
	case faultEmptySet:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"keys":[]}`)
	case faultHugeBody:
		w.Header().Set("Content-Type", "application/json")
		chunk := make([]byte, 32<<10)
		for n := range chunk {
			chunk[n] = ' '
		}
		if _, err := w.Write([]byte(`{"keys":[`)); err != nil {
			return true
		}
		for written := 0; written < HugeBodySize; written += len(chunk) {
			select {
			case <-i.stop:
				return true
			default:
			}
			if _, err := w.Write(chunk); err != nil {
				return true // the client went away
			}
		}
		w.Write([]byte(`]}`))
	default:
		return false
	}
	return true
}

// countingWriter counts the body bytes written through it.
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (FaultReset).
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// switchListener is a net.Listener that can stop listening (FaultDown)
// and listen again on the same address, invisibly to the http.Server
// that accepts from it.
type switchListener struct {
	addr   string
	mu     sync.Mutex
	l      net.Listener  // nil while down
	wake   chan struct{} // closed when listening again
	closed chan struct{} // closed by Close
	done   bool
}

func (s *switchListener) Accept() (net.Conn, error) {
	for {
		s.mu.Lock()
		l, wake, done := s.l, s.wake, s.done
		s.mu.Unlock()
		if done {
			return nil, net.ErrClosed
		}
		if l == nil {
			select {
			case <-wake:
			case <-s.closed:
			}
			continue
		}
		c, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			replaced := s.l != l || s.done
			s.mu.Unlock()
			if replaced {
				continue // went down (or closed) meanwhile
			}
			return nil, err
		}
		return c, nil
	}
}

func (s *switchListener) down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.l == nil || s.done {
		return
	}
	s.l.Close()
	s.l = nil
	s.wake = make(chan struct{})
}

func (s *switchListener) up() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.l != nil || s.done {
		return nil
	}
	var (
		l   net.Listener
		err error
	)
	// The port was ours a moment ago; retry briefly in case the kernel
	// has not released it yet.
	for range 50 {
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	s.l = l
	close(s.wake)
	return nil
}

func (s *switchListener) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil
	}
	s.done = true
	close(s.closed)
	if s.l != nil {
		return s.l.Close()
	}
	return nil
}

func (s *switchListener) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.l != nil {
		return s.l.Addr()
	}
	a, _ := net.ResolveTCPAddr("tcp", s.addr)
	return a
}
