package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator/validatortest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	algs      = `algs="ES256 ES384 ES512 PS256 RS256 EdDSA"`
	dpopBare  = `DPoP realm="api", ` + algs
	bothBare  = `Bearer realm="api", ` + dpopBare
	subject   = "auth0|test-user"
	dpopNonce = "Dpop-Nonce"
)

// One client key for the package: its proofs are fresh per request.
var (
	dpopKeyOnce sync.Once
	dpopKey     *dpoptest.Key
)

func clientKey() *dpoptest.Key {
	dpopKeyOnce.Do(func() { dpopKey = dpoptest.GenerateKey("ES256") })
	return dpopKey
}

// seen is what the handler behind the middleware saw.
type seen struct {
	Sub        string `json:"sub"`
	Thumbprint string `json:"jkt"`
	HasProof   bool   `json:"has_proof"`
}

// dpopWhoami answers 200 with the subject and the proof's thumbprint.
var dpopWhoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	var s seen
	s.Sub = "anonymous"
	if c, ok := claims.FromContext(r.Context()); ok {
		s.Sub = c.Subject
	}
	s.Thumbprint, s.HasProof = middleware.DPoPThumbprint(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s)
})

// wwwAll joins the WWW-Authenticate fields with ", ", the form of one
// field holding them all.
func wwwAll(h http.Header) string { return strings.Join(h.Values("WWW-Authenticate"), ", ") }

// verifier returns a dpop.Verifier for cfg.
func verifier(t testing.TB, cfg dpop.Config) *dpop.Verifier {
	t.Helper()
	v, err := dpop.NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

// dpopServers starts one server per mode, each with its own verifier, all
// with v (each test calls fixture once: its issuer and validator go
// together).
func dpopServers(t testing.TB, v middleware.TokenValidator, opts ...middleware.Option) map[middleware.DPoPMode]*httptest.Server {
	t.Helper()
	out := map[middleware.DPoPMode]*httptest.Server{}
	for _, m := range []middleware.DPoPMode{middleware.DPoPOff, middleware.DPoPAllowed, middleware.DPoPRequired} {
		out[m] = serve(t, v, dpopWhoami, append([]middleware.Option{middleware.WithDPoP(nil, m)}, opts...)...)
	}
	return out
}

// send sends req and returns the answer.
func send(t testing.TB, req *http.Request) response {
	t.Helper()
	return do(t, req.Method, req.URL.String(), req.Header["Authorization"], req.Header)
}

// dpopRequest builds a GET to url carrying token with the DPoP scheme and
// a proof of k for it, changed by opts.
func dpopRequest(t testing.TB, url, token string, k *dpoptest.Key, opts ...dpoptest.Option) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	k.Authorize(req, token, opts...)
	return req
}

func seenBy(t testing.TB, res response) seen {
	t.Helper()
	require.Equal(t, 200, res.Status, res.Dump)
	var s seen
	require.NoError(t, json.Unmarshal([]byte(res.Body), &s))
	return s
}

// TestDPoPBoundTokenNeverBearer (RFC 9449 section 7.2): a token with
// cnf.jkt sent with the Bearer scheme is refused 401 invalid_token in
// every mode, also with no DPoP option at all.
func TestDPoPBoundTokenNeverBearer(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	bound := iss.Mint(k.Bind())
	servers := dpopServers(t, v)
	plain := serve(t, v, dpopWhoami)
	query := serve(t, v, dpopWhoami, middleware.WithQueryToken(""), middleware.WithDPoP(nil, middleware.DPoPAllowed))

	for _, tt := range []struct {
		name string
		url  string
		www  string
	}{
		{"no DPoP option", plain.URL, `Bearer realm="api", error="invalid_token", error_description="bound token sent with the Bearer scheme"`},
		{"off", servers[middleware.DPoPOff].URL, `Bearer realm="api", error="invalid_token", error_description="bound token sent with the Bearer scheme"`},
		{"allowed", servers[middleware.DPoPAllowed].URL, `Bearer realm="api", error="invalid_token", error_description="bound token sent with the Bearer scheme", ` + dpopBare},
		{"required", servers[middleware.DPoPRequired].URL, `DPoP realm="api", error="invalid_token", error_description="the DPoP scheme is required", ` + algs},
	} {
		res := do(t, http.MethodGet, tt.url, []string{"Bearer " + bound}, nil)
		assert.Equal(t, 401, res.Status, tt.name)
		assert.Equal(t, tt.www, wwwAll(res.Header), tt.name)
		requireNoLeak(t, res.Dump, bound)
	}
	// The query method is Bearer too.
	res := do(t, http.MethodGet, query.URL+"/?access_token="+bound, nil, nil)
	assert.Equal(t, 401, res.Status)
	assert.Contains(t, wwwAll(res.Header), `Bearer realm="api", error="invalid_token"`)
}

