// Package validator checks OAuth 2.0 access tokens in the JWT format, as
// Auth0 and RFC 9068 issue them, and returns their typed claims.
//
// A [Validator] is built once with [New] and shared by every request. It
// refuses, in order from cheap to expensive:
//
//   - tokens over the size cap, and anything that is not a compact JWS of
//     three canonical base64url segments holding JSON objects;
//   - an alg outside the allow-list (RS256 only by default; "none" and the
//     symmetric HS* are never accepted), header parameters that ask for
//     trust or processing this package does not do (crit, b64, jku, x5u,
//     jwk, x5c, nested JWTs), and a typ that does not fit the profile;
//   - claims that claims.Parse refuses (duplicate or case-variant names,
//     wrong types, invalid UTF-8);
//   - an issuer other than the configured one, before any key lookup;
//   - an unknown kid, a key that does not fit alg, a bad signature;
//   - exp missing or past, nbf or iat in the future (each with a small
//     leeway), no accepted audience, and claims the profile requires.
//
// Every error matches one sentinel class with [errors.Is]; see [Error].
package validator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/internal/jose"
)

// Defaults and limits of [Config].
const (
	// DefaultLeeway absorbs clock skew between the issuer and this server
	// when checking exp, nbf and iat.
	DefaultLeeway = 10 * time.Second
	// MaxLeeway is the largest leeway New accepts: more would keep
	// expired tokens alive for long.
	MaxLeeway = 60 * time.Second
	// DefaultMaxTokenSize is the size cap checked before any decoding.
	// Auth0 access tokens are usually under 2 KiB; many permissions or
	// custom claims can double that.
	DefaultMaxTokenSize = 8 << 10
)

// Profile says which access tokens a Validator expects.
type Profile int

const (
	// ProfileAuth0 accepts Auth0 access tokens in either of the formats a
	// tenant can choose: typ "JWT", or "at+jwt" / "application/at+jwt"
	// (RFC 9068), in any letter case. It requires sub.
	ProfileAuth0 Profile = iota
	// ProfileRFC9068 accepts only RFC 9068 access tokens: typ "at+jwt" or
	// "application/at+jwt", and the claims sub, client_id, jti and iat.
	ProfileRFC9068
)

// String returns the profile's name, as in Go source.
func (p Profile) String() string {
	switch p {
	case ProfileAuth0:
		return "ProfileAuth0"
	case ProfileRFC9068:
		return "ProfileRFC9068"
	}
	return "Profile(" + strconv.Itoa(int(p)) + ")"
}

// Config configures a Validator. Issuer and Audiences are required; every
// other field has a safe default.
type Config struct {
	// Issuer is the exact iss of accepted tokens. For Auth0 it is
	// "https://TENANT.auth0.com/", with the trailing slash.
	Issuer string
	// Audiences are the accepted aud values: the API identifier(s).
	Audiences []string
	// Algorithms is the allow-list of alg values; default {"RS256"}.
	// Supported: RS256/384/512, PS256/384/512, ES256/384/512, EdDSA.
	Algorithms []string
	// Leeway is the clock skew allowed on exp, nbf and iat; zero means
	// DefaultLeeway, and at most MaxLeeway is accepted.
	Leeway time.Duration
	// Profile is the kind of access token expected; default ProfileAuth0.
	Profile Profile
	// MaxTokenSize caps the token's length in bytes; zero means
	// DefaultMaxTokenSize.
	MaxTokenSize int

	// Keys supplies the issuer's verification keys: a *RemoteKeySet to
	// tune fetching or share one cache between Validators, a *KeySet for
	// offline use, or a KeySource of your own. When nil, New makes a
	// RemoteKeySet with the defaults (the JWKS at Auth0's
	// "{Issuer}.well-known/jwks.json", see DefaultRefreshInterval for the
	// cache), waits for its keys, and closes it in Close.
	Keys KeySource
	// ExtraIssuers are further issuers whose tokens are accepted, each
	// with its own keys: an Auth0 custom domain beside the canonical
	// domain, or several tenants. The token's iss selects the issuer's
	// keys before any lookup, so one issuer's key never verifies
	// another's token, and a token of an unknown issuer is refused
	// without a fetch.
	ExtraIssuers []IssuerConfig
	// Logger receives New's configuration warnings and the key cache
	// events of the key sets New makes itself (Keys nil); default
	// slog.Default(). A RemoteKeySet given in Keys logs to its own
	// RemoteConfig.Logger.
	Logger *slog.Logger

	// CacheSize, when positive, enables a cache of up to this many fully
	// validated tokens, so a client that reuses its access token (the
	// common case) costs no signature check. A hit still re-checks exp
	// and nbf and that the signing key is still in the issuer's key set.
	// Each entry holds the token and its claims: about 2 KiB for an
	// Auth0-sized token.
	CacheSize int
	// CacheTTL bounds how long a token stays cached (never past its exp);
	// zero means DefaultCacheTTL.
	CacheTTL time.Duration

	// Now is the clock; default time.Now. Tests set it.
	Now func() time.Time
}

