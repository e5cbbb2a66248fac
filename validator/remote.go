package validator

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults and limits of a [RemoteKeySet]. The [RemoteConfig] fields of the
// same names override the defaults. A RemoteKeySet works as follows.
//
//   - Discovery: the JWKS URL is RemoteConfig.JWKSURL, or the jwks_uri of
//     the issuer's OpenID configuration (RemoteConfig.Discovery; the
//     document's issuer must equal the configured one), or Auth0's
//     "{issuer}.well-known/jwks.json". Plain http is refused unless the
//     host is a loopback address or "localhost".
//   - Fetching: a dedicated HTTP client, FetchTimeout for a whole refresh
//     (discovery included), connect and TLS handshake at most 2 s, no
//     keep-alive, redirects only to the same host and never to plain http,
//     at most MaxJWKSBytes read, at most MaxJWKSKeys keys. A non-2xx
//     answer, a body that is not a JWKS, an empty set or a set without a
//     usable key is a failed refresh. The Content-Type is not checked:
//     static JWKS files are often served as application/octet-stream.
//   - Key policy: see ParseJWKS. A RemoteKeySet holds one issuer's keys;
//     a Validator selects it by the token's iss before any lookup.
//   - Caching: the last good set stays in use when a refresh fails, for at
//     most MaxStaleness after it was fetched; then validation fails with
//     ErrKeysUnavailable until a refresh succeeds. A warm lookup is an
//     atomic load and a map lookup, with no lock and no allocation.
//   - Background refresh: every RefreshInterval; a Cache-Control max-age
//     shorter than that shortens it, down to MinCacheControlInterval; each
//     wait has ±10% jitter. After a failure the source retries after
//     RetryInterval, doubling up to min(RefreshInterval, max(RetryInterval,
//     MaxRetryDelay)), with the same jitter, without waiting for traffic.
//   - Unknown kid: a token whose kid is not in the set starts a refresh,
//     at most one per UnknownKIDCooldown; concurrent requests share one
//     fetch (single flight), and a request waits for it at most
//     MaxKeyWait or until its context ends. Other misses within the
//     cool-down are answered ErrUnknownKey at once. A key the issuer
//     publishes is therefore accepted at most UnknownKIDCooldown +
//     FetchTimeout after publication, however many random kids an
//     attacker sends, and within RefreshInterval (+10%) with no traffic.
//   - Cold start: NewRemoteKeySet (and validator.New, for the key sets
//     it makes itself, in parallel) loads the keys and waits at most
//     FetchTimeout. If the load fails, it fails, unless StartWithoutKeys
//     is set: then it returns at once, the first fetch and retries run in
//     the background, lookups get ErrKeysUnavailable until keys are
//     loaded, and Ready reports it.
//   - Sharing: one RemoteKeySet may serve several Validators (one fetch
//     and one refresh loop for all); whoever made it closes it.
const (
	// DefaultFetchTimeout bounds one refresh: a fetch from a CDN takes
	// tens of milliseconds, a cross-region TLS handshake a few hundred;
	// 5 s tolerates a slow issuer while bounding how long New blocks.
	DefaultFetchTimeout = 5 * time.Second
	// DefaultRefreshInterval is the most time between refreshes, so it
	// bounds how long a key the issuer removed (revoked) keeps verifying
	// while the issuer is reachable. 15 min costs 4 small requests an
	// hour per issuer and instance; keyfunc's default is an hour.
	DefaultRefreshInterval = 15 * time.Minute
	// MinCacheControlInterval is the shortest refresh interval a
	// Cache-Control max-age (or no-cache) can ask for. Auth0 answers
	// max-age=15; refreshing every 15 s on every instance would only load
	// the issuer.
	MinCacheControlInterval = time.Minute
	// DefaultRetryInterval is the first retry delay after a failed
	// refresh: keys load about a second after an issuer comes back from
	// a short blip.
	DefaultRetryInterval = time.Second
	// MaxRetryDelay caps the doubling retry delay (unless RetryInterval
	// is larger), so keys load within about a minute of a long outage's
	// end, at about one request a minute per instance meanwhile.
	MaxRetryDelay = time.Minute
	// DefaultUnknownKIDCooldown is the least time between two refreshes
	// started by unknown kids. It is the worst-case delay before a newly
	// published key is accepted during a flood of random kids, and caps
	// what such a flood costs the issuer: 2 requests a minute per
	// instance (keyfunc allows one per 5 min, and blocks rotations).
	DefaultUnknownKIDCooldown = 30 * time.Second
	// DefaultMaxKeyWait is how long a request waits for a key fetch it
	// needs (cold start or unknown kid), unless its context ends sooner.
	// A healthy fetch takes well under a second; past 2 s the client is
	// better served by a quick 401 or 503.
	DefaultMaxKeyWait = 2 * time.Second
	// DefaultMaxStaleness is how long the last good key set is used while
	// refreshes fail. 24 h rides out a long issuer outage (and equals
	// Auth0's default access token lifetime, so tokens issued before the
	// outage stay usable), while bounding how long a key revoked during
	// the outage, or while an attacker blocks the JWKS fetch, is trusted.
	// When RefreshInterval is set above 12 h, the default is twice it.
	DefaultMaxStaleness = 24 * time.Hour
	// MaxJWKSBytes caps a JWKS or discovery document. An Auth0 JWKS of
	// two keys with certificates is under 4 KiB; 100 RSA-4096 keys with
	// certificate chains still fit.
	MaxJWKSBytes = 1 << 20

	connectTimeout = 2 * time.Second
	maxRedirects   = 3
	maxLoggedKid   = 64
)