// TestDPoPAccepted: a bound token with the DPoP scheme and a valid proof
// passes in the allowed and required modes; the handler finds the claims
// and the proof key's thumbprint. A plain token with Bearer passes in the
// allowed mode, without a thumbprint.
func TestDPoPAccepted(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	servers := dpopServers(t, v)
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		k := dpoptest.GenerateKey(alg)
		bound := iss.Mint(k.Bind())
		for _, m := range []middleware.DPoPMode{middleware.DPoPAllowed, middleware.DPoPRequired} {
			res := send(t, dpopRequest(t, servers[m].URL+"/api/private?a=1", bound, k))
			s := seenBy(t, res)
			assert.Equal(t, subject, s.Sub, alg)
			assert.True(t, s.HasProof, alg)
			assert.Equal(t, k.Thumbprint(), s.Thumbprint, alg)
			assert.Empty(t, res.Header.Get(dpopNonce), "no nonce unless configured")
		}
	}
	res := do(t, http.MethodGet, servers[middleware.DPoPAllowed].URL, []string{"Bearer " + iss.Mint()}, nil)
	s := seenBy(t, res)
	assert.Equal(t, subject, s.Sub)
	assert.False(t, s.HasProof)
	assert.Empty(t, s.Thumbprint)
}

// TestDPoPOffIgnoresScheme: with DPoP off, the DPoP scheme counts as no
// credentials, and a DPoP header beside a plain Bearer token is ignored.
func TestDPoPOffIgnoresScheme(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	srv := dpopServers(t, v)[middleware.DPoPOff]
	res := send(t, dpopRequest(t, srv.URL, iss.Mint(k.Bind()), k))
	assert.Equal(t, 401, res.Status)
	assert.Equal(t, `Bearer realm="api"`, wwwAll(res.Header))

	plain := iss.Mint()
	res = do(t, http.MethodGet, srv.URL, []string{"Bearer " + plain}, http.Header{"Dpop": {k.Proof("GET", srv.URL)}})
	assert.Equal(t, subject, seenBy(t, res).Sub)
}

// TestDPoPUnboundTokenWithDPoPScheme: the DPoP scheme with a token that
// has no cnf.jkt is 401 invalid_token, in the DPoP scheme, even with an
// otherwise valid proof.
func TestDPoPUnboundTokenWithDPoPScheme(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	plain := iss.Mint()
	servers := dpopServers(t, v)
	for m, www := range map[middleware.DPoPMode]string{
		middleware.DPoPAllowed:  `DPoP realm="api", error="invalid_token", error_description="token is not DPoP-bound", ` + algs + `, Bearer realm="api"`,
		middleware.DPoPRequired: `DPoP realm="api", error="invalid_token", error_description="token is not DPoP-bound", ` + algs,
	} {
		res := send(t, dpopRequest(t, servers[m].URL, plain, k))
		assert.Equal(t, 401, res.Status, m)
		assert.Equal(t, www, wwwAll(res.Header), m)
		assert.JSONEq(t, `{"error":"invalid_token","error_description":"token is not DPoP-bound"}`, res.Body)
		requireNoLeak(t, res.Dump, plain)
	}
}

