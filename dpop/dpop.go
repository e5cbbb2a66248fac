package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/apiguard/apiguard/internal/jose"
	"github.com/apiguard/apiguard/validator"
)

// Defaults and limits of [Config].
const (
	// DefaultMaxAge is how old a proof's iat may be.
	DefaultMaxAge = 300 * time.Second
	// DefaultMaxFuture is how far ahead of this server's clock a proof's
	// iat may be (the client's clock may run ahead).
	DefaultMaxFuture = 30 * time.Second
	// MaxMaxAge and MaxMaxFuture bound the configurable window: the longer
	// it is, the longer a stolen proof works and replays must be stored.
	MaxMaxAge    = time.Hour
	MaxMaxFuture = 5 * time.Minute
	// DefaultMaxProofSize caps a proof's length before any decoding. A
	// proof with an RSA-4096 key is about 2.5 KiB.
	DefaultMaxProofSize = 8 << 10
	// DefaultNonceWindow is the time window of server nonces: a nonce is
	// accepted for between one and two windows.
	DefaultNonceWindow = time.Minute
)

// DefaultAlgorithms are the proof algorithms accepted when
// Config.Algorithms is empty.
var DefaultAlgorithms = []string{"ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA"}

// supportedAlgorithms are the asymmetric algorithms a proof may use;
// "none" and the symmetric HS* never are (RFC 9449 section 4.3).
var supportedAlgorithms = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA",
}

// Config configures a Verifier. The zero Config is usable: the defaults
// follow RFC 9449 and take the request's URL from the request itself.
type Config struct {
	// Algorithms is the allow-list of proof alg values; default
	// DefaultAlgorithms. Only asymmetric algorithms can be listed:
	// RS256/384/512, PS256/384/512, ES256/384/512, EdDSA.
	Algorithms []string
	// MaxAge is how old a proof's iat may be; zero means DefaultMaxAge
	// (300 s), at most MaxMaxAge.
	MaxAge time.Duration
	// MaxFuture is how far in the future a proof's iat may be; zero means
	// DefaultMaxFuture (30 s), at most MaxMaxFuture.
	MaxFuture time.Duration
	// MaxProofSize caps the proof's length in bytes; zero means
	// DefaultMaxProofSize.
	MaxProofSize int

	// ReplayStore records used proofs. Default: a MemoryStore of
	// DefaultMemoryStoreSize entries, which protects one process only;
	// give every replica the same shared store (dpop/redisstore).
	ReplayStore ReplayStore

	// PublicBaseURL, when set, is the scheme and host (and a path prefix)
	// clients use to reach the API, e.g. "https://api.example.com": the
	// request's path is appended to it to form the URL that htu must
	// name. Use it behind a proxy or load balancer. It cannot be combined
	// with TrustedProxies.
	PublicBaseURL string
	// TrustedProxies are the addresses of proxies whose Forwarded
	// (RFC 7239) or, without it, X-Forwarded-Proto and X-Forwarded-Host
	// headers say the scheme and host the client used. Requests from
	// other addresses, and all requests when this is empty, use r.TLS
	// and r.Host: no forwarding header is trusted by default. Forwarded
	// wins when present, so a proxy that sets only X-Forwarded-* must
	// remove a Forwarded header the client sent (some load balancers pass
	// it through), or the client chooses the URL its proofs are checked
	// against; PublicBaseURL has no such pitfall.
	TrustedProxies []netip.Prefix

	// NonceKeys turns on server nonces (RFC 9449 section 9): every proof
	// must then carry a nonce this server issued (Verifier.Nonce), or is
	// refused with ErrUseNonce. Each key is an HMAC-SHA256 key of at least
	// MinNonceKeySize bytes; the first makes new nonces and all are
	// accepted, for rotation. Replicas given the same keys accept each
	// other's nonces without shared state.
	NonceKeys [][]byte
	// NonceWindow is the time window of nonces: a nonce is accepted for
	// between one and two windows. Zero means DefaultNonceWindow.
	NonceWindow time.Duration

	// Now is the clock; default time.Now. Tests set it.
	Now func() time.Time
}

// Verifier checks DPoP proofs (RFC 9449) on resource requests. It is safe
// for concurrent use; build one with NewVerifier and share it.
type Verifier struct {
	algs      []string
	algsParam string
	maxAge    time.Duration
	maxFuture time.Duration
	maxSize   int
	store     ReplayStore
	urls      urlSource
	nonces    *nonces
	now       func() time.Time
	keys      keyCache
}

