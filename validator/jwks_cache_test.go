package validator_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// Cold start: New returns at once with StartWithoutKeys, and 50
// concurrent first requests share the one fetch in flight: all accepted,
// one JWKS request (keyfunc/v3: 1 accepted, 49 rejected).
func TestKeysColdStartSingleFlight(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	iss.SetFault(testkit.FaultSlow(200 * time.Millisecond))
	cfg := keysConfig(iss, nil)
	cfg.StartWithoutKeys = true
	v := newKeysValidator(t, cfg)
	err := v.Ready(context.Background())
	require.ErrorIs(t, err, validator.ErrKeysUnavailable, "New must not wait for the slow issuer")

	errs := validateConcurrently(v, slices.Repeat([]string{iss.Mint()}, 50), 50)
	for i, err := range errs {
		require.NoError(t, err, "request %d", i)
	}
	assert.Equal(t, 1, iss.JWKSRequests(), "one fetch for 50 concurrent first requests")
	assert.NoError(t, v.Ready(context.Background()))
}

// Without StartWithoutKeys, New fails fast, within FetchTimeout, whatever
// the fault, and its error is ErrKeysUnavailable.
func TestKeysStartFailsFast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault    testkit.Fault
		requests int
	}{
		{testkit.FaultDown, 0},
		{testkit.FaultReset, 1},
		{testkit.FaultRefuse, 1},
		{testkit.FaultStatus(404), 1},
		{testkit.FaultSlow(time.Minute), 1},
		{testkit.FaultGarbage, 1},
		{testkit.FaultEmptySet, 1},
		{testkit.FaultHugeBody, 1},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			t.Parallel()
			iss := newES256Issuer(t, "k1")
			iss.SetFault(tt.fault)
			cfg := keysConfig(iss, nil)
			cfg.FetchTimeout = 300 * time.Millisecond
			start := time.Now()
			v, err := newKeys(context.Background(), cfg)
			elapsed := time.Since(start)
			require.Error(t, err)
			assert.Nil(t, v)
			assert.ErrorIs(t, err, validator.ErrKeysUnavailable)
			assert.Less(t, elapsed, cfg.FetchTimeout+3*time.Second, "New blocks at most about FetchTimeout")
			assert.Equal(t, tt.requests, iss.JWKSRequests())
		})
	}
}