// TestDPoPRequiredRefusesBearer: in the required mode a Bearer request,
// valid token or not, gets 401 invalid_token with the DPoP challenge
// only.
func TestDPoPRequiredRefusesBearer(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	srv := dpopServers(t, v)[middleware.DPoPRequired]
	plain := iss.Mint()
	res := do(t, http.MethodGet, srv.URL, []string{"Bearer " + plain}, nil)
	assert.Equal(t, 401, res.Status)
	assert.Equal(t, `DPoP realm="api", error="invalid_token", error_description="the DPoP scheme is required", `+algs,
		wwwAll(res.Header))
	assert.Len(t, res.Header.Values("WWW-Authenticate"), 1)
	requireNoLeak(t, res.Dump, plain)
}

// TestDPoPChallenges (RFC 9449 sections 7.1, 7.2): a request without
// credentials gets the challenges of every scheme the mode accepts, in
// WWW-Authenticate fields of their own, each with the realm and
// resource_metadata.
func TestDPoPChallenges(t *testing.T) {
	t.Parallel()
	_, v := fixture(t)
	const meta = "https://api.example.com/.well-known/oauth-protected-resource"
	servers := dpopServers(t, v, middleware.WithResourceMetadata(meta), middleware.WithRealm("contacts"))
	rm := `resource_metadata="` + meta + `"`
	for m, www := range map[middleware.DPoPMode]string{
		middleware.DPoPOff:      `Bearer realm="contacts", ` + rm,
		middleware.DPoPAllowed:  `Bearer realm="contacts", ` + rm + `, DPoP realm="contacts", ` + algs + `, ` + rm,
		middleware.DPoPRequired: `DPoP realm="contacts", ` + algs + `, ` + rm,
	} {
		for _, auth := range [][]string{nil, {"Basic dXNlcjpwYXNz"}} {
			res := do(t, http.MethodGet, servers[m].URL, auth, nil)
			assert.Equal(t, 401, res.Status, m)
			assert.Equal(t, www, wwwAll(res.Header), m)
			// One field per challenge; the first is the one Header.Get
			// returns.
			want := 1
			if m == middleware.DPoPAllowed {
				want = 2
				assert.Equal(t, `Bearer realm="contacts", `+rm, res.Header.Get("WWW-Authenticate"))
			}
			assert.Len(t, res.Header.Values("WWW-Authenticate"), want, m)
			assert.Equal(t, "{}\n", res.Body)
		}
	}
	// A verifier's own algorithms are announced.
	srv := serve(t, v, dpopWhoami, middleware.WithDPoP(verifier(t, dpop.Config{Algorithms: []string{"EdDSA", "ES256"}}), middleware.DPoPRequired))
	res := do(t, http.MethodGet, srv.URL, nil, nil)
	assert.Equal(t, `DPoP realm="api", algs="EdDSA ES256"`, wwwAll(res.Header))
}

// TestDPoPErrorsInClientScheme: an error is reported in the challenge of
// the scheme the client used, first; a 401 adds the other accepted
// scheme's challenge; a 400 carries the client's scheme only.
func TestDPoPErrorsInClientScheme(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	expiredBound := iss.Mint(k.Bind(), validatortest.WithExpiry(time.Now().Add(-time.Hour)))
	expired := iss.Mint(validatortest.WithExpiry(time.Now().Add(-time.Hour)))
	allowed := dpopServers(t, v)[middleware.DPoPAllowed]

	res := send(t, dpopRequest(t, allowed.URL, expiredBound, k))
	assert.Equal(t, 401, res.Status)
	assert.Equal(t, `DPoP realm="api", error="invalid_token", error_description="token expired", `+algs+`, Bearer realm="api"`,
		wwwAll(res.Header))

	res = do(t, http.MethodGet, allowed.URL, []string{"Bearer " + expired}, nil)
	assert.Equal(t, 401, res.Status)
	assert.Equal(t, `Bearer realm="api", error="invalid_token", error_description="token expired", `+dpopBare,
		wwwAll(res.Header))

	for _, tt := range []struct{ auth, www string }{
		{"DPoP", `DPoP realm="api", error="invalid_request", error_description="empty DPoP token", ` + algs},
		{"dpop  a b", `DPoP realm="api", error="invalid_request", error_description="Authorization header has extra parts", ` + algs},
		{`DPoP "x"`, `DPoP realm="api", error="invalid_request", error_description="DPoP token has invalid characters", ` + algs},
		{"Bearer", `Bearer realm="api", error="invalid_request", error_description="empty bearer token"`},
	} {
		res := do(t, http.MethodGet, allowed.URL, []string{tt.auth}, nil)
		assert.Equal(t, 400, res.Status, tt.auth)
		assert.Equal(t, tt.www, wwwAll(res.Header), tt.auth)
	}
}