// NewVerifier returns a Verifier for cfg, or an error if cfg is invalid.
func NewVerifier(cfg Config) (*Verifier, error) {
	v := &Verifier{
		algs:      slices.Clone(cfg.Algorithms),
		maxAge:    cfg.MaxAge,
		maxFuture: cfg.MaxFuture,
		maxSize:   cfg.MaxProofSize,
		store:     cfg.ReplayStore,
		now:       cfg.Now,
		keys:      keyCache{m: make(map[string]cachedKey), max: keyCacheSize},
	}
	if len(v.algs) == 0 {
		v.algs = slices.Clone(DefaultAlgorithms)
	}
	for _, a := range v.algs {
		if !slices.Contains(supportedAlgorithms, a) {
			return nil, fmt.Errorf("dpop: algorithm %q is not an asymmetric algorithm this package verifies", a)
		}
	}
	v.algsParam = strings.Join(v.algs, " ")
	switch {
	case v.maxAge == 0:
		v.maxAge = DefaultMaxAge
	case v.maxAge < 0 || v.maxAge > MaxMaxAge:
		return nil, fmt.Errorf("dpop: MaxAge must be from 0 to %v", MaxMaxAge)
	}
	switch {
	case v.maxFuture == 0:
		v.maxFuture = DefaultMaxFuture
	case v.maxFuture < 0 || v.maxFuture > MaxMaxFuture:
		return nil, fmt.Errorf("dpop: MaxFuture must be from 0 to %v", MaxMaxFuture)
	}
	switch {
	case v.maxSize == 0:
		v.maxSize = DefaultMaxProofSize
	case v.maxSize < 0:
		return nil, errors.New("dpop: MaxProofSize is negative")
	}
	if v.store == nil {
		v.store = NewMemoryStore(DefaultMemoryStoreSize)
	}
	if v.now == nil {
		v.now = time.Now
	}
	if cfg.PublicBaseURL != "" {
		if len(cfg.TrustedProxies) > 0 {
			return nil, errors.New("dpop: set PublicBaseURL or TrustedProxies, not both")
		}
		u, err := url.Parse(cfg.PublicBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
			return nil, errors.New("dpop: PublicBaseURL must be an http or https URL without user, query or fragment")
		}
		host, ok := normalizeHost(u.Scheme, u.Host)
		if !ok {
			return nil, errors.New("dpop: PublicBaseURL has an invalid host")
		}
		path, ok := normalizePath(u.EscapedPath())
		if !ok {
			return nil, errors.New("dpop: PublicBaseURL has an invalid path")
		}
		v.urls = urlSource{baseScheme: u.Scheme, baseHost: host, basePath: strings.TrimSuffix(path, "/")}
	}
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, errors.New("dpop: invalid prefix in TrustedProxies")
		}
		v.urls.trusted = append(v.urls.trusted, p.Masked())
	}
	if len(cfg.NonceKeys) > 0 {
		w := cfg.NonceWindow
		switch {
		case w == 0:
			w = DefaultNonceWindow
		case w < time.Second:
			return nil, errors.New("dpop: NonceWindow must be at least 1s")
		}
		ns := &nonces{window: w}
		for _, k := range cfg.NonceKeys {
			if len(k) < MinNonceKeySize {
				return nil, fmt.Errorf("dpop: nonce keys must be at least %d bytes", MinNonceKeySize)
			}
			ns.keys = append(ns.keys, slices.Clone(k))
		}
		v.nonces = ns
	} else if cfg.NonceWindow != 0 {
		return nil, errors.New("dpop: NonceWindow without NonceKeys")
	}
	return v, nil
}

// Algorithms returns the accepted proof algorithms, for the algs
// parameter of a DPoP challenge (RFC 9449 section 7.1).
func (v *Verifier) Algorithms() []string { return slices.Clone(v.algs) }

// AlgorithmsParam returns the accepted algorithms separated by spaces:
// the value of the challenge's algs parameter, as in
// `WWW-Authenticate: DPoP algs="ES256 EdDSA"`.
func (v *Verifier) AlgorithmsParam() string { return v.algsParam }

