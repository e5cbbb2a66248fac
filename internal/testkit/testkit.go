// Package testkit is the project's own test gear: the full fake issuer
// behind package validatortest, with the knobs only this project's tests
// turn (raw JWKS bodies, request counters, handlers and every fault, TLS,
// byte-level token building). Users get the small front door,
// validatortest.New.
//
// It serves OIDC discovery and a JWKS on loopback and mints Auth0-shaped
// access tokens, well-formed or deliberately broken. Keys are generated
// in memory and the server speaks plain HTTP unless NewTLSIssuer.
package testkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apiguard/apiguard/validator"
	"github.com/golang-jwt/jwt/v5"
)

// DefaultAudience is the aud of minted tokens unless changed.
const DefaultAudience = "https://api.example.com"

// Key is a signing key with its kid and alg.
type Key struct {
	ID        string        // kid
	Algorithm string        // alg, e.g. "RS256"
	Private   crypto.Signer // *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey
}

// Public returns the key as the validator sees it.
func (k *Key) Public() *validator.Key {
	return &validator.Key{ID: k.ID, Algorithm: k.Algorithm, Public: k.Private.Public()}
}

// JWK returns the public JWK of k as a JSON object, with use "sig".
func (k *Key) JWK() map[string]any {
	m := map[string]any{"kid": k.ID, "alg": k.Algorithm, "use": "sig"}
	enc := base64.RawURLEncoding.EncodeToString
	switch pub := k.Private.Public().(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = enc(pub.N.Bytes())
		m["e"] = enc(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		m["kty"] = "EC"
		m["crv"] = pub.Curve.Params().Name
		size := (pub.Curve.Params().BitSize + 7) / 8
		b, _ := pub.Bytes()
		m["x"] = enc(b[1 : 1+size])
		m["y"] = enc(b[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = enc(pub)
	}
	return m
}

// GenerateKey returns a new key for alg (RS*, PS*, ES256/384/512, EdDSA)
// named kid. RSA keys have 2048 bits. It panics on an unknown alg.
func GenerateKey(kid, alg string) *Key {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		panic("testkit: unsupported alg " + alg)
	}
	if err != nil {
		panic("testkit: " + err.Error())
	}
	return &Key{ID: kid, Algorithm: alg, Private: priv}
}

// ParseKeyPEM reads a PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY")
// or SEC 1 ("EC PRIVATE KEY") private key.
func ParseKeyPEM(kid, alg string, data []byte) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("testkit: no PEM block")
	}
	var (
		k   any
		err error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("testkit: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("testkit: not a signing key")
	}
	return &Key{ID: kid, Algorithm: alg, Private: s}, nil
}

// Issuer is a fake authorization server on loopback. Its zero value is not
// usable: call NewIssuer or NewTLSIssuer.
type Issuer struct {
	// URL is the issuer identifier, Auth0 style with a trailing slash:
	// "http://127.0.0.1:PORT/" ("https://..." for NewTLSIssuer).
	URL string
	// Server is the underlying test server.
	Server *httptest.Server

	mu           sync.Mutex
	signing      *Key
	published    []*Key
	jwksBody     []byte // overrides the served JWKS when set
	handler      http.Handler
	fault        Fault
	cacheControl string
	audience     string

	listener *switchListener
	stop     chan struct{} // closed by Close, to release slow handlers

	requests          atomic.Int64
	jwksRequests      atomic.Int64
	discoveryRequests atomic.Int64
	jwksBytes         atomic.Int64
}

// NewIssuer starts an issuer that signs with keys[0] and publishes all of
// keys; with no keys it generates an RS256 key with kid "test-key-1".
func NewIssuer(keys ...*Key) *Issuer { return newIssuer(false, keys) }

// NewTLSIssuer is NewIssuer over HTTPS, with a certificate that only the
// client of Config (Server.Client()) trusts.
func NewTLSIssuer(keys ...*Key) *Issuer { return newIssuer(true, keys) }

func newIssuer(tls bool, keys []*Key) *Issuer {
	if len(keys) == 0 {
		keys = []*Key{GenerateKey("test-key-1", "RS256")}
	}
	i := &Issuer{signing: keys[0], published: keys, stop: make(chan struct{}), audience: DefaultAudience}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", i.serveJWKS)
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	i.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i.requests.Add(1)
		switch r.URL.Path {
		case jwksPath:
			i.jwksRequests.Add(1)
			w = &countingWriter{ResponseWriter: w, n: &i.jwksBytes}
		case discoveryPath:
			i.discoveryRequests.Add(1)
		}
		i.mu.Lock()
		h, f := i.handler, i.fault
		i.mu.Unlock()
		if f.kind != faultNone && i.serveFault(f, w, r) {
			return
		}
		if h != nil {
			h.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	// A fake issuer has nothing to say: connection errors of the faults
	// it injects are expected.
	i.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
	i.listener = &switchListener{l: i.Server.Listener, addr: i.Server.Listener.Addr().String(), closed: make(chan struct{})}
	i.Server.Listener = i.listener
	if tls {
		i.Server.StartTLS()
	} else {
		i.Server.Start()
	}
	i.URL = i.Server.URL + "/"
	return i
}

const (
	jwksPath      = "/.well-known/jwks.json"
	discoveryPath = "/.well-known/openid-configuration"
)

// Close shuts the server down, releasing requests held by FaultSlow.
func (i *Issuer) Close() {
	i.mu.Lock()
	select {
	case <-i.stop:
	default:
		close(i.stop)
	}
	i.mu.Unlock()
	i.Server.Close()
}

// JWKSURL returns the URL of the key set.
func (i *Issuer) JWKSURL() string { return i.URL + ".well-known/jwks.json" }

// Config returns a validator configuration that trusts this issuer, for
// its audience (DefaultAudience unless SetAudience changed it) and the
// signing key's algorithm. Its Logger discards: a test that wants the key
// cache's logs sets its own. For a TLS issuer, whose certificate only
// Server.Client() trusts, use RemoteConfig for the keys.
func (i *Issuer) Config() validator.Config {
	return validator.Config{
		Issuer:     i.URL,
		Audiences:  []string{i.Audience()},
		Algorithms: []string{i.SigningKey().Algorithm},
		Logger:     slog.New(slog.DiscardHandler),
	}
}

// RemoteConfig returns the configuration of a RemoteKeySet of this
// issuer's keys, with a client that trusts the TLS issuer's certificate,
// and a Logger that discards.
func (i *Issuer) RemoteConfig() validator.RemoteConfig {
	cfg := validator.RemoteConfig{Issuer: i.URL, Logger: slog.New(slog.DiscardHandler)}
	if i.Server.TLS != nil {
		cfg.HTTPClient = i.Server.Client()
	}
	return cfg
}

// Audience returns the aud of minted tokens, which Config accepts.
func (i *Issuer) Audience() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.audience
}

// SetAudience changes the aud of minted tokens and the audience Config
// accepts, so a test sets it once.
func (i *Issuer) SetAudience(aud string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.audience = aud
}

// SigningKey returns the key Mint signs with.
func (i *Issuer) SigningKey() *Key {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.signing
}

// Rotate publishes k beside the current keys and signs with it from now on.
func (i *Issuer) Rotate(k *Key) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.signing = k
	i.published = append(i.published, k)
}