// TestDPoPInvalidRequests: two Authorization headers (Bearer and DPoP),
// a DPoP header with a Bearer token, and a DPoP token with a query token
// are 400 invalid_request.
func TestDPoPInvalidRequests(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	bound, plain := iss.Mint(k.Bind()), iss.Mint()
	servers := dpopServers(t, v)
	for _, m := range []middleware.DPoPMode{middleware.DPoPAllowed, middleware.DPoPRequired} {
		url := servers[m].URL + "/r"
		proof := k.Proof("GET", url, dpoptest.WithAccessToken(bound))
		for _, tt := range []struct {
			name   string
			auth   []string
			header http.Header
			path   string
			desc   string
		}{
			{"Bearer and DPoP headers", []string{"Bearer " + plain, "DPoP " + bound}, http.Header{"Dpop": {proof}}, "", "more than one Authorization header"},
			{"DPoP and Bearer headers", []string{"DPoP " + bound, "Bearer " + plain}, http.Header{"Dpop": {proof}}, "", "more than one Authorization header"},
			{"Bearer and DPoP in one header", []string{"Bearer " + plain + ", DPoP " + bound}, nil, "", "Authorization header has extra parts"},
			{"DPoP proof with a Bearer token", []string{"Bearer " + plain}, http.Header{"Dpop": {proof}}, "", "DPoP proof sent with a Bearer token"},
			{"DPoP proof with a bound Bearer token", []string{"Bearer " + bound}, http.Header{"Dpop": {proof}}, "", "DPoP proof sent with a Bearer token"},
			{"DPoP token and query token", []string{"DPoP " + bound}, http.Header{"Dpop": {proof}}, "?access_token=" + plain, "token sent by more than one method"},
		} {
			res := do(t, http.MethodGet, url+tt.path, tt.auth, tt.header)
			assert.Equal(t, 400, res.Status, "%v %s", m, tt.name)
			assert.Contains(t, wwwAll(res.Header), `error="invalid_request", error_description="`+tt.desc+`"`, "%v %s", m, tt.name)
			assert.JSONEq(t, `{"error":"invalid_request","error_description":"`+tt.desc+`"}`, res.Body, "%v %s", m, tt.name)
			requireNoLeak(t, res.Dump, bound)
			requireNoLeak(t, res.Dump, plain)
		}
	}
}

