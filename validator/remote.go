package validator

import (
	"context"
	"crypto"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// remoteKeys is the key source of one issuer whose JWKS is fetched over
// HTTP; see the documentation of DefaultRefreshInterval and its siblings
// for how it behaves. Key is the hot path: an atomic load of the current
// snapshot and a map lookup.
type remoteKeys struct {
	issuer   string
	opts     *keyOptions
	log      *slog.Logger
	discover bool

	snap atomic.Pointer[keySnap] // nil until loaded, and after MaxStaleness

	ctx    context.Context // ends at Close, cancelling fetches
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{} // wakes the refresher to reschedule
	once   sync.Once

	mu          sync.Mutex
	closed      bool
	jwksURL     string    // "" until discovery succeeds
	flight      *flight   // the fetch in progress, if any
	lastMiss    time.Time // start of the last refresh an unknown kid caused
	next        time.Time // when the next scheduled refresh is due
	failures    int       // consecutive failed refreshes
	lastErr     error     // of the last failed refresh, nil after a success
	lastSkipped string    // skipped-key report of the last success
}

// keySnap is one loaded key set, immutable once published.
type keySnap struct {
	set     *KeySet
	fetched time.Time
	// jwks is the set as jwkset JWKs, for Keyfunc; built on first use.
	jwks func() *jwkIndex
}

// flight is one fetch, shared by everyone who needs it. err is set before
// done is closed.
type flight struct {
	done chan struct{}
	err  error
}

func newRemoteKeys(ic IssuerConfig, opts *keyOptions) (*remoteKeys, error) {
	r := &remoteKeys{
		issuer:   ic.Issuer,
		opts:     opts,
		log:      opts.logger.With("issuer", ic.Issuer),
		discover: ic.Discovery && ic.JWKSURL == "",
		jwksURL:  ic.JWKSURL,
		kick:     make(chan struct{}, 1),
	}
	// The issuer is fetched from (discovery, Auth0's convention), so it
	// must be an https URL. With an explicit JWKS URL it only names the
	// keys' owner and may be any string, but a plain http URL is refused
	// all the same: its tokens would come from an unprotected origin.
	if ic.JWKSURL == "" || strings.HasPrefix(strings.ToLower(ic.Issuer), "http:") {
		if err := checkFetchURL(ic.Issuer); err != nil {
			return nil, fmt.Errorf("validator: issuer %w", err)
		}
	}
	switch {
	case r.jwksURL != "":
		if err := checkFetchURL(r.jwksURL); err != nil {
			return nil, fmt.Errorf("validator: JWKS URL %w", err)
		}
	case !r.discover:
		r.jwksURL = auth0JWKSURL(ic.Issuer)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// start begins loading the keys and starts the background refresher. It
// returns the first fetch.
func (r *remoteKeys) start() *flight {
	r.mu.Lock()
	f := r.startFlightLocked("initial")
	r.mu.Unlock()
	r.wg.Add(1)
	go r.run()
	return f
}

// Key implements KeySource.
func (r *remoteKeys) Key(ctx context.Context, kid, alg string) (*Key, error) {
	s := r.snap.Load()
	if s != nil {
		if k, err := s.set.lookup(kid, alg); err != errKid {
			return k, err
		}
	}
	s, err := r.miss(ctx, s, kid)
	if err != nil {
		return nil, err
	}
	return s.set.lookup(kid, alg)
}

// miss handles a kid that seen (the snapshot the caller looked in, maybe
// nil) does not hold. It joins the fetch in progress, or starts one if the
// cool-down allows, and waits for it at most MaxKeyWait or until ctx ends.
// It returns the snapshot to look in again, or ErrKeysUnavailable when no
// keys are loaded.
func (r *remoteKeys) miss(ctx context.Context, seen *keySnap, kid string) (*keySnap, error) {
	r.mu.Lock()
	if cur := r.snap.Load(); cur != seen && cur != nil {
		// Refreshed since the caller looked.
		r.mu.Unlock()
		return cur, nil
	}
	f := r.flight
	if f == nil {
		if r.closed {
			r.mu.Unlock()
			return nil, errKeysClosed
		}
		if now := time.Now(); r.lastMiss.IsZero() || now.Sub(r.lastMiss) >= r.opts.cooldown {
			r.lastMiss = now
			f = r.startFlightLocked("unknown kid")
			r.log.Debug("validator: refreshing keys for an unknown kid", "kid", quoteKid(kid))
		}
	}
	r.mu.Unlock()
	if f == nil {
		// Rate-limited: answer at once.
		if seen == nil {
			return nil, r.unavailable()
		}
		return seen, nil
	}
	if err := r.wait(ctx, f); err != nil {
		// Gave up waiting; the fetch goes on for later requests.
		r.log.Debug("validator: stopped waiting for a key fetch", "kid", quoteKid(kid), "error", err)
	}
	cur := r.snap.Load()
	if cur == nil {
		return nil, r.unavailable()
	}
	return cur, nil
}

// wait waits for f, at most MaxKeyWait and until ctx ends.
func (r *remoteKeys) wait(ctx context.Context, f *flight) error {
	select {
	case <-f.done:
		return nil
	default:
	}
	t := time.NewTimer(r.opts.maxWait)
	defer t.Stop()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("still fetching after %v (MaxKeyWait)", r.opts.maxWait)
	}
}

// unavailable is the error of a lookup while no keys are loaded.
func (r *remoteKeys) unavailable() error {
	r.mu.Lock()
	cause, closed := r.lastErr, r.closed
	r.mu.Unlock()
	switch {
	case closed:
		return errKeysClosed
	case cause == nil:
		return errKeysNotLoaded
	}
	return &Error{Class: ErrKeysUnavailable, Reason: errKeysNotLoaded.Reason, Err: cause}
}

// startFlightLocked starts a fetch; r.mu must be held, no fetch in
// progress and r not closed.
func (r *remoteKeys) startFlightLocked(reason string) *flight {
	f := &flight{done: make(chan struct{})}
	r.flight = f
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := r.refresh(reason)
		r.mu.Lock()
		r.flight = nil
		r.mu.Unlock()
		f.err = err
		close(f.done)
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}()
	return f
}

// run is the background refresher: it refreshes when due, retries failed
// refreshes with backoff, and drops the keys once older than MaxStaleness.
func (r *remoteKeys) run() {
	defer r.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.mu.Lock()
		f, due := r.flight, r.next
		r.mu.Unlock()
		if f != nil {
			// A fetch is running; its end sets the next due time.
			select {
			case <-f.done:
				continue
			case <-r.ctx.Done():
				return
			}
		}
		s := r.snap.Load()
		if s != nil {
			if expiry := s.fetched.Add(r.opts.maxStale); !expiry.After(time.Now()) {
				if r.snap.CompareAndSwap(s, nil) {
					r.log.Error("validator: signing keys dropped: no successful refresh for MaxStaleness; tokens are refused until the issuer is back",
						"max_staleness", r.opts.maxStale, "fetched", s.fetched, "error", r.lastError())
				}
				continue
			} else if expiry.Before(due) {
				due = expiry
			}
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-r.kick:
				timer.Stop()
			case <-r.ctx.Done():
				return
			}
			continue
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return
		}
		if r.flight == nil {
			r.startFlightLocked("scheduled")
		}
		r.mu.Unlock()
	}
}