// SetKeys replaces the published keys; the signing key is unchanged.
func (i *Issuer) SetKeys(keys ...*Key) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = keys
}

// SetJWKS makes the issuer serve body as its JWKS, verbatim; nil goes back
// to the published keys.
func (i *Issuer) SetJWKS(body []byte) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.jwksBody = body
}

// SetHandler makes h answer every request instead of the issuer, to inject
// faults; nil restores the issuer.
func (i *Issuer) SetHandler(h http.Handler) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.handler = h
}

// JWKSRequests returns how many requests for the JWKS path reached the
// server, whatever answered them (a fault, a SetHandler handler or the
// issuer). Requests refused by FaultDown never reach it.
func (i *Issuer) JWKSRequests() int { return int(i.jwksRequests.Load()) }

// DiscoveryRequests returns how many requests for the discovery document
// reached the server, counted like JWKSRequests.
func (i *Issuer) DiscoveryRequests() int { return int(i.discoveryRequests.Load()) }

// Requests returns how many requests of any path reached the server.
func (i *Issuer) Requests() int { return int(i.requests.Load()) }

// JWKSBytesWritten returns how many body bytes JWKS answers have written
// so far, faults included: with FaultHugeBody it shows how much a client
// read before giving up (plus what socket buffers absorbed).
func (i *Issuer) JWKSBytesWritten() int64 { return i.jwksBytes.Load() }

// SetCacheControl makes JWKS answers carry a Cache-Control header with
// value v; "" removes it.
func (i *Issuer) SetCacheControl(v string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.cacheControl = v
}