// TestDPoPProofRefused (RFC 9449 sections 4.3 and 7.1): every proof the
// verifier refuses is 401 invalid_dpop_proof in the DPoP challenge, with
// the verifier's reason, and the handler is not reached.
func TestDPoPProofRefused(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k, other := clientKey(), dpoptest.GenerateKey("ES256")
	bound := iss.Mint(k.Bind())
	var reached sync.Map
	srv := serve(t, v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Store(r.Header.Get("X-Case"), true)
	}), middleware.WithDPoP(nil, middleware.DPoPAllowed))
	url := srv.URL + "/api/private"

	for _, tt := range []struct {
		name   string
		proofs []string // nil: the header is not sent
		desc   string
	}{
		{"no DPoP header", nil, "no DPoP header"},
		{"two DPoP headers", []string{k.Proof("GET", url, dpoptest.WithAccessToken(bound)), k.Proof("GET", url, dpoptest.WithAccessToken(bound))}, "more than one DPoP header"},
		{"wrong method", []string{k.Proof("POST", url, dpoptest.WithAccessToken(bound))}, "proof htm does not match the request method"},
		{"wrong URL", []string{k.Proof("GET", srv.URL+"/api/other", dpoptest.WithAccessToken(bound))}, "proof htu does not match the request URL"},
		{"too old", []string{k.Proof("GET", url, dpoptest.WithAccessToken(bound), dpoptest.WithIssuedAt(time.Now().Add(-10*time.Minute)))}, "proof iat is too old"},
		{"no ath", []string{k.Proof("GET", url)}, "proof ath missing or not a string"},
		{"wrong ath", []string{k.Proof("GET", url, dpoptest.WithAccessToken(iss.Mint()))}, "proof ath does not match the access token"},
		{"other key", []string{other.Proof("GET", url, dpoptest.WithAccessToken(bound))}, "proof key does not match the access token's cnf.jkt"},
		{"foreign signature", []string{k.Proof("GET", url, dpoptest.WithAccessToken(bound), dpoptest.WithSigner(other))}, "proof signature does not verify"},
		{"typ JWT", []string{k.Proof("GET", url, dpoptest.WithAccessToken(bound), dpoptest.WithHeader("typ", "JWT"))}, "proof typ is not dpop+jwt"},
		{"symmetric jwk", []string{k.Proof("GET", url, dpoptest.WithAccessToken(bound), dpoptest.WithSymmetricJWK([]byte("0123456789abcdef0123456789abcdef")))}, "proof alg not allowed"},
		{"not a JWS", []string{"abc"}, "proof is not a compact JWS of three segments"},
	} {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "DPoP "+bound)
		req.Header.Set("X-Case", tt.name)
		req.Header["Dpop"] = tt.proofs
		res := send(t, req)
		assert.Equal(t, 401, res.Status, tt.name)
		assert.Equal(t, `DPoP realm="api", error="invalid_dpop_proof", error_description="`+tt.desc+`", `+algs+`, Bearer realm="api"`,
			wwwAll(res.Header), tt.name)
		assert.JSONEq(t, `{"error":"invalid_dpop_proof","error_description":"`+tt.desc+`"}`, res.Body, tt.name)
		requireNoLeak(t, res.Dump, bound)
		for _, p := range tt.proofs {
			requireNoLeak(t, res.Dump, p)
		}
		_, ok := reached.Load(tt.name)
		assert.False(t, ok, tt.name)
	}
}

// TestDPoPReplayRefused (RFC 9449 section 11.1): a proof is accepted once;
// sent again, to the same server, it is 401 invalid_dpop_proof.
func TestDPoPReplayRefused(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	bound := iss.Mint(k.Bind())
	srv := dpopServers(t, v)[middleware.DPoPRequired]
	req := dpopRequest(t, srv.URL+"/api/private", bound, k)
	assert.Equal(t, subject, seenBy(t, send(t, req)).Sub)
	res := send(t, req)
	assert.Equal(t, 401, res.Status)
	assert.Equal(t, `DPoP realm="api", error="invalid_dpop_proof", error_description="proof jti already used", `+algs,
		wwwAll(res.Header))
}

// TestDPoPNonce (RFC 9449 section 9): with server nonces, a proof without
// one gets 401 use_dpop_nonce and exactly one DPoP-Nonce header; the
// proof with that nonce passes, and the answer carries a nonce again.
func TestDPoPNonce(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	bound := iss.Mint(k.Bind())
	key := []byte("0123456789abcdef0123456789abcdef")
	srv := serve(t, v, dpopWhoami, middleware.WithDPoP(verifier(t, dpop.Config{NonceKeys: [][]byte{key}}), middleware.DPoPAllowed))
	url := srv.URL + "/api/private"

	res := send(t, dpopRequest(t, url, bound, k))
	assert.Equal(t, 401, res.Status)
	assert.Equal(t, `DPoP realm="api", error="use_dpop_nonce", error_description="proof has no nonce", `+algs+`, Bearer realm="api"`,
		wwwAll(res.Header))
	require.Len(t, res.Header.Values(dpopNonce), 1)
	nonce := res.Header.Get(dpopNonce)
	require.NotEmpty(t, nonce)

	res = send(t, dpopRequest(t, url, bound, k, dpoptest.WithNonce("stale")))
	assert.Equal(t, 401, res.Status)
	assert.Contains(t, wwwAll(res.Header), `error="use_dpop_nonce"`)
	assert.Len(t, res.Header.Values(dpopNonce), 1)

	res = send(t, dpopRequest(t, url, bound, k, dpoptest.WithNonce(nonce)))
	assert.Equal(t, subject, seenBy(t, res).Sub)
	assert.Len(t, res.Header.Values(dpopNonce), 1, "a fresh nonce rides on the answer")

	// Bearer requests are not affected.
	res = do(t, http.MethodGet, url, []string{"Bearer " + iss.Mint()}, nil)
	assert.Equal(t, subject, seenBy(t, res).Sub)
	assert.Empty(t, res.Header.Values(dpopNonce))
}

