package validator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Unit tests of the key source's pure parts (package-internal).

func ecKey(t testing.TB, kid string) *Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return &Key{ID: kid, Algorithm: "ES256", Public: &priv.PublicKey}
}

// A warm lookup is an atomic load and a map lookup: no allocation.
func TestKeysWarmLookupDoesNotAllocate(t *testing.T) {
	set, err := NewKeySet(ecKey(t, "k1"), ecKey(t, "k2"))
	require.NoError(t, err)
	r := &RemoteKeySet{}
	r.snap.Store(&keySnap{set: set, fetched: time.Now()})
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.Key(ctx, "k2", "ES256"); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
	// Final answers from a warm set do not allocate either.
	allocs = testing.AllocsPerRun(1000, func() {
		if _, err := r.Key(ctx, "k2", "RS256"); err != errKeyMismatch {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func BenchmarkKeysWarmLookup(b *testing.B) {
	set, err := NewKeySet(ecKey(b, "k1"), ecKey(b, "k2"))
	require.NoError(b, err)
	r := &RemoteKeySet{}
	r.snap.Store(&keySnap{set: set, fetched: time.Now()})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Key(ctx, "k2", "ES256"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A refresh that returns an unchanged key keeps its *Key, so the
// verified-token cache (which compares keys by pointer) stays warm; a
// changed key under the same kid is a new *Key.
func TestKeysCarryOverKeepsIdentity(t *testing.T) {
	k1, k2 := ecKey(t, "k1"), ecKey(t, "k2")
	prev, err := NewKeySet(k1, k2)
	require.NoError(t, err)
	same := *k1
	replaced := ecKey(t, "k2")
	k3 := ecKey(t, "k3")
	next, err := NewKeySet(&same, replaced, k3)
	require.NoError(t, err)

	got := carryOver(next, prev)
	assert.Same(t, k1, got.byID["k1"], "unchanged key keeps its identity")
	assert.Same(t, replaced, got.byID["k2"], "a changed key is new")
	assert.Same(t, k3, got.byID["k3"])
	added, removed := diffKids(prev, got)
	assert.Equal(t, []string{`"k2"`, `"k3"`}, added)
	assert.Equal(t, []string{`"k2"`}, removed)
	assert.Same(t, next, carryOver(next, nil))
}

func TestKeysCacheControl(t *testing.T) {
	const interval = 15 * time.Minute
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", interval},
		{"public", interval},
		{"max-age=300", 5 * time.Minute},
		{"public, max-age=15, stale-while-revalidate=15, stale-if-error=86400", MinCacheControlInterval}, // Auth0
		{"max-age=0", MinCacheControlInterval},
		{"no-cache", MinCacheControlInterval},
		{"no-store, max-age=600", MinCacheControlInterval},
		{"Max-Age=120", 2 * time.Minute},
		{`max-age="120"`, 2 * time.Minute},
		{"max-age=86400", interval},
		{"max-age=99999999999999999999", interval},
		{"max-age=-5", interval},
		{"max-age=abc", interval},
		{"s-maxage=60", interval},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Cache-Control", tt.header)
			}
			assert.Equal(t, tt.want, refreshAfter(h, interval))
		})
	}
	// A configured interval below the floor is not raised by the header.
	h := http.Header{"Cache-Control": {"max-age=0"}}
	assert.Equal(t, 50*time.Millisecond, refreshAfter(h, 50*time.Millisecond))
}

func TestKeysJitter(t *testing.T) {
	const d = time.Minute
	seen := map[bool]bool{}
	for range 1000 {
		j := jitter(d)
		require.GreaterOrEqual(t, j, d-d/10)
		require.LessOrEqual(t, j, d+d/10)
		seen[j > d] = true
	}
	assert.Len(t, seen, 2, "spread on both sides")
	assert.Equal(t, time.Duration(0), jitter(0))
}

func TestKeysRetryBackoff(t *testing.T) {
	o := &RemoteKeySet{retryInterval: time.Second, refreshInterval: 15 * time.Minute}
	var got []time.Duration
	for n := 1; n <= 9; n++ {
		got = append(got, o.retryAfter(n))
	}
	s := func(n int) time.Duration { return time.Duration(n) * time.Second }
	assert.Equal(t, []time.Duration{s(1), s(2), s(4), s(8), s(16), s(32), s(60), s(60), s(60)}, got)
	assert.Equal(t, 100*time.Millisecond, (&RemoteKeySet{retryInterval: 20 * time.Millisecond, refreshInterval: 100 * time.Millisecond}).retryAfter(10),
		"capped by RefreshInterval")
	assert.Equal(t, 5*time.Minute, (&RemoteKeySet{retryInterval: 5 * time.Minute, refreshInterval: time.Hour}).retryAfter(3),
		"a RetryInterval above MaxRetryDelay is kept")
}

func TestKeysQuoteKid(t *testing.T) {
	assert.Equal(t, `"k1"`, quoteKid("k1"))
	assert.Equal(t, `"a\nb\x00\"\u202e"`, quoteKid("a\nb\x00\"\u202e"))
	long := strings.Repeat("x", 300)
	assert.Equal(t, strconv.Quote(long[:64])+"...", quoteKid(long))
	// Cutting inside a UTF-8 sequence leaves an escaped byte, not a broken string.
	cut := quoteKid(strings.Repeat("a", 63) + "é")
	assert.True(t, strings.HasSuffix(cut, `\xc3"...`), cut)
}

func TestKeysCheckFetchURL(t *testing.T) {
	ok := []string{
		"https://tenant.auth0.com/.well-known/jwks.json",
		"https://tenant.auth0.com:8443/jwks",
		"http://127.0.0.1:8080/jwks",
		"http://127.5.6.7/jwks",
		"http://[::1]:8080/jwks",
		"http://localhost:3000/",
		"http://LOCALHOST/",
	}
	bad := []string{
		"http://tenant.auth0.com/jwks",
		"http://10.0.0.1/jwks",
		"http://localhost.evil.example/jwks",
		"http://127.0.0.1.nip.io/jwks",
		"ftp://tenant.auth0.com/jwks",
		"//tenant.auth0.com/jwks",
		"/jwks",
		"https://user:secret@tenant.auth0.com/jwks",
		"https://%zz",
	}
	for _, u := range ok {
		assert.NoError(t, checkFetchURL(u), u)
	}
	for _, u := range bad {
		err := checkFetchURL(u)
		if assert.Error(t, err, u) {
			assert.NotContains(t, err.Error(), "secret")
		}
	}
}

func TestKeysCheckRedirect(t *testing.T) {
	req := func(u string) *http.Request {
		p, err := url.Parse(u)
		require.NoError(t, err)
		return &http.Request{URL: p}
	}
	from := []*http.Request{req("https://tenant.auth0.com/jwks")}
	assert.NoError(t, checkRedirect(req("https://tenant.auth0.com/v2/jwks"), from))
	assert.NoError(t, checkRedirect(req("https://TENANT.auth0.com/v2/jwks"), from))
	assert.Error(t, checkRedirect(req("https://cdn.auth0.com/jwks"), from))
	assert.Error(t, checkRedirect(req("http://tenant.auth0.com/jwks"), from))
	assert.Error(t, checkRedirect(req("https://tenant.auth0.com:8443/jwks"), from), "another port is another origin")
	loop := []*http.Request{req("http://127.0.0.1:1/a")}
	assert.NoError(t, checkRedirect(req("http://127.0.0.1:1/b"), loop))
	assert.NoError(t, checkRedirect(req("http://127.0.0.1:1/b"), append(loop, loop[0], loop[0])), "a third redirect")
	assert.Error(t, checkRedirect(req("http://127.0.0.1:1/b"), append(loop, loop[0], loop[0], loop[0])), "a fourth redirect")
}

// The ROCA masks are computed, not copied: check them against the first
// fingerprints published with the paper's detection tool.
func TestKeysROCAMasks(t *testing.T) {
	published := []uint64{6, 30, 126, 1026, 5658, 107286, 199410, 8388606, 536870910, 2147483646, 67109890}
	masks := rocaMasks()
	for i, want := range published {
		assert.Equal(t, want, masks[i][0], "prime %d", rocaPrimes[i])
	}
	// Generated keys do not have the fingerprint.
	for range 3 {
		n, err := rand.Prime(rand.Reader, 1024)
		require.NoError(t, err)
		n.Mul(n, big.NewInt(65537))
		assert.False(t, hasROCAFingerprint(n))
	}
}

func TestKeysErrorsAreClassified(t *testing.T) {
	for _, err := range []error{errKeysNotLoaded, errKeysClosed} {
		assert.True(t, errors.Is(err, ErrKeysUnavailable))
		assert.False(t, errors.Is(err, ErrInvalidToken))
	}
}