// JWKS returns the JSON of the published key set.
func (i *Issuer) JWKS() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.jwksBody != nil {
		return i.jwksBody
	}
	keys := make([]map[string]any, len(i.published))
	for n, k := range i.published {
		keys[n] = k.JWK()
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	i.mu.Lock()
	cc := i.cacheControl
	i.mu.Unlock()
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(i.JWKS())
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                i.URL,
		"authorization_endpoint":                i.URL + "authorize",
		"token_endpoint":                        i.URL + "oauth/token",
		"jwks_uri":                              i.JWKSURL(),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

// Token is a token under construction; options change it before signing.
type Token struct {
	// Header is the JOSE header, encoded as given.
	Header map[string]any
	// Claims is the claims set, encoded as given.
	Claims map[string]any
	// Key signs the token; nil leaves the signature empty.
	Key *Key
	// Signature, when set, replaces the computed signature verbatim.
	Signature []byte
}

// TokenOption changes a token before it is signed.
type TokenOption func(*Token)

// WithClaim sets claim name to value (any JSON-encodable value).
func WithClaim(name string, value any) TokenOption {
	return func(t *Token) { t.Claims[name] = value }
}

// WithoutClaim removes claim name.
func WithoutClaim(name string) TokenOption {
	return func(t *Token) { delete(t.Claims, name) }
}

// WithHeader sets header parameter name to value.
func WithHeader(name string, value any) TokenOption {
	return func(t *Token) { t.Header[name] = value }
}

// WithoutHeader removes header parameter name.
func WithoutHeader(name string) TokenOption {
	return func(t *Token) { delete(t.Header, name) }
}

// WithScope sets the space-delimited scope claim.
func WithScope(scope string) TokenOption { return WithClaim("scope", scope) }

// WithPermissions sets the Auth0 RBAC permissions claim.
func WithPermissions(p ...string) TokenOption { return WithClaim("permissions", p) }

// WithAudience sets aud to a single string, or to an array when given
// several.
func WithAudience(aud ...string) TokenOption {
	if len(aud) == 1 {
		return WithClaim("aud", aud[0])
	}
	return WithClaim("aud", aud)
}

// WithSubject sets sub.
func WithSubject(sub string) TokenOption { return WithClaim("sub", sub) }

// WithExpiry sets exp.
func WithExpiry(t time.Time) TokenOption { return WithClaim("exp", t.Unix()) }

// WithKey signs with k instead of the issuer's signing key; its kid and alg
// go into the header.
func WithKey(k *Key) TokenOption {
	return func(t *Token) {
		t.Key = k
		t.Header["kid"] = k.ID
		t.Header["alg"] = k.Algorithm
	}
}

// WithSignature replaces the signature with sig, e.g. nil-length or
// corrupted bytes.
func WithSignature(sig []byte) TokenOption {
	return func(t *Token) { t.Signature = sig }
}

// DefaultClaims returns the claims of a fresh Auth0-shaped access token from
// issuer: sub, aud DefaultAudience, iat now, exp in an hour, azp, scope.
func DefaultClaims(issuer string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":   issuer,
		"sub":   "auth0|test-user",
		"aud":   []string{DefaultAudience},
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"azp":   "test-client",
		"scope": "openid profile",
	}
}

// Mint returns a token signed with the issuer's signing key (or the key
// WithKey names), Auth0-shaped unless opts change it.
func (i *Issuer) Mint(opts ...TokenOption) string {
	k := i.SigningKey()
	t := &Token{
		Header: map[string]any{"alg": k.Algorithm, "typ": "JWT", "kid": k.ID},
		Claims: DefaultClaims(i.URL),
		Key:    k,
	}
	t.Claims["aud"] = []string{i.Audience()}
	for _, o := range opts {
		o(t)
	}
	return t.Sign()
}

// Sign encodes and signs t. Header and claims are encoded as given, so any
// combination, valid or not, can be produced.
func (t *Token) Sign() string {
	h, err := json.Marshal(t.Header)
	if err != nil {
		panic("testkit: header: " + err.Error())
	}
	c, err := json.Marshal(t.Claims)
	if err != nil {
		panic("testkit: claims: " + err.Error())
	}
	return SignRaw(t.Key, h, c, t.Signature)
}

// SignRaw builds a compact JWS from raw header and payload bytes signed with
// k's algorithm (nil k: empty signature). A non-nil sig replaces the
// signature. Use it for byte-level tricks such as duplicate member names.
func SignRaw(k *Key, header, payload, sig []byte) string {
	enc := base64.RawURLEncoding.EncodeToString
	input := enc(header) + "." + enc(payload)
	if sig == nil && k != nil {
		m := jwt.GetSigningMethod(k.Algorithm)
		if m == nil {
			panic("testkit: unknown alg " + k.Algorithm)
		}
		var err error
		sig, err = m.Sign(input, k.Private)
		if err != nil {
			panic("testkit: sign: " + err.Error())
		}
	}
	return input + "." + enc(sig)
}

// Segments splits a token into its three encoded segments, for tests that
// tamper with one.
func Segments(token string) (header, payload, signature string) {
	parts := strings.SplitN(token, ".", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}
