package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/apiguard/apiguard/bench/internal/fixture"
	"github.com/apiguard/apiguard/validator"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	gjmvalidator "github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Benchmark names, which cmd/ratios reads:
//
//	BenchmarkCompare/ALG/IMPL          serial, one goroutine
//	BenchmarkCompareParallel/ALG/IMPL  b.RunParallel, GOMAXPROCS goroutines
//	BenchmarkReject/KIND               apiguard refusing a bad RS256 token
//	BenchmarkGlue/PART                 pieces of a middleware round trip
//
// IMPL is one of the names in impls below. Every implementation checks the
// same token of its ALG, with its key cache warm, and yields typed claims.

// impl is one way of checking the fixture's token. check returns an error
// when the token is not accepted.
type impl struct {
	name  string
	check func(ctx context.Context) error
}

// suite is everything built once per algorithm.
type suite struct {
	fx    *fixture.Fixture
	impls []impl
}

var (
	suitesMu sync.Mutex
	suites   = map[string]*suite{}
)

// getSuite builds the implementations for alg once per process: -count N
// runs every benchmark N times, and key generation and JWKS fetches belong
// to none of them.
func getSuite(b *testing.B, alg string) *suite {
	b.Helper()
	suitesMu.Lock()
	defer suitesMu.Unlock()
	if s, ok := suites[alg]; ok {
		return s
	}
	fx := fixture.New(alg)
	s := &suite{fx: fx}
	s.impls = []impl{
		{"Raw", rawCheck(b, fx)},
		{"GolangJWTKeyfunc", golangJWTCheck(b, fx)},
		{"GoJWTMiddlewareValidator", goJWTMiddlewareCheck(b, fx)},
		{"GoJWTMiddlewareCheckJWT", goJWTMiddlewareRoundTrip(b, fx)},
		{"ApiguardValidate", apiguardCheck(b, fx, fx.Config())},
	}
	s.impls = append(s.impls, extraImpls(b, fx)...)
	ctx := context.Background()
	for _, im := range s.impls {
		if err := im.check(ctx); err != nil {
			b.Fatalf("%s %s refuses the benchmark token: %v", alg, im.name, err)
		}
	}
	suites[alg] = s
	return s
}

var errRejected = errors.New("token rejected")

// rawCheck is the floor: SHA-256 of the signing input and the bare
// signature verification, with the signature already decoded into the
// form the standard library takes (ASN.1 DER for ECDSA, which
// ecdsa.VerifyASN1 checks with half the allocations of ecdsa.Verify on
// big.Int r and s) and the signing input already in a []byte.
func rawCheck(b *testing.B, fx *fixture.Fixture) func(context.Context) error {
	i := strings.LastIndexByte(fx.Token, '.')
	signing, rawSig := []byte(fx.Token[:i]), fx.Token[i+1:]
	sig, err := base64.RawURLEncoding.DecodeString(rawSig)
	if err != nil {
		b.Fatal(err)
	}
	var ok func() bool
	switch pub := fx.Key.Private.Public().(type) {
	case *rsa.PublicKey:
		ok = func() bool {
			d := sha256.Sum256(signing)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
		}
	case *ecdsa.PublicKey:
		der := derSignature(b, sig)
		ok = func() bool {
			d := sha256.Sum256(signing)
			return ecdsa.VerifyASN1(pub, d[:], der)
		}
	case ed25519.PublicKey:
		ok = func() bool { return ed25519.Verify(pub, signing, sig) }
	default:
		b.Fatalf("unexpected key type %T", pub)
	}
	return func(context.Context) error {
		if !ok() {
			return errRejected
		}
		return nil
	}
}

// derSignature encodes a JWS ECDSA signature (r || s) as ASN.1 DER.
func derSignature(b *testing.B, sig []byte) []byte {
	n := len(sig) / 2
	var c cryptobyte.Builder
	c.AddASN1(asn1.SEQUENCE, func(c *cryptobyte.Builder) {
		c.AddASN1BigInt(new(big.Int).SetBytes(sig[:n]))
		c.AddASN1BigInt(new(big.Int).SetBytes(sig[n:]))
	})
	der, err := c.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	return der
}

// auth0Claims is the typed claims struct a golang-jwt user would write: the
// registered claims plus the Auth0 claims apiguard's claims.Claims has.
type auth0Claims struct {
	jwt.RegisteredClaims
	Scope           string   `json:"scope,omitempty"`
	AuthorizedParty string   `json:"azp,omitempty"`
	ClientID        string   `json:"client_id,omitempty"`
	Permissions     []string `json:"permissions,omitempty"`
	OrgID           string   `json:"org_id,omitempty"`
	OrgName         string   `json:"org_name,omitempty"`
	GrantType       string   `json:"gty,omitempty"`
}

