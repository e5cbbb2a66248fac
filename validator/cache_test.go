package validator_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

const cacheIssuer = "https://tenant.example.com/"

func fixtureKey(t testing.TB, kid, alg, file string) *testkit.Key {
	t.Helper()
	data, err := os.ReadFile("../testdata/keys/" + file)
	require.NoError(t, err)
	k, err := testkit.ParseKeyPEM(kid, alg, data)
	require.NoError(t, err)
	return k
}

// swappableKeys is a KeySource whose key set a test replaces, standing in
// for an issuer that rotated a key out.
type swappableKeys struct {
	set atomic.Pointer[validator.KeySet]
}

func (s *swappableKeys) Key(ctx context.Context, kid, alg string) (*validator.Key, error) {
	return s.set.Load().Key(ctx, kid, alg)
}

type cacheFixture struct {
	key   *testkit.Key
	keys  *swappableKeys
	clock atomic.Pointer[time.Time]
	v     *validator.Validator
}

func newCacheFixture(t *testing.T, size int, ttl time.Duration) *cacheFixture {
	t.Helper()
	f := &cacheFixture{key: fixtureKey(t, "k1", "RS256", "rsa-2048.pem"), keys: &swappableKeys{}}
	set, err := validator.NewKeySet(f.key.Public())
	require.NoError(t, err)
	f.keys.set.Store(set)
	now := time.Now()
	f.clock.Store(&now)
	f.v, err = validator.New(context.Background(), validator.Config{
		Issuer:    cacheIssuer,
		Audiences: []string{testkit.DefaultAudience},
		Keys:      f.keys,
		CacheSize: size,
		CacheTTL:  ttl,
		Now:       func() time.Time { return *f.clock.Load() },
	})
	require.NoError(t, err)
	return f
}

func (f *cacheFixture) advance(d time.Duration) {
	now := f.clock.Load().Add(d)
	f.clock.Store(&now)
}

func (f *cacheFixture) mint(exp time.Duration, opts ...testkit.TokenOption) string {
	tok := &testkit.Token{
		Header: map[string]any{"alg": "RS256", "typ": "JWT", "kid": f.key.ID},
		Claims: testkit.DefaultClaims(cacheIssuer),
		Key:    f.key,
	}
	tok.Claims["iat"] = f.clock.Load().Unix()
	tok.Claims["exp"] = f.clock.Load().Add(exp).Unix()
	for _, o := range opts {
		o(tok)
	}
	return tok.Sign()
}

func TestCacheHitReturnsTheValidatedClaims(t *testing.T) {
	f := newCacheFixture(t, 100, time.Minute)
	token := f.mint(time.Hour)
	first, err := f.v.Validate(context.Background(), token)
	require.NoError(t, err)
	second, err := f.v.Validate(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, first, second, "a hit returns the cached claims instead of validating again")
	assert.NotSame(t, first, second, "each request gets its own copy (TestCachedClaimsAreNotShared)")
	assert.Equal(t, 1, f.v.CachedTokens())
}

func TestCacheRechecksTimeOnEveryHit(t *testing.T) {
	f := newCacheFixture(t, 100, time.Hour)
	token := f.mint(time.Minute)
	_, err := f.v.Validate(context.Background(), token)
	require.NoError(t, err)

	f.advance(time.Minute + validator.DefaultLeeway)
	_, err = f.v.Validate(context.Background(), token)
	assert.ErrorIs(t, err, validator.ErrExpired, "a cached token past exp and leeway is refused")
	assert.Equal(t, 0, f.v.CachedTokens(), "the expired entry is dropped")
}

func TestCacheEntryNeverOutlivesTTL(t *testing.T) {
	f := newCacheFixture(t, 100, time.Minute)
	token := f.mint(time.Hour)
	first, err := f.v.Validate(context.Background(), token)
	require.NoError(t, err)

	f.advance(time.Minute)
	second, err := f.v.Validate(context.Background(), token)
	require.NoError(t, err)
	assert.NotSame(t, first, second, "after the TTL the token is validated afresh")
}