// Validator validates access tokens. It is safe for concurrent use.
type Validator struct {
	sources map[string]KeySource
	// issuer is Config.Issuer, and issuerKeys its key source.
	issuer     string
	issuerKeys KeySource
	audiences  []string
	algs       []string
	leeway     time.Duration
	profile    Profile
	maxSize    int
	now        func() time.Time
	cache      *tokenCache // nil unless Config.CacheSize > 0
	headers    headerTable
	owned      []io.Closer // the key sources New made, closed by Close
	// errAudience names the accepted audiences, for the logs.
	errAudience error
}

// New returns a Validator for cfg. With no cfg.Keys it makes a
// RemoteKeySet for the issuer, loads its JWKS and fails if it cannot; ctx
// bounds that first load only. Call Close when done with the Validator.
func New(ctx context.Context, cfg Config) (*Validator, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("validator: Config.Issuer is required")
	}
	if len(cfg.Audiences) == 0 || slices.Contains(cfg.Audiences, "") {
		return nil, errors.New("validator: Config.Audiences needs at least one non-empty audience")
	}
	v := &Validator{
		audiences: slices.Clone(cfg.Audiences),
		algs:      slices.Clone(cfg.Algorithms),
		leeway:    cfg.Leeway,
		profile:   cfg.Profile,
		maxSize:   cfg.MaxTokenSize,
		now:       cfg.Now,
	}
	v.errAudience = &Error{Class: ErrAudience, Reason: fmt.Sprintf("aud holds no accepted audience (accepted: %s)", quoteList(v.audiences))}
	if len(v.algs) == 0 {
		v.algs = []string{"RS256"}
	}
	for _, a := range v.algs {
		if _, ok := method(a); !ok {
			return nil, fmt.Errorf("validator: algorithm %q is not supported (asymmetric signatures only)", a)
		}
	}
	switch {
	case v.leeway == 0:
		v.leeway = DefaultLeeway
	case v.leeway < 0 || v.leeway > MaxLeeway:
		return nil, fmt.Errorf("validator: Leeway must be between 0 and %v", MaxLeeway)
	}
	if v.profile != ProfileAuth0 && v.profile != ProfileRFC9068 {
		return nil, errors.New("validator: unknown Profile")
	}
	switch {
	case v.maxSize == 0:
		v.maxSize = DefaultMaxTokenSize
	case v.maxSize < 0:
		return nil, errors.New("validator: MaxTokenSize must not be negative")
	}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case cfg.CacheSize < 0 || cfg.CacheTTL < 0:
		return nil, errors.New("validator: CacheSize and CacheTTL must not be negative")
	case cfg.CacheSize > 0 && cfg.CacheTTL == 0:
		v.cache = newTokenCache(cfg.CacheSize, DefaultCacheTTL)
	case cfg.CacheSize > 0:
		v.cache = newTokenCache(cfg.CacheSize, cfg.CacheTTL)
	}
	warnIssuer(cfg.Logger, cfg.Issuer)
	if err := v.initKeys(ctx, &cfg); err != nil {
		return nil, err
	}
	return v, nil
}