// RemoteConfig configures a [RemoteKeySet]. Issuer is required; every other
// field has a safe default (see [DefaultRefreshInterval] and its siblings
// for how the key set behaves).
type RemoteConfig struct {
	// Issuer is the issuer whose keys the set holds, exactly as its
	// tokens' iss names it. It must be an https URL (http only on
	// loopback) unless JWKSURL is set.
	Issuer string
	// JWKSURL is where the JWKS is fetched. When empty it is found by
	// OIDC discovery if Discovery is set, and is otherwise Auth0's
	// "{Issuer}.well-known/jwks.json". It must be https, or http on a
	// loopback host.
	JWKSURL string
	// Discovery finds the JWKS URL in "{Issuer}/.well-known/openid-configuration";
	// the document's issuer must equal Issuer.
	Discovery bool
	// HTTPClient fetches discovery documents and key sets. Default: a
	// dedicated client (connect and TLS handshake at most 2 s, no
	// keep-alive, TLS 1.2+). A client given here is copied; on the copy,
	// FetchTimeout caps Timeout and redirects are limited to the same
	// host and never downgrade to http. Bodies are capped at MaxJWKSBytes
	// either way.
	HTTPClient *http.Client
	// Logger receives key refreshes (Debug), key set changes (Info),
	// failed refreshes (Warn) and keys dropped after MaxStaleness
	// (Error); default slog.Default(). Tokens are never logged; kids
	// from tokens are quoted and cut to 64 bytes.
	Logger *slog.Logger

	// FetchTimeout bounds one key refresh, discovery included, and so how
	// long NewRemoteKeySet blocks; zero means DefaultFetchTimeout (5 s).
	FetchTimeout time.Duration
	// RefreshInterval is the most time between background refreshes, and
	// so bounds how long a key removed from the JWKS keeps verifying; a
	// smaller Cache-Control max-age shortens it (not below
	// MinCacheControlInterval); ±10% jitter. Zero means
	// DefaultRefreshInterval (15 min).
	RefreshInterval time.Duration
	// RetryInterval is the first delay before retrying a failed refresh,
	// doubled after each further failure up to MaxRetryDelay (1 min) or
	// RefreshInterval if smaller. Zero means DefaultRetryInterval (1 s).
	RetryInterval time.Duration
	// UnknownKIDCooldown is the least time between two refreshes caused
	// by tokens with an unknown kid. A key the issuer publishes is
	// accepted within UnknownKIDCooldown + FetchTimeout even during a
	// flood of random kids. Zero means DefaultUnknownKIDCooldown (30 s).
	UnknownKIDCooldown time.Duration
	// MaxKeyWait caps how long a lookup waits for a key fetch it needs
	// (its context may end it sooner). Zero means DefaultMaxKeyWait (2 s).
	MaxKeyWait time.Duration
	// MaxStaleness is how long the last good key set stays in use while
	// refreshes fail; after that, lookups fail with ErrKeysUnavailable
	// and Ready reports an error. It must be at least twice
	// RefreshInterval. Zero means DefaultMaxStaleness (24 h), or twice
	// RefreshInterval if that is more.
	MaxStaleness time.Duration
	// StartWithoutKeys makes NewRemoteKeySet return at once, without
	// keys, and load them in the background, retrying until the issuer
	// answers; until then lookups fail with ErrKeysUnavailable (the
	// middleware answers 503). By default NewRemoteKeySet waits for the
	// keys (at most FetchTimeout) and fails if it cannot load them.
	StartWithoutKeys bool
}