func (r *remoteKeys) lastError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// refresh fetches the key set (after discovery, when needed) and publishes
// it, or keeps the current one on failure. It schedules the next refresh.
func (r *remoteKeys) refresh(reason string) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.fetchTimeout)
	defer cancel()
	start := time.Now()
	r.mu.Lock()
	u := r.jwksURL
	r.mu.Unlock()
	var (
		res *fetchResult
		set *KeySet
		err error
	)
	if u == "" {
		res, u, err = discover(ctx, r.opts.client, r.issuer)
		if err == nil {
			r.mu.Lock()
			r.jwksURL = u
			r.mu.Unlock()
		}
	}
	var skipped error
	if err == nil {
		res, err = get(ctx, r.opts.client, u)
		if err == nil {
			if set, skipped, err = ParseJWKS(res.body); err != nil {
				err = fmt.Errorf("%s: %w", u, err)
			}
		}
	}
	now := time.Now()
	elapsed := now.Sub(start)
	status := 0
	if res != nil {
		status = res.status
	}
	if err != nil {
		if r.ctx.Err() != nil {
			return errKeysClosed // closing: not worth a warning
		}
		r.mu.Lock()
		r.failures++
		r.lastErr = err
		failures := r.failures
		retry := jitter(r.opts.retryAfter(failures))
		r.next = now.Add(retry)
		r.mu.Unlock()
		attrs := []any{"reason", reason, "url", u, "status", status, "duration", elapsed, "error", err,
			"failures", failures, "retry_in", retry}
		if s := r.snap.Load(); s != nil {
			attrs = append(attrs, "cached_keys", s.set.Len(), "cached_age", now.Sub(s.fetched))
		} else {
			attrs = append(attrs, "cached_keys", 0)
		}
		r.log.Warn("validator: key refresh failed", attrs...)
		return err
	}

	prev := r.snap.Load()
	var prevSet *KeySet
	if prev != nil {
		prevSet = prev.set
	}
	set = carryOver(set, prevSet)
	r.snap.Store(newKeySnap(set, now))
	skipReport := ""
	if skipped != nil {
		skipReport = describeSkipped(skipped)
	}
	r.mu.Lock()
	r.failures, r.lastErr = 0, nil
	interval := jitter(refreshAfter(res.header, r.opts.refresh))
	r.next = now.Add(interval)
	skipChanged := skipReport != r.lastSkipped
	r.lastSkipped = skipReport
	r.mu.Unlock()

	r.log.Debug("validator: keys refreshed", "reason", reason, "url", u, "status", status,
		"duration", elapsed, "keys", set.Len(), "next_in", interval)
	if added, removed := diffKids(prevSet, set); prevSet == nil || len(added)+len(removed) > 0 {
		r.log.Info("validator: signing keys changed", "url", u, "keys", set.Len(), "added", added, "removed", removed)
	}
	if skipped != nil && skipChanged {
		r.log.Warn("validator: JWKS keys skipped by the key policy", "url", u, "skipped", skipReport)
	}
	return nil
}