func TestCacheDropsTokensWhoseKeyLeftTheSet(t *testing.T) {
	f := newCacheFixture(t, 100, time.Hour)
	token := f.mint(time.Hour)
	_, err := f.v.Validate(context.Background(), token)
	require.NoError(t, err)

	other := fixtureKey(t, "k2", "ES256", "ec-p256.pem")
	set, err := validator.NewKeySet(other.Public())
	require.NoError(t, err)
	f.keys.set.Store(set)

	_, err = f.v.Validate(context.Background(), token)
	assert.ErrorIs(t, err, validator.ErrUnknownKey)
	assert.Equal(t, 0, f.v.CachedTokens())
}

func TestCacheAdmitsOnlyValidTokens(t *testing.T) {
	f := newCacheFixture(t, 100, time.Hour)
	for name, token := range map[string]string{
		"bad signature":  f.mint(time.Hour, testkit.WithSignature([]byte("forged"))),
		"wrong audience": f.mint(time.Hour, testkit.WithAudience("https://other.example.com")),
		"expired":        f.mint(-time.Hour),
	} {
		for range 2 {
			_, err := f.v.Validate(context.Background(), token)
			assert.ErrorIs(t, err, validator.ErrInvalidToken, name)
		}
	}
	assert.Equal(t, 0, f.v.CachedTokens())
}

func TestCacheIsBoundedUnderAFloodOfDistinctTokens(t *testing.T) {
	for _, size := range []int{1, 5, 64} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			f := newCacheFixture(t, size, time.Hour)
			for i := range 300 {
				_, err := f.v.Validate(context.Background(), f.mint(time.Hour, testkit.WithClaim("jti", fmt.Sprint(i))))
				require.NoError(t, err)
			}
			assert.LessOrEqual(t, f.v.CachedTokens(), size)
			assert.Positive(t, f.v.CachedTokens())
		})
	}
}

func TestCacheConcurrentHits(t *testing.T) {
	// 256 entries: 8 per shard, so no eviction, whichever shards the 8
	// tokens hash to (with 100, a shard holds 3 and the count was flaky).
	f := newCacheFixture(t, 256, time.Hour)
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = f.mint(time.Hour, testkit.WithClaim("jti", fmt.Sprint(i)))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				c, err := f.v.Validate(context.Background(), tokens[(g+i)%len(tokens)])
				if assert.NoError(t, err) {
					assert.Equal(t, fmt.Sprint((g+i)%len(tokens)), c.ID)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, len(tokens), f.v.CachedTokens())
}

// A KeySource of the user's is not trusted to apply the key policy: the
// validator refuses a weak key or a missing one itself.
func TestValidateDoesNotTrustCustomKeySources(t *testing.T) {
	weak := fixtureKey(t, "weak", "RS256", "rsa-1024-weak.pem")
	for name, tc := range map[string]struct {
		key  *validator.Key
		want error
	}{
		"1024-bit RSA key": {weak.Public(), validator.ErrSignature},
		"no key, no error": {nil, validator.ErrUnknownKey},
	} {
		t.Run(name, func(t *testing.T) {
			v, err := validator.New(context.Background(), validator.Config{
				Issuer:    cacheIssuer,
				Audiences: []string{testkit.DefaultAudience},
				Keys:      fixedKey{tc.key},
			})
			require.NoError(t, err)
			tok := &testkit.Token{
				Header: map[string]any{"alg": "RS256", "typ": "JWT", "kid": "weak"},
				Claims: testkit.DefaultClaims(cacheIssuer),
				Key:    weak,
			}
			_, err = v.Validate(context.Background(), tok.Sign())
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

type fixedKey struct{ k *validator.Key }

func (f fixedKey) Key(context.Context, string, string) (*validator.Key, error) { return f.k, nil }