// golangJWTCheck is golang-jwt/jwt v5 with keyfunc v3 fetching the JWKS.
func golangJWTCheck(b *testing.B, fx *fixture.Fixture) func(context.Context) error {
	// The refresh goroutine lives as long as the process, like the suite.
	kf, err := keyfunc.NewDefaultCtx(context.Background(), []string{fx.JWKSURL()})
	if err != nil {
		b.Fatal(err)
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{fx.Alg}),
		jwt.WithIssuer(fixture.Issuer),
		jwt.WithAudience(fixture.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(10*time.Second),
	)
	return func(ctx context.Context) error {
		var c auth0Claims
		t, err := parser.ParseWithClaims(fx.Token, &c, kf.KeyfuncCtx(ctx))
		if err != nil {
			return err
		}
		if !t.Valid || c.Subject == "" {
			return errRejected
		}
		return nil
	}
}

// newGoJWTMiddlewareValidator is the fixture's go-jwt-middleware validator.
func newGoJWTMiddlewareValidator(b *testing.B, fx *fixture.Fixture) *gjmvalidator.Validator {
	v, err := fx.GoJWTMiddlewareValidator()
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func goJWTMiddlewareCheck(b *testing.B, fx *fixture.Fixture) func(context.Context) error {
	v := newGoJWTMiddlewareValidator(b, fx)
	return func(ctx context.Context) error {
		c, err := v.ValidateToken(ctx, fx.Token)
		if err != nil {
			return err
		}
		if vc, ok := c.(*gjmvalidator.ValidatedClaims); !ok || vc.RegisteredClaims.Subject == "" {
			return errRejected
		}
		return nil
	}
}

// roundTrip serves req with h and wants a 200. The response writer is
// reused, as a server reuses its per-connection state, so that a round
// trip costs what the middleware and the handler cost (an
// httptest.ResponseRecorder would add 4 allocations and ~0.2 us to both
// middlewares alike).
func roundTrip(h http.Handler, req *http.Request) error {
	w := writers.Get().(*statusWriter)
	defer writers.Put(w)
	w.status = 0
	h.ServeHTTP(w, req)
	if w.status != http.StatusOK {
		return errRejected
	}
	return nil
}

// statusWriter is a ResponseWriter that keeps the status only.
type statusWriter struct {
	h      http.Header
	status int
}

var writers = sync.Pool{New: func() any { return &statusWriter{h: http.Header{}} }}

func (w *statusWriter) Header() http.Header { return w.h }
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}
func (w *statusWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}