// ready is nil when keys are loaded and younger than MaxStaleness.
func (r *remoteKeys) ready() error {
	s := r.snap.Load()
	if s != nil && time.Since(s.fetched) < r.opts.maxStale {
		return nil
	}
	reason := fmt.Sprintf("signing keys of %q not loaded", r.issuer)
	if s != nil {
		reason = fmt.Sprintf("signing keys of %q older than %v", r.issuer, r.opts.maxStale)
	}
	return &Error{Class: ErrKeysUnavailable, Reason: reason, Err: r.lastError()}
}

// Close stops the background refresher and any fetch in progress, and
// waits for them. Lookups afterwards use the keys already loaded.
func (r *remoteKeys) Close() error {
	r.once.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		r.cancel()
		r.wg.Wait()
		// Nothing refreshes the keys any more, so MaxStaleness could
		// not be kept: refuse to serve them.
		r.snap.Store(nil)
	})
	return nil
}

// carryOver returns set with the *Key values of prev for keys that did not
// change, so that a refresh keeps key identity (the verified-token cache
// compares keys by pointer).
func carryOver(set, prev *KeySet) *KeySet {
	if prev == nil {
		return set
	}
	out := &KeySet{byID: make(map[string]*Key, len(set.keys)), ambiguous: map[string]bool{}}
	for _, k := range set.keys {
		if old, ok := prev.byID[k.ID]; ok && !prev.ambiguous[k.ID] && sameKey(old, k) {
			k = old
		}
		out.add(k)
	}
	return out
}

func sameKey(a, b *Key) bool {
	if a.ID != b.ID || a.Algorithm != b.Algorithm {
		return false
	}
	pa, ok := a.Public.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pa.Equal(b.Public)
}

// diffKids lists, quoted, the kids of keys that are new in cur and of
// keys of prev that cur no longer holds (after carryOver, an unchanged key
// is the same pointer in both).
func diffKids(prev, cur *KeySet) (added, removed []string) {
	var a, b []*Key
	if prev != nil {
		a = prev.keys
	}
	if cur != nil {
		b = cur.keys
	}
	for _, k := range b {
		if !slices.Contains(a, k) {
			added = append(added, quoteKid(k.ID))
		}
	}
	for _, k := range a {
		if !slices.Contains(b, k) {
			removed = append(removed, quoteKid(k.ID))
		}
	}
	return added, removed
}

// describeSkipped shortens a skipped-keys report for a log line.
func describeSkipped(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