// New's context bounds the first load too.
func TestKeysStartHonoursContext(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	iss.SetFault(testkit.FaultSlow(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := newKeys(ctx, keysConfig(iss, nil))
	require.ErrorIs(t, err, validator.ErrKeysUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, iss.JWKSRequests())
}

// Issuer down at start, then back: requests get ErrKeysUnavailable (not
// ErrInvalidToken: the middleware answers 503), background retries go on
// without traffic, and the keys load once the issuer is back, with no
// restart.
func TestKeysIssuerDownAtStartThenBack(t *testing.T) {
	t.Parallel()
	for _, fault := range []testkit.Fault{testkit.FaultDown, testkit.FaultRefuse, testkit.FaultGarbage} {
		t.Run(fault.String(), func(t *testing.T) {
			t.Parallel()
			iss := newES256Issuer(t, "k1")
			iss.SetFault(fault)
			logs := &keysLog{}
			cfg := keysConfig(iss, logs)
			cfg.StartWithoutKeys = true
			v := newKeysValidator(t, cfg)
			token := iss.Mint()

			_, err := v.Validate(context.Background(), token)
			require.ErrorIs(t, err, validator.ErrKeysUnavailable)
			assert.NotErrorIs(t, err, validator.ErrInvalidToken)
			assert.ErrorIs(t, v.Ready(context.Background()), validator.ErrKeysUnavailable)
			require.Eventually(t, func() bool { return logs.count(slog.LevelWarn, "key refresh failed") >= 3 },
				keysWait, 5*time.Millisecond, "the source retries in the background")
			down := iss.JWKSRequests()

			iss.SetFault(testkit.NoFault)
			require.Eventually(t, func() bool { return v.Ready(context.Background()) == nil },
				keysWait, 5*time.Millisecond, "keys load without traffic once the issuer is back")
			_, err = v.Validate(context.Background(), token)
			require.NoError(t, err)
			assert.Equal(t, down+1, iss.JWKSRequests(), "one fetch once back, none per request")
			if fault == testkit.FaultDown {
				assert.Equal(t, 0, down, "a refused connection never reaches the issuer")
			} else {
				assert.GreaterOrEqual(t, down, 3)
			}
		})
	}
}

// An outage after warm-up, in any of its forms, keeps the cached keys in
// use: a failed refresh (an empty set included) never replaces them.
func TestKeysOutageAfterWarmUpKeepsKeys(t *testing.T) {
	t.Parallel()
	encOnly := testkit.GenerateKey("enc", "ES256").JWK()
	encOnly["use"] = "enc"
	tests := []struct {
		name  string
		fault testkit.Fault
		jwks  any // served instead of a fault, when set
	}{
		{name: "down", fault: testkit.FaultDown},
		{name: "reset", fault: testkit.FaultReset},
		{name: "refuse", fault: testkit.FaultRefuse},
		{name: "status-500", fault: testkit.FaultStatus(500)},
		{name: "slow", fault: testkit.FaultSlow(time.Minute)},
		{name: "garbage", fault: testkit.FaultGarbage},
		{name: "empty-set", fault: testkit.FaultEmptySet},
		{name: "huge-body", fault: testkit.FaultHugeBody},
		{name: "no-usable-key", jwks: map[string]any{"keys": []any{encOnly}}},
		{name: "not-a-jwks", jwks: map[string]any{"issuer": "x"}},
		{name: "keys-null", jwks: map[string]any{"keys": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := newES256Issuer(t, "k1")
			logs := &keysLog{}
			cfg := keysConfig(iss, logs)
			cfg.RefreshInterval = 50 * time.Millisecond
			cfg.FetchTimeout = 300 * time.Millisecond
			v := newKeysValidator(t, cfg)
			token := iss.Mint()
			_, err := v.Validate(context.Background(), token)
			require.NoError(t, err)
			require.Equal(t, 1, iss.JWKSRequests())

			if tt.jwks != nil {
				iss.SetJWKS(keysJSON(t, tt.jwks))
			} else {
				iss.SetFault(tt.fault)
			}
			require.Eventually(t, func() bool { return logs.count(slog.LevelWarn, "key refresh failed") >= 2 },
				keysWait, 5*time.Millisecond)
			_, err = v.Validate(context.Background(), token)
			assert.NoError(t, err, "cached keys keep working")
			assert.NoError(t, v.Ready(context.Background()))
			if tt.fault == testkit.FaultDown {
				assert.Equal(t, 1, iss.JWKSRequests())
			} else {
				assert.GreaterOrEqual(t, iss.JWKSRequests(), 3, "the failed refreshes reached the issuer")
			}
		})
	}
}

// Cached keys are used for at most MaxStaleness while refreshes fail;
// then tokens get ErrKeysUnavailable and Ready fails, until the issuer is
// back.
func TestKeysMaxStaleness(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	logs := &keysLog{}
	cfg := keysConfig(iss, logs)
	cfg.RefreshInterval = 50 * time.Millisecond
	cfg.MaxStaleness = 300 * time.Millisecond
	v := newKeysValidator(t, cfg)
	token := iss.Mint()
	_, err := v.Validate(context.Background(), token)
	require.NoError(t, err)

	iss.SetFault(testkit.FaultRefuse)
	require.Eventually(t, func() bool {
		_, err := v.Validate(context.Background(), token)
		return errors.Is(err, validator.ErrKeysUnavailable)
	}, keysWait, 10*time.Millisecond)
	assert.ErrorIs(t, v.Ready(context.Background()), validator.ErrKeysUnavailable)
	assert.Equal(t, 1, logs.count(slog.LevelError, "signing keys dropped"))

	iss.SetFault(testkit.NoFault)
	require.Eventually(t, func() bool { return v.Ready(context.Background()) == nil }, keysWait, 10*time.Millisecond)
	_, err = v.Validate(context.Background(), token)
	assert.NoError(t, err)
}

// The background refresher picks up a rotation even while an attacker
// keeps the unknown-kid budget spent: no miss-triggered fetch is needed.
func TestKeysRotationByBackgroundRefreshUnderAttack(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	logs := &keysLog{}
	cfg := keysConfig(iss, logs)
	cfg.RefreshInterval = 100 * time.Millisecond
	v := newKeysValidator(t, cfg) // UnknownKIDCooldown: 1 h

	_, err := v.Validate(context.Background(), tokenWithKid(iss, "ES256", "attacker-1"))
	require.ErrorIs(t, err, validator.ErrUnknownKey)
	require.Equal(t, 1, logs.count(slog.LevelDebug, "refreshing keys for an unknown kid"))

	iss.Rotate(testkit.GenerateKey("k2", "ES256"))
	rotated := iss.Mint()
	require.Eventually(t, func() bool {
		_, err := v.Validate(context.Background(), rotated)
		return err == nil
	}, keysWait, 10*time.Millisecond)
	assert.Equal(t, 1, logs.count(slog.LevelDebug, "refreshing keys for an unknown kid"),
		"the rotation came from the background refresh")
	assert.GreaterOrEqual(t, iss.JWKSRequests(), 3)
}

// A key the issuer removes stops verifying after the next refresh.
func TestKeysRemovedKeyStopsVerifying(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	cfg := keysConfig(iss, nil)
	cfg.RefreshInterval = 50 * time.Millisecond
	v := newKeysValidator(t, cfg)
	old := iss.Mint()
	_, err := v.Validate(context.Background(), old)
	require.NoError(t, err)

	k2 := testkit.GenerateKey("k2", "ES256")
	iss.Rotate(k2)
	iss.SetKeys(k2)
	require.Eventually(t, func() bool {
		_, err := v.Validate(context.Background(), old)
		return errors.Is(err, validator.ErrUnknownKey)
	}, keysWait, 10*time.Millisecond)
	_, err = v.Validate(context.Background(), iss.Mint())
	assert.NoError(t, err)
}

// Concurrent requests for the same new kid share one fetch.
func TestKeysUnknownKidSingleFlight(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	v := newKeysValidator(t, keysConfig(iss, nil))
	require.Equal(t, 1, iss.JWKSRequests())

	iss.Rotate(testkit.GenerateKey("k2", "ES256"))
	iss.SetFault(testkit.FaultSlow(200 * time.Millisecond))
	errs := validateConcurrently(v, slices.Repeat([]string{iss.Mint()}, 50), 50)
	for i, err := range errs {
		require.NoError(t, err, "request %d", i)
	}
	assert.Equal(t, 2, iss.JWKSRequests())
}

// A request never waits for a key fetch longer than MaxKeyWait or its own
// context; the fetch goes on and serves later requests.
func TestKeysRequestWaitIsBounded(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	cfg := keysConfig(iss, nil)
	cfg.MaxKeyWait = 100 * time.Millisecond
	cfg.FetchTimeout = 10 * time.Second
	v := newKeysValidator(t, cfg)
	iss.SetFault(testkit.FaultSlow(time.Minute))

	start := time.Now()
	_, err := v.Validate(context.Background(), tokenWithKid(iss, "ES256", "new-1"))
	assert.ErrorIs(t, err, validator.ErrUnknownKey)
	assert.Less(t, time.Since(start), 3*time.Second, "bounded by MaxKeyWait")

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = v.Validate(ctx, tokenWithKid(iss, "ES256", "new-2"))
	assert.ErrorIs(t, err, validator.ErrUnknownKey)
	assert.Less(t, time.Since(start), 3*time.Second, "bounded by the request's context")
	assert.Equal(t, 2, iss.JWKSRequests(), "the second request joined the fetch in flight")
}

// Cache-Control can shorten the refresh interval, never lengthen it: a
// max-age of a day does not stop refreshes every RefreshInterval.
func TestKeysCacheControlCannotStretchInterval(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	iss.SetCacheControl("public, max-age=86400")
	cfg := keysConfig(iss, nil)
	cfg.RefreshInterval = 50 * time.Millisecond
	newKeysValidator(t, cfg)
	require.Eventually(t, func() bool { return iss.JWKSRequests() >= 4 }, keysWait, 10*time.Millisecond)
}