// Validate checks token and returns its claims. The error, if any, is an
// *Error whose class matches one of this package's sentinels. ctx bounds
// how long the call waits for a key fetch the token causes (the fetch
// itself goes on, for the requests that share it).
func (v *Validator) Validate(ctx context.Context, token string) (*claims.Claims, error) {
	now := v.now()
	var hash uint64
	// The size cap itself is parseJWS's; an oversized token is not even
	// hashed for the cache.
	if v.cache != nil && len(token) <= v.maxSize {
		var e *cacheEntry
		if e, hash = v.cache.get(token, now); e != nil {
			if v.checkTimes(e.claims, now) == nil {
				k, err := e.src.Key(ctx, e.kid, e.alg)
				if err == nil && k != nil && k.fits(e.alg) && e.key.matches(k) {
					// A copy: no handler may change what another request sees.
					return e.claims.Clone(), nil
				}
				if err != nil {
					// The key left the set, or the keys are unavailable:
					// the full path would ask again and get the same.
					v.cache.drop(hash, e)
					return nil, err
				}
			}
			// Expired, or the key was replaced: validate in full, which
			// gives the precise error or caches the token afresh.
			v.cache.drop(hash, e)
		}
	}
	parts, err := jose.Split(token, v.maxSize, joseErrors)
	if err != nil {
		return nil, err
	}
	// The decoded header and signature of a typical token fit in this
	// array on the stack: nothing keeps a reference to them past this call
	// (the kid is copied, or comes from the header table).
	var room [decodeRoom]byte
	buf := room[:]
	if n := jose.B64.DecodedLen(len(parts.Header)) + jose.B64.DecodedLen(len(parts.Signature)); n > len(buf) {
		buf = make([]byte, n)
	}
	h, known := v.headers.get(parts.Header)
	if !known {
		hdr, err := jose.Decode(buf, parts.Header, joseErrors)
		if err != nil {
			return nil, err
		}
		kid, err := jose.DecodeHeaderKid(hdr, &h, joseErrors)
		if err != nil {
			return nil, err
		}
		h.Kid = string(kid)
	}
	if err := v.headerAllowed(&h); err != nil {
		return nil, err
	}
	// The payload decodes into memory of its own, which the claims keep:
	// their strings are substrings of it, with no copy. Nothing writes to
	// it after this.
	payload, err := jose.Decode(make([]byte, jose.B64.DecodedLen(len(parts.Payload))), parts.Payload, joseErrors)
	if err != nil {
		return nil, err
	}
	c, err := claims.ParseString(unsafe.String(unsafe.SliceData(payload), len(payload)))
	if err != nil {
		// A claims set of an unknown issuer is refused for its issuer,
		// whatever else is wrong with it (a second iss among them).
		if iss, ok := peekIssuer(payload); ok {
			if _, known := v.source(string(iss)); !known {
				return nil, v.issuerError(string(iss))
			}
		}
		return nil, &Error{Class: ErrMalformed, Reason: strings.TrimPrefix(err.Error(), "claims: "), Err: err}
	}
	// The issuer picks the key set: an unknown one is refused before the
	// signature is decoded, and costs no key lookup or fetch. (Checking it
	// here rather than peeking at it before Parse costs a refused token
	// its claims' decoding, and spares every accepted token a second scan
	// of its payload.)
	src, ok := v.source(c.Issuer)
	if !ok {
		return nil, v.issuerError(c.Issuer)
	}
	sig, err := jose.Decode(buf, parts.Signature, joseErrors)
	if err != nil {
		return nil, err
	}
	k, err := sourceKey(ctx, src, h.Kid, h.Alg)
	if err != nil {
		return nil, err
	}
	// The signature is checked before the claims' values, so that a forged
	// token is reported as forged even when it is also expired.
	if err := verify(&jws{Header: h, SigningInput: parts.SigningInput, Signature: sig}, k); err != nil {
		return nil, err
	}
	if !known {
		v.headers.add(parts.Header, h)
	}
	if err := v.checkTimes(c, now); err != nil {
		return nil, err
	}
	if err := v.checkClaims(c); err != nil {
		return nil, err
	}
	if v.cache != nil && now.Before(c.ExpiresAt) {
		if snap, ok := snapshotKey(k); ok {
			v.cache.put(hash, &cacheEntry{
				token: token, claims: c.Clone(), src: src, kid: h.Kid, alg: h.Alg, key: snap, until: c.ExpiresAt,
			}, now)
		}
	}
	return c, nil
}