// brokenStore is a replay store whose backend is down, as a Redis server
// may be: every call fails.
type brokenStore struct{}

func (brokenStore) CheckAndSet(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("connection refused")
}

// TestDPoPReplayStoreDown: a replay store that fails refuses the request
// with 503 and Retry-After (fail closed), never 200; the hook sees
// dpop.ErrStoreUnavailable.
func TestDPoPReplayStoreDown(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	var got error
	srv := serve(t, v, dpopWhoami,
		middleware.WithDPoP(verifier(t, dpop.Config{ReplayStore: brokenStore{}}), middleware.DPoPAllowed),
		middleware.WithOnReject(func(_ *http.Request, f *middleware.Failure) { got = f.Err }))
	res := send(t, dpopRequest(t, srv.URL, iss.Mint(k.Bind()), k))
	assert.Equal(t, 503, res.Status)
	assert.Equal(t, "5", res.Header.Get("Retry-After"))
	assert.Empty(t, wwwAll(res.Header))
	assert.JSONEq(t, `{"error":"temporarily_unavailable","error_description":"DPoP replay store unavailable, retry later"}`, res.Body)
	assert.ErrorIs(t, got, dpop.ErrStoreUnavailable)

	// A full in-memory store fails closed too: one entry per shard, so
	// distinct proofs soon land on a full shard.
	full := serve(t, v, dpopWhoami, middleware.WithDPoP(verifier(t, dpop.Config{ReplayStore: dpop.NewMemoryStore(1)}), middleware.DPoPAllowed))
	bound := iss.Mint(k.Bind())
	statuses := map[int]int{}
	for range 64 {
		statuses[send(t, dpopRequest(t, full.URL, bound, k)).Status]++
	}
	assert.Equal(t, 64, statuses[200]+statuses[503], statuses)
	assert.Positive(t, statuses[503], statuses)
	assert.LessOrEqual(t, statuses[200], 32, statuses)
}

// TestDPoPOnReject: the hook sees the DPoP classes.
func TestDPoPOnReject(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	var (
		mu  sync.Mutex
		got *middleware.Failure
	)
	srv := serve(t, v, dpopWhoami, middleware.WithDPoP(nil, middleware.DPoPAllowed),
		middleware.WithOnReject(func(_ *http.Request, f *middleware.Failure) { mu.Lock(); got = f; mu.Unlock() }))
	bound := iss.Mint(k.Bind())
	for _, tt := range []struct {
		req   *http.Request
		code  string
		class error
	}{
		{dpopRequest(t, srv.URL, bound, k, dpoptest.WithHeader("typ", "JWT")), middleware.CodeInvalidDPoPProof, dpop.ErrInvalidProof},
		{dpopRequest(t, srv.URL, iss.Mint(), k), middleware.CodeInvalidToken, dpop.ErrUnboundToken},
	} {
		send(t, tt.req)
		mu.Lock()
		require.NotNil(t, got)
		assert.Equal(t, tt.code, got.Code)
		assert.ErrorIs(t, got, tt.class)
		assert.Equal(t, "DPoP", got.Scheme)
		got = nil
		mu.Unlock()
	}
	do(t, http.MethodGet, srv.URL, []string{"Bearer " + bound}, nil)
	mu.Lock()
	assert.ErrorIs(t, got, middleware.ErrBoundTokenAsBearer)
	mu.Unlock()
}