// NoncesRequired reports whether proofs must carry a server nonce.
func (v *Verifier) NoncesRequired() bool { return v.nonces != nil }

// Nonce returns a fresh server nonce for a DPoP-Nonce header, or "" when
// nonces are off. Answers refused with ErrUseNonce must carry one; others
// may, so that clients pick up the next nonce before theirs goes stale.
func (v *Verifier) Nonce() string {
	if v.nonces == nil {
		return ""
	}
	return v.nonces.issue(v.now())
}

// RequestURL returns the URL that a proof on r must name in htu, in the
// normalized form of NormalizeURL: r's path under PublicBaseURL when set;
// else the scheme and host a trusted proxy reports (TrustedProxies); else
// "https" when r.TLS is set ("http" otherwise) and r.Host. The path is
// that of r.RequestURI (as the client sent it) or, when that is empty,
// of r.URL.
func (v *Verifier) RequestURL(r *http.Request) (string, error) {
	return v.urls.requestURL(r)
}

// Proof is what a verified proof says.
type Proof struct {
	// Thumbprint is the RFC 7638 thumbprint of the proof's key: for a
	// resource request, the token's cnf.jkt.
	Thumbprint string
	// JTI is the proof's jti.
	JTI string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
}

// Verify checks the DPoP proof of r, a request that carries the DPoP-bound
// accessToken (sent with the DPoP authorization scheme), whose cnf.jkt is
// jkt (claims.Claims.Confirmation.JKT), as RFC 9449 sections 4.3 and 7.1
// say. It does not validate the access token itself: do that first.
//
// An error is an *Error: ErrUnboundToken when jkt is empty; ErrInvalidProof
// (ErrReplay for a proof already used); ErrUseNonce when nonces are on and
// the proof lacks a current one; ErrStoreUnavailable when the replay store
// failed, in which case the proof is refused too.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, accessToken, jkt string) (Proof, error) {
	if jkt == "" {
		return Proof{}, errUnbound
	}
	if accessToken == "" {
		return Proof{}, invalid("no access token")
	}
	u, err := v.urls.requestURLParts(r)
	if err != nil {
		return Proof{}, err
	}
	return v.check(ctx, r.Header.Values("Dpop"), r.Method, u, accessToken, jkt)
}

// Request is a request to check a proof for, for transports other than
// net/http (Verify reads an *http.Request).
type Request struct {
	// Proofs are the values of the request's DPoP header fields; exactly
	// one is accepted.
	Proofs []string
	// Method is the request's method, compared with htm.
	Method string
	// URL is the absolute URL of the request; its query is ignored.
	URL string
	// AccessToken is the access token the request carries, whose hash
	// the proof's ath must be. Empty for a proof sent without one (as to
	// a token endpoint): ath is then not checked.
	AccessToken string
	// JKT is the access token's cnf.jkt, which the proof key's thumbprint
	// must equal. It is required when AccessToken is set.
	JKT string
}

// Check checks a proof as Verify does, for a request described by req.
func (v *Verifier) Check(ctx context.Context, req Request) (Proof, error) {
	if req.AccessToken != "" && req.JKT == "" {
		return Proof{}, errUnbound
	}
	u, err := NormalizeURL(req.URL)
	if err != nil {
		return Proof{}, errRequestURL
	}
	return v.check(ctx, req.Proofs, req.Method, urlParts{prefix: u}, req.AccessToken, req.JKT)
}

// joseErrors makes internal/jose report failures as this package's errors.
var joseErrors = &jose.Errors{
	TooLarge:   errTooLarge,
	Segments:   errSegments,
	Encoding:   errEncoding,
	HeaderJSON: errHeaderJSON,
	NoAlg:      errNoAlg,
}

// check runs the checks of RFC 9449 section 4.3 on proofs, cheapest
// first; u is the normalized request URL. The jti is recorded last, only
// once every other check passed.
func (v *Verifier) check(ctx context.Context, proofs []string, method string, u urlParts, accessToken, jkt string) (Proof, error) {
	// The decoded proof lives in a pooled buffer: it is read only until
	// record returns, and nothing keeps a slice of it (the Proof's strings
	// are copies), so the next request may reuse the same warm bytes.
	room := proofRooms.Get().(*[proofRoom]byte)
	defer proofRooms.Put(room)
	in, err := v.inspect(room[:], proofs, method, u, accessToken, jkt)
	if err != nil {
		return Proof{}, err
	}
	if err := in.pub.Verify(in.jws.Header.Alg, in.jws.SigningInput, in.jws.Signature); err != nil {
		return Proof{}, errSignature
	}
	return v.record(ctx, &in, method, u)
}