// newRequest is the prebuilt request of the middleware round trips.
func newRequest(token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/api/private", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// goJWTMiddlewareRoundTrip is go-jwt-middleware v2's CheckJWT with its
// defaults around its validator, serving a handler that needs the claims.
func goJWTMiddlewareRoundTrip(b *testing.B, fx *fixture.Fixture) func(context.Context) error {
	v := newGoJWTMiddlewareValidator(b, fx)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*gjmvalidator.ValidatedClaims); !ok {
			http.Error(w, "no claims", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h := jwtmiddleware.New(v.ValidateToken).CheckJWT(next)
	req := newRequest(fx.Token)
	return func(context.Context) error { return roundTrip(h, req) }
}

// apiguardCheck is apiguard's validator.Validate.
func apiguardCheck(b *testing.B, fx *fixture.Fixture, cfg validator.Config) func(context.Context) error {
	v, err := fx.Validator(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return func(ctx context.Context) error {
		c, err := v.Validate(ctx, fx.Token)
		if err != nil {
			return err
		}
		if c.Subject == "" {
			return errRejected
		}
		return nil
	}
}

// BenchmarkCompare runs every implementation on its algorithm's token, one
// goroutine.
func BenchmarkCompare(b *testing.B) {
	for _, alg := range fixture.Algorithms {
		s := getSuite(b, alg)
		b.Run(alg, func(b *testing.B) {
			for _, im := range s.impls {
				b.Run(im.name, func(b *testing.B) {
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						if err := im.check(ctx); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkCompareParallel is BenchmarkCompare with b.RunParallel, for the
// validators alone: its ns/op against the serial one is the parallel
// speed-up.
func BenchmarkCompareParallel(b *testing.B) {
	for _, alg := range fixture.Algorithms {
		s := getSuite(b, alg)
		b.Run(alg, func(b *testing.B) {
			for _, im := range s.impls {
				if strings.HasSuffix(im.name, "CheckJWT") || strings.HasSuffix(im.name, "Middleware") {
					continue // the glue is measured serially
				}
				b.Run(im.name, func(b *testing.B) {
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						ctx := context.Background()
						for pb.Next() {
							if err := im.check(ctx); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		})
	}
}

// countingKeys is a KeySource that counts key lookups: no lookup means no
// signature work.
type countingKeys struct {
	validator.KeySource
	n atomic.Int64
}

// Key counts the lookup and delegates it.
func (c *countingKeys) Key(ctx context.Context, kid, alg string) (*validator.Key, error) {
	c.n.Add(1)
	return c.KeySource.Key(ctx, kid, alg)
}

// BenchmarkReject measures apiguard refusing bad RS256 tokens. Each must
// fail with its error class and without a key lookup, so before any
// signature work; the ones that carry a valid signature show it is not
// checked.
func BenchmarkReject(b *testing.B) {
	fx := getSuite(b, "RS256").fx
	keys, _ := validator.NewKeySet(fx.Key.Public())
	src := &countingKeys{KeySource: keys}
	cfg := fx.Config()
	cfg.Keys = src
	v, err := fx.Validator(cfg)
	if err != nil {
		b.Fatal(err)
	}
	h, p, sig := segments(fx.Token)
	wrongIss := fixture.Claims(time.Now())
	wrongIss["iss"] = "https://attacker.example.com/"
	big := fixture.Claims(time.Now())
	big["https://example.com/blob"] = strings.Repeat("x", validator.DefaultMaxTokenSize)
	typ := fx.Header()
	typ["typ"] = "dpop+jwt"
	cases := []struct {
		name  string
		token string
		class error
	}{
		// The payload segment holds a character outside base64url: the
		// latest a malformed token can be noticed before signature work.
		{"malformed", h + "." + p[:100] + "*" + p[101:] + "." + sig, validator.ErrMalformed},
		{"malformed-segments", h + "." + p, validator.ErrMalformed},
		{"malformed-header", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256",`)) + "." + p + "." + sig, validator.ErrMalformed},
		{"alg-none", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + p + ".", validator.ErrAlgorithm},
		{"typ", fx.Sign(typ, nil), validator.ErrTokenType},
		{"oversized", fx.Sign(nil, big), validator.ErrMalformed},
		{"issuer", fx.Sign(nil, wrongIss), validator.ErrIssuer},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if _, err := v.Validate(ctx, c.token); !errors.Is(err, c.class) {
				b.Fatalf("want %v, got %v", c.class, err)
			}
			before := src.n.Load()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Validate(ctx, c.token); err == nil {
					b.Fatal("accepted")
				}
			}
			if n := src.n.Load() - before; n != 0 {
				b.Fatalf("%d key lookups: the rejection came after signature work", n)
			}
		})
	}
}

type glueKey struct{}

// BenchmarkGlue measures pieces of a middleware round trip, to tell how
// much of the glue is what: the recorder and a bare handler (the harness's
// own floor), and the request clone go-jwt-middleware's CheckJWT makes to
// put the claims into the context.
func BenchmarkGlue(b *testing.B) {
	req := newRequest(getSuite(b, "RS256").fx.Token)
	b.Run("Recorder", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
		b.ReportAllocs()
		for b.Loop() {
			if err := roundTrip(h, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	// CheckJWT's glue alone: its validator is replaced by one that returns
	// prebuilt claims, so the round trip costs only what wraps the
	// validator. Differences of full round trips say the same with the
	// noise of two signature checks.
	gjmClaims := &gjmvalidator.ValidatedClaims{
		RegisteredClaims: gjmvalidator.RegisteredClaims{Subject: "auth0|6543210fedcba9876543210f"},
		CustomClaims:     &fixture.GoJWTMiddlewareClaims{},
	}
	gjm := jwtmiddleware.New(func(context.Context, string) (any, error) { return gjmClaims, nil }).
		CheckJWT(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*gjmvalidator.ValidatedClaims); !ok {
				http.Error(w, "no claims", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
	b.Run("GoJWTMiddlewareCheckJWT", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := roundTrip(gjm, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	if h := apiguardGlue(); h != nil {
		b.Run("ApiguardMiddleware", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := roundTrip(h, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("RequestClone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := req.Clone(context.WithValue(req.Context(), glueKey{}, req))
			if r == req {
				b.Fatal("no clone")
			}
		}
	})
}

// segments splits a token into its three encoded segments.
func segments(token string) (header, payload, signature string) {
	parts := append(strings.SplitN(token, ".", 3), "", "")
	return parts[0], parts[1], parts[2]
}
