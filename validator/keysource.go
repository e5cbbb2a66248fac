package validator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Key cache defaults. Every issuer whose Config leaves Keys nil gets a
// remote key source that works as follows; the Config fields of the same
// names override these values.
//
//   - Discovery: the JWKS URL is Config.JWKSURL, or the jwks_uri of the
//     issuer's OpenID configuration (Config.Discovery; the document's
//     issuer must equal the configured one), or Auth0's
//     "{issuer}.well-known/jwks.json". Plain http is refused unless the
//     host is a loopback address or "localhost".
//   - Fetching: a dedicated HTTP client, FetchTimeout for a whole refresh
//     (discovery included), connect and TLS handshake at most 2 s, no
//     keep-alive, redirects only to the same host and never to plain http,
//     at most MaxJWKSBytes read, at most MaxJWKSKeys keys. A non-2xx
//     answer, a body that is not a JWKS, an empty set or a set without a
//     usable key is a failed refresh. The Content-Type is not checked:
//     static JWKS files are often served as application/octet-stream.
//   - Key policy: see ParseJWKS. Each issuer has its own set; the token's
//     iss selects it before any lookup.
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
//   - Cold start: New loads every issuer's keys in parallel and waits at
//     most FetchTimeout. If a load fails, New fails, unless
//     StartWithoutKeys is set: then New returns at once, the first fetch
//     and retries run in the background, requests get ErrKeysUnavailable
//     until keys are loaded, and Ready reports it.
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

// IssuerConfig is one more issuer a Validator accepts (see
// Config.ExtraIssuers). The fields mean what the Config fields of the same
// names mean; the key cache tunables of Config apply to it too.
type IssuerConfig struct {
	// Issuer is the exact iss of the issuer's tokens.
	Issuer string
	// Keys, when set, supplies the keys; otherwise they are fetched.
	Keys KeySource
	// JWKSURL is where the keys are fetched; see Config.JWKSURL.
	JWKSURL string
	// Discovery finds the JWKS URL by OpenID Connect discovery.
	Discovery bool
}

// Errors of the key sources. They are allocated once: the miss path of a
// flood must stay cheap.
var (
	errKeysNotLoaded = &Error{Class: ErrKeysUnavailable, Reason: "signing keys not loaded"}
	errKeysClosed    = &Error{Class: ErrKeysUnavailable, Reason: "validator closed"}
)

// keyOptions are the resolved key cache tunables, shared by the remote
// sources of one Validator.
type keyOptions struct {
	fetchTimeout     time.Duration
	refresh          time.Duration
	retry            time.Duration
	cooldown         time.Duration
	maxWait          time.Duration
	maxStale         time.Duration
	startWithoutKeys bool
	client           *http.Client
	logger           *slog.Logger
}

func resolveKeyOptions(cfg *Config) (*keyOptions, error) {
	o := &keyOptions{
		fetchTimeout:     cfg.FetchTimeout,
		refresh:          cfg.RefreshInterval,
		retry:            cfg.RetryInterval,
		cooldown:         cfg.UnknownKIDCooldown,
		maxWait:          cfg.MaxKeyWait,
		maxStale:         cfg.MaxStaleness,
		startWithoutKeys: cfg.StartWithoutKeys,
		logger:           cfg.Logger,
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"FetchTimeout", &o.fetchTimeout, DefaultFetchTimeout},
		{"RefreshInterval", &o.refresh, DefaultRefreshInterval},
		{"RetryInterval", &o.retry, DefaultRetryInterval},
		{"UnknownKIDCooldown", &o.cooldown, DefaultUnknownKIDCooldown},
		{"MaxKeyWait", &o.maxWait, DefaultMaxKeyWait},
		{"MaxStaleness", &o.maxStale, 0},
	} {
		switch {
		case *d.v < 0:
			return nil, fmt.Errorf("validator: %s must not be negative", d.name)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if o.maxStale == 0 {
		o.maxStale = max(DefaultMaxStaleness, 2*o.refresh)
	}
	if o.maxStale < 2*o.refresh {
		return nil, fmt.Errorf("validator: MaxStaleness (%v) must be at least twice RefreshInterval (%v), or keys would expire between refreshes", o.maxStale, o.refresh)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	o.client = newFetchClient(cfg.HTTPClient, o.fetchTimeout)
	return o, nil
}

// initKeys builds the key source of every accepted issuer and, for remote
// ones, starts loading their keys. It is New's key-source wiring.
func (v *Validator) initKeys(ctx context.Context, cfg Config) error {
	issuers := make([]IssuerConfig, 0, 1+len(cfg.ExtraIssuers))
	issuers = append(issuers, IssuerConfig{Issuer: cfg.Issuer, Keys: cfg.Keys, JWKSURL: cfg.JWKSURL, Discovery: cfg.Discovery})
	issuers = append(issuers, cfg.ExtraIssuers...)
	var opts *keyOptions
	sources := make(map[string]KeySource, len(issuers))
	var remotes []*remoteKeys
	fail := func(err error) error {
		for _, r := range remotes {
			r.Close()
		}
		return err
	}
	for _, ic := range issuers {
		if ic.Issuer == "" {
			return fail(errors.New("validator: every issuer needs a non-empty Issuer"))
		}
		if _, dup := sources[ic.Issuer]; dup {
			return fail(fmt.Errorf("validator: issuer %q configured twice", ic.Issuer))
		}
		if ic.Keys != nil {
			sources[ic.Issuer] = ic.Keys
			continue
		}
		if opts == nil {
			o, err := resolveKeyOptions(&cfg)
			if err != nil {
				return err
			}
			opts = o
		}
		r, err := newRemoteKeys(ic, opts)
		if err != nil {
			return fail(err)
		}
		sources[ic.Issuer] = r
		remotes = append(remotes, r)
	}
	flights := make([]*flight, len(remotes))
	for i, r := range remotes {
		flights[i] = r.start()
	}
	if opts != nil && !opts.startWithoutKeys {
		for i, f := range flights {
			select {
			case <-f.done:
			case <-ctx.Done():
				return fail(&Error{Class: ErrKeysUnavailable, Reason: "loading signing keys: " + ctx.Err().Error(), Err: ctx.Err()})
			}
			if f.err != nil {
				return fail(&Error{
					Class:  ErrKeysUnavailable,
					Reason: fmt.Sprintf("loading the signing keys of %q: %v", remotes[i].issuer, f.err),
					Err:    f.err,
				})
			}
		}
	}
	v.sources = sources
	return nil
}

// Ready reports whether every issuer's keys are loaded and were fetched
// less than MaxStaleness ago: nil when the Validator can check tokens, and
// otherwise an *Error of class ErrKeysUnavailable that names the issuers
// that are not ready. Use it as a readiness probe: it does no I/O, and
// static key sources (Config.Keys) are always ready.
func (v *Validator) Ready(_ context.Context) error {
	var errs []error
	for _, src := range v.sources {
		if r, ok := src.(*remoteKeys); ok {
			if err := r.ready(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return &Error{Class: ErrKeysUnavailable, Reason: fmt.Sprintf("%d issuers not ready", len(errs)), Err: errors.Join(errs...)}
}

// quoteKid renders an unverified kid for a log: quoted, so control
// characters and invalid UTF-8 are escaped, and cut to maxLoggedKid bytes.
func quoteKid(kid string) string {
	if len(kid) > maxLoggedKid {
		return strconv.Quote(kid[:maxLoggedKid]) + "..."
	}
	return strconv.Quote(kid)
}