// proofRoom is the size of the pooled buffers proofs decode into: enough
// for an EC or Ed25519 proof and an RSA-2048 one. Larger proofs (up to the
// size cap) decode into a buffer of their own.
const proofRoom = 1536

// proofRooms holds the buffers proofs decode into.
var proofRooms = sync.Pool{New: func() any { return new([proofRoom]byte) }}

// inspected is a proof that passed every check but its signature.
type inspected struct {
	jws    jose.JWS // held here rather than allocated by jose.Parse
	key    cachedKey
	pub    validator.Key // key.key bound to the proof's alg
	claims proofClaims
}

// inspect runs every check but the signature and the replay check.
func (v *Verifier) inspect(room []byte, proofs []string, method string, u urlParts, accessToken, jkt string) (inspected, error) {
	switch {
	case len(proofs) == 0 || (len(proofs) == 1 && proofs[0] == ""):
		return inspected{}, errNoProof
	case len(proofs) > 1:
		return inspected{}, errManyProofs
	}
	var in inspected
	t := &in.jws
	if err := jose.ParseInto(t, proofs[0], v.maxSize, joseErrors, room); err != nil {
		return inspected{}, err
	}
	h := &t.Header
	switch {
	case h.Alg == "":
		return inspected{}, errNoAlg
	case !slices.Contains(v.algs, h.Alg):
		return inspected{}, errAlg
	case !isDPoPType(h.Typ):
		return inspected{}, errTyp
	case h.Crit || h.B64 || h.Jku || h.X5u || h.X5c || jose.IsJWTMediaType(h.Cty):
		return inspected{}, errHeaderParam
	case h.JWK == nil:
		return inspected{}, errNoJWK
	}
	key, err := v.keys.get(h.JWK)
	if err != nil {
		return inspected{}, err
	}
	// A jwk without alg is bound to the proof's alg (RFC 9449 section
	// 4.2): the validator's policy lets such an RSA key verify RS256 only,
	// which is right for a published key set, not for a proof whose key
	// is stated with the signature.
	pub := *key.key
	if pub.Algorithm == "" {
		pub.Algorithm = h.Alg
	}
	if !pub.Fits(h.Alg) {
		return inspected{}, errKeyAlg
	}
	if jkt != "" && subtle.ConstantTimeCompare([]byte(key.jkt), []byte(jkt)) != 1 {
		return inspected{}, errJKT
	}

	if err := t.DecodePayload(); err != nil {
		return inspected{}, err
	}
	in.key, in.pub = key, pub
	c := &in.claims
	if err := parseClaims(t.Payload, c); err != nil {
		return inspected{}, err
	}
	switch {
	case len(c.jti) == 0:
		return inspected{}, errJTI
	case c.htm == nil:
		return inspected{}, errHTM
	case c.htu == nil:
		return inspected{}, errHTU
	case !c.hasIAT:
		return inspected{}, errIAT
	case accessToken != "" && !c.hasATH:
		return inspected{}, errATHType
	}
	if string(c.htm) != method {
		return inspected{}, errMethod
	}
	if !u.equalBytes(c.htu) {
		n, err := NormalizeURL(string(c.htu))
		if err != nil {
			return inspected{}, errBadHTU
		}
		if !u.equal(n) {
			return inspected{}, errURL
		}
	}
	now := v.now()
	switch {
	case c.iat.Before(now.Add(-v.maxAge)):
		return inspected{}, errOld
	case c.iat.After(now.Add(v.maxFuture)):
		return inspected{}, errFuture
	}
	if accessToken != "" {
		sum := sha256.Sum256(readOnly(accessToken))
		var want [43]byte
		base64.RawURLEncoding.Encode(want[:], sum[:])
		if subtle.ConstantTimeCompare(want[:], c.ath) != 1 {
			return inspected{}, errATH
		}
	}
	if v.nonces != nil {
		switch {
		case !c.hasNonce:
			return inspected{}, errNonceMissing
		case !v.nonces.valid(c.nonce, now):
			return inspected{}, errNonceStale
		}
	}
	if err := t.DecodeSignature(); err != nil {
		return inspected{}, err
	}
	return in, nil
}