// TestDPoPRequestURL: the URL a proof must name is the request's own (from
// r.Host), not one a client claims in X-Forwarded-Host; behind a proxy,
// dpop.Config.PublicBaseURL names the public one.
func TestDPoPRequestURL(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	bound := iss.Mint(k.Bind())
	direct := dpopServers(t, v)[middleware.DPoPAllowed]
	proxied := serve(t, v, dpopWhoami, middleware.WithDPoP(
		verifier(t, dpop.Config{PublicBaseURL: "https://api.example.com/v1"}), middleware.DPoPAllowed))
	trusting := serve(t, v, dpopWhoami, middleware.WithDPoP(
		verifier(t, dpop.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}}), middleware.DPoPAllowed))

	publicProof := func(path string) http.Header {
		return http.Header{"Dpop": {k.Proof("GET", "https://api.example.com"+path, dpoptest.WithAccessToken(bound))}}
	}
	// Without configuration, forwarding headers are not trusted.
	h := publicProof("/r")
	h.Set("X-Forwarded-Proto", "https")
	h.Set("X-Forwarded-Host", "api.example.com")
	res := do(t, http.MethodGet, direct.URL+"/r", []string{"DPoP " + bound}, h)
	assert.Equal(t, 401, res.Status)
	assert.Contains(t, wwwAll(res.Header), "proof htu does not match the request URL")
	// From a trusted proxy they are.
	res = do(t, http.MethodGet, trusting.URL+"/r", []string{"DPoP " + bound}, h)
	assert.Equal(t, 200, res.Status, res.Dump)

	res = do(t, http.MethodGet, proxied.URL+"/r", []string{"DPoP " + bound}, publicProof("/v1/r"))
	assert.Equal(t, 200, res.Status, res.Dump)
	res = send(t, dpopRequest(t, proxied.URL+"/r", bound, k))
	assert.Equal(t, 401, res.Status)
	assert.True(t, strings.HasPrefix(wwwAll(res.Header), `DPoP realm="api", error="invalid_dpop_proof"`))
}

// TestWithDPoPUnknownMode: an unknown mode is a programming error.
func TestWithDPoPUnknownMode(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { middleware.WithDPoP(nil, middleware.DPoPMode(7)) })
	assert.Equal(t, "required", middleware.DPoPRequired.String())
}

// TestDPoPSharedStoreAcrossInstances: two API instances behind one public
// URL (a load balancer), each with its own verifier but one shared replay
// store, refuse a proof replayed from one to the other; with a store each,
// the replay passes, which is why replicas must share one (the Redis store
// in production).
func TestDPoPSharedStoreAcrossInstances(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	k := clientKey()
	bound := iss.Mint(k.Bind())
	instance := func(store dpop.ReplayStore) *httptest.Server {
		return serve(t, v, dpopWhoami, middleware.WithDPoP(
			verifier(t, dpop.Config{PublicBaseURL: "https://api.example.com", ReplayStore: store}), middleware.DPoPRequired))
	}
	header := func() http.Header {
		return http.Header{"Dpop": {k.Proof("GET", "https://api.example.com/r", dpoptest.WithAccessToken(bound))}}
	}

	shared := dpop.NewMemoryStore(0)
	a, b := instance(shared), instance(shared)
	h := header()
	assert.Equal(t, 200, do(t, http.MethodGet, a.URL+"/r", []string{"DPoP " + bound}, h).Status)
	res := do(t, http.MethodGet, b.URL+"/r", []string{"DPoP " + bound}, h)
	assert.Equal(t, 401, res.Status)
	assert.Contains(t, wwwAll(res.Header), `error_description="proof jti already used"`)

	a, b = instance(nil), instance(nil)
	h = header()
	assert.Equal(t, 200, do(t, http.MethodGet, a.URL+"/r", []string{"DPoP " + bound}, h).Status)
	assert.Equal(t, 200, do(t, http.MethodGet, b.URL+"/r", []string{"DPoP " + bound}, h).Status,
		"separate in-memory stores cannot see each other's proofs")
}