// RemoteKeySet is a [KeySource] of one issuer whose JWKS is fetched over
// HTTP, cached and refreshed in the background; see the documentation of
// [DefaultRefreshInterval] and its siblings for how it behaves. It is safe
// for concurrent use, and one RemoteKeySet may serve several Validators:
// they share its fetches, cache and refresh loop. Key is the hot path: an
// atomic load of the current snapshot and a map lookup.
type RemoteKeySet struct {
	issuer           string
	fetchTimeout     time.Duration
	refreshInterval  time.Duration
	retryInterval    time.Duration
	cooldown         time.Duration
	maxWait          time.Duration
	maxStale         time.Duration
	startWithoutKeys bool
	client           *http.Client
	log              *slog.Logger

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
}

// flight is one fetch, shared by everyone who needs it. err is set before
// done is closed.
type flight struct {
	done chan struct{}
	err  error
}

// Errors of the key sources. They are allocated once: the miss path of a
// flood must stay cheap.
var (
	errKeysNotLoaded = &Error{Class: ErrKeysUnavailable, Reason: "signing keys not loaded"}
	errKeysClosed    = &Error{Class: ErrKeysUnavailable, Reason: "key set closed"}
)

// NewRemoteKeySet returns a RemoteKeySet for cfg and starts loading its
// keys. Unless cfg.StartWithoutKeys is set, it waits for the first load
// (at most FetchTimeout, and until ctx ends) and fails if it cannot load
// them. ctx bounds that wait only. Call Close when done with the set.
func NewRemoteKeySet(ctx context.Context, cfg RemoteConfig) (*RemoteKeySet, error) {
	r, err := newRemoteKeySet(cfg)
	if err != nil {
		return nil, err
	}
	f := r.start()
	if r.startWithoutKeys {
		return r, nil
	}
	if err := r.await(ctx, f); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// newRemoteKeySet checks cfg and returns a set that has not started.
func newRemoteKeySet(cfg RemoteConfig) (*RemoteKeySet, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("validator: RemoteConfig.Issuer is required")
	}
	r := &RemoteKeySet{
		issuer:           cfg.Issuer,
		fetchTimeout:     cfg.FetchTimeout,
		refreshInterval:  cfg.RefreshInterval,
		retryInterval:    cfg.RetryInterval,
		cooldown:         cfg.UnknownKIDCooldown,
		maxWait:          cfg.MaxKeyWait,
		maxStale:         cfg.MaxStaleness,
		startWithoutKeys: cfg.StartWithoutKeys,
		jwksURL:          cfg.JWKSURL,
		kick:             make(chan struct{}, 1),
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"FetchTimeout", &r.fetchTimeout, DefaultFetchTimeout},
		{"RefreshInterval", &r.refreshInterval, DefaultRefreshInterval},
		{"RetryInterval", &r.retryInterval, DefaultRetryInterval},
		{"UnknownKIDCooldown", &r.cooldown, DefaultUnknownKIDCooldown},
		{"MaxKeyWait", &r.maxWait, DefaultMaxKeyWait},
		{"MaxStaleness", &r.maxStale, 0},
	} {
		switch {
		case *d.v < 0:
			return nil, fmt.Errorf("validator: %s must not be negative", d.name)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if r.maxStale == 0 {
		r.maxStale = max(DefaultMaxStaleness, 2*r.refreshInterval)
	}
	if r.maxStale < 2*r.refreshInterval {
		return nil, fmt.Errorf("validator: MaxStaleness (%v) must be at least twice RefreshInterval (%v), or keys would expire between refreshes", r.maxStale, r.refreshInterval)
	}
	// The issuer is fetched from (discovery, Auth0's convention), so it
	// must be an https URL. With an explicit JWKS URL it only names the
	// keys' owner and may be any string, but a plain http URL is refused
	// all the same: its tokens would come from an unprotected origin.
	if cfg.JWKSURL == "" || strings.HasPrefix(strings.ToLower(cfg.Issuer), "http:") {
		if err := checkFetchURL(cfg.Issuer); err != nil {
			return nil, fmt.Errorf("validator: issuer %w", err)
		}
	}
	switch {
	case cfg.JWKSURL != "":
		if err := checkFetchURL(cfg.JWKSURL); err != nil {
			return nil, fmt.Errorf("validator: JWKS URL %w", err)
		}
	case !cfg.Discovery:
		r.jwksURL = auth0JWKSURL(cfg.Issuer)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	r.log = logger.With("issuer", cfg.Issuer)
	r.client = newFetchClient(cfg.HTTPClient, r.fetchTimeout)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// start begins loading the keys and starts the background refresher. It
// returns the first fetch.
func (r *RemoteKeySet) start() *flight {
	r.mu.Lock()
	f := r.startFlightLocked("initial")
	r.mu.Unlock()
	r.wg.Add(1)
	go r.run()
	return f
}

// await waits for the first fetch f, until ctx ends.
func (r *RemoteKeySet) await(ctx context.Context, f *flight) error {
	select {
	case <-f.done:
	case <-ctx.Done():
		return &Error{Class: ErrKeysUnavailable, Reason: "loading signing keys: " + ctx.Err().Error(), Err: ctx.Err()}
	}
	if f.err != nil {
		return &Error{
			Class:  ErrKeysUnavailable,
			Reason: fmt.Sprintf("loading the signing keys of %q: %v", r.issuer, f.err),
			Err:    f.err,
		}
	}
	return nil
}

// Issuer returns the issuer whose keys the set holds. A Validator refuses
// a key source whose Issuer is not the issuer it is configured for.
func (r *RemoteKeySet) Issuer() string { return r.issuer }

// KeySet returns the keys loaded now, or nil when none are (not yet
// loaded, dropped after MaxStaleness, or closed). It does no I/O.
func (r *RemoteKeySet) KeySet() *KeySet {
	if s := r.snap.Load(); s != nil {
		return s.set
	}
	return nil
}

// Key implements [KeySource]. A kid the loaded set does not hold starts a
// refresh (single flight, at most one per UnknownKIDCooldown) that the
// call waits for at most MaxKeyWait or until ctx ends.
func (r *RemoteKeySet) Key(ctx context.Context, kid, alg string) (*Key, error) {
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
func (r *RemoteKeySet) miss(ctx context.Context, seen *keySnap, kid string) (*keySnap, error) {
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
		if now := time.Now(); r.lastMiss.IsZero() || now.Sub(r.lastMiss) >= r.cooldown {
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
func (r *RemoteKeySet) wait(ctx context.Context, f *flight) error {
	select {
	case <-f.done:
		return nil
	default:
	}
	t := time.NewTimer(r.maxWait)
	defer t.Stop()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("still fetching after %v (MaxKeyWait)", r.maxWait)
	}
}

// unavailable is the error of a lookup while no keys are loaded.
func (r *RemoteKeySet) unavailable() error {
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
func (r *RemoteKeySet) startFlightLocked(reason string) *flight {
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
func (r *RemoteKeySet) run() {
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
			if expiry := s.fetched.Add(r.maxStale); !expiry.After(time.Now()) {
				if r.snap.CompareAndSwap(s, nil) {
					r.log.Error("validator: signing keys dropped: no successful refresh for MaxStaleness; tokens are refused until the issuer is back",
						"max_staleness", r.maxStale, "fetched", s.fetched, "error", r.lastError())
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

func (r *RemoteKeySet) lastError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// refresh fetches the key set (after discovery, when needed) and publishes
// it, or keeps the current one on failure. It schedules the next refresh.
func (r *RemoteKeySet) refresh(reason string) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.fetchTimeout)
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
		res, u, err = discover(ctx, r.client, r.issuer)
		if err == nil {
			r.mu.Lock()
			r.jwksURL = u
			r.mu.Unlock()
		}
	}
	var skipped error
	if err == nil {
		res, err = get(ctx, r.client, u)
		if err == nil {
			if set, err = ParseJWKS(res.body); err != nil {
				err = fmt.Errorf("%s: %w", u, err)
			} else {
				skipped = set.Skipped()
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
		retry := jitter(r.retryAfter(failures))
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
	r.snap.Store(&keySnap{set: set, fetched: now})
	skipReport := ""
	if skipped != nil {
		skipReport = describeSkipped(skipped)
	}
	r.mu.Lock()
	r.failures, r.lastErr = 0, nil
	interval := jitter(refreshAfter(res.header, r.refreshInterval))
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

// Ready reports whether keys are loaded and were fetched less than
// MaxStaleness ago: nil when the set can serve lookups, and otherwise an
// *Error of class ErrKeysUnavailable that names the issuer. It does no
// I/O, so it suits a readiness probe.
func (r *RemoteKeySet) Ready(context.Context) error {
	s := r.snap.Load()
	if s != nil && time.Since(s.fetched) < r.maxStale {
		return nil
	}
	reason := fmt.Sprintf("signing keys of %q not loaded", r.issuer)
	if s != nil {
		reason = fmt.Sprintf("signing keys of %q older than %v", r.issuer, r.maxStale)
	}
	return &Error{Class: ErrKeysUnavailable, Reason: reason, Err: r.lastError()}
}

// Close stops the background refresher and any fetch in progress, and
// waits for them, so no goroutine outlives it. Lookups afterwards fail
// with ErrKeysUnavailable: nothing would keep the keys fresh. Calling
// Close again does nothing; it always returns nil.
func (r *RemoteKeySet) Close() error {
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
	out := &KeySet{byID: make(map[string]*Key, len(set.keys)), ambiguous: map[string]bool{}, skipped: set.skipped}
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

// retryAfter is the delay before the next attempt after failures
// consecutive failed refreshes, before jitter.
func (r *RemoteKeySet) retryAfter(failures int) time.Duration {
	limit := min(r.refreshInterval, max(r.retryInterval, MaxRetryDelay))
	d := r.retryInterval
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// quoteKid renders an unverified kid for a log: quoted, so control
// characters and invalid UTF-8 are escaped, and cut to maxLoggedKid bytes.
func quoteKid(kid string) string {
	if len(kid) > maxLoggedKid {
		return strconv.Quote(kid[:maxLoggedKid]) + "..."
	}
	return strconv.Quote(kid)
}