// record records the jti, scoped to the key, the method and the URL,
// until the proof leaves the iat window (plus a second for rounding).
func (v *Verifier) record(ctx context.Context, in *inspected, method string, u urlParts) (Proof, error) {
	c := &in.claims
	digest := replayDigest(in.key.jkt, method, u, c.jti)
	until := c.iat.Add(v.maxAge + time.Second)
	var fresh bool
	var err error
	if ms, ok := v.store.(*MemoryStore); ok {
		// A string key would be one more allocation, for nothing.
		fresh, err = ms.checkAndSet(digest, until)
	} else {
		fresh, err = v.store.CheckAndSet(ctx, replayKey(digest), until)
	}
	if err != nil {
		return Proof{}, &Error{Class: ErrStoreUnavailable, Reason: "replay store failed", Err: err}
	}
	if !fresh {
		return Proof{}, errReplayed
	}
	return Proof{Thumbprint: in.key.jkt, JTI: string(c.jti), IssuedAt: c.iat}, nil
}

// isDPoPType reports whether typ is dpop+jwt (RFC 9449 section 4.2), with
// or without "application/" (RFC 7515 section 4.1.9), in any letter case
// (media types are case-insensitive).
func isDPoPType(typ string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, "dpop+jwt")
}

// replayDigest hashes the jti with its scope: a fixed-length key that
// holds no raw client input, whatever the jti's length.
func replayDigest(jkt, method string, u urlParts, jti []byte) [sha256.Size]byte {
	var buf [512]byte
	b := append(buf[:0], jkt...)
	b = append(b, 0)
	b = append(b, method...)
	b = append(b, 0)
	b = append(b, u.prefix...)
	b = append(b, u.host...)
	b = append(b, u.path...)
	b = append(b, 0)
	b = append(b, jti...)
	return sha256.Sum256(b)
}

// replayKey is the ReplayStore key of a replay digest: its unpadded
// base64url.
func replayKey(digest [sha256.Size]byte) string {
	var key [43]byte // base64url of 32 bytes, unpadded
	base64.RawURLEncoding.Encode(key[:], digest[:])
	return string(key[:])
}

// readOnly returns the bytes of s without copying them, for sha256.Sum256,
// which only reads its input: []byte(s) copies an access token of hundreds
// of bytes into a new allocation. The result must never be written.
func readOnly(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// keyCacheSize bounds the cache of parsed proof keys: a client sends the
// same key with every proof, so a few hundred entries serve many clients.
const keyCacheSize = 1024

// maxCachedJWK is the largest jwk (JSON bytes) cached: an RSA-4096 JWK is
// under 1 KiB.
const maxCachedJWK = 2048

// keyCache remembers the keys of recent proofs by their exact JSON text,
// so that a client's repeated key costs a map lookup rather than a JWK
// parse and a thumbprint. Only keys that passed the key policy are cached.
type keyCache struct {
	mu  sync.RWMutex
	m   map[string]cachedKey
	max int
}

type cachedKey struct {
	key *validator.Key
	jkt string
}

func (c *keyCache) get(raw []byte) (cachedKey, error) {
	c.mu.RLock()
	e, ok := c.m[string(raw)]
	c.mu.RUnlock()
	if ok {
		return e, nil
	}
	k, err := validator.ParseJWK(raw)
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), validator.ErrJWK.Error()+": ")
		return cachedKey{}, &Error{Class: ErrInvalidProof, Reason: "proof jwk is not an acceptable public key: " + quoteFree(reason)}
	}
	jkt, err := k.Thumbprint()
	if err != nil {
		return cachedKey{}, &Error{Class: ErrInvalidProof, Reason: "proof jwk has no thumbprint"}
	}
	e = cachedKey{key: k, jkt: jkt}
	if len(raw) <= maxCachedJWK {
		c.mu.Lock()
		if len(c.m) >= c.max {
			for old := range c.m { // an arbitrary entry
				delete(c.m, old)
				break
			}
		}
		c.m[string(raw)] = e
		c.mu.Unlock()
	}
	return e, nil
}

// quoteFree makes a fixed reason fit a quoted-string without escapes.
func quoteFree(s string) string {
	return strings.NewReplacer(`"`, "'", `\`, "/").Replace(s)
}
