package validator_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// 1000 random kids: all rejected with ErrUnknownKey (a 401, not a 503),
// for one JWKS fetch in the cool-down.
func TestKeysUnknownKidFlood(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	v := newKeysValidator(t, keysConfig(iss, nil)) // UnknownKIDCooldown: 1 h
	require.Equal(t, 1, iss.JWKSRequests())

	var tokens []string
	for _, kid := range randomKids(1000) {
		tokens = append(tokens, tokenWithKid(iss, "ES256", kid))
	}
	for i, err := range validateConcurrently(v, tokens, 50) {
		require.ErrorIs(t, err, validator.ErrUnknownKey, "token %d", i)
		require.NotErrorIs(t, err, validator.ErrKeysUnavailable)
	}
	assert.Equal(t, 2, iss.JWKSRequests(), "one fetch for the whole flood")

	_, err := v.Validate(context.Background(), iss.Mint())
	assert.NoError(t, err, "real tokens still pass")
	assert.Equal(t, 2, iss.JWKSRequests())
}

// A key published right after a flood of random kids, while the flood
// goes on, is accepted within the documented bound: UnknownKIDCooldown +
// FetchTimeout. Throughout, the flood costs at most one fetch per
// cool-down.
func TestKeysRotationAcceptedDuringFlood(t *testing.T) {
	t.Parallel()
	const cooldown = 300 * time.Millisecond
	iss := newES256Issuer(t, "k1")
	cfg := keysConfig(iss, nil)
	cfg.UnknownKIDCooldown = cooldown
	cfg.FetchTimeout = time.Second
	v := newKeysValidator(t, cfg) // RefreshInterval: 1 h, so no background help
	require.Equal(t, 1, iss.JWKSRequests())

	// The attacker: random kids, from 4 goroutines, until the test ends.
	attackStart := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent, wrong atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				kid := randomKids(1)[0] + "-" + string(rune('a'+w))
				_, err := v.Validate(context.Background(), tokenWithKid(iss, "ES256", kid))
				sent.Add(1)
				if !assert.ErrorIs(t, err, validator.ErrUnknownKey) {
					wrong.Add(1)
				}
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	require.Eventually(t, func() bool { return sent.Load() >= 1000 }, keysWait, time.Millisecond)

	// The issuer rotates; a client presents a token signed with the new key.
	iss.Rotate(testkit.GenerateKey("k2", "ES256"))
	rotated := iss.Mint()
	published := time.Now()
	bound := cooldown + cfg.FetchTimeout
	require.Eventually(t, func() bool {
		_, err := v.Validate(context.Background(), rotated)
		return err == nil
	}, bound+2*time.Second, 5*time.Millisecond, "accepted within UnknownKIDCooldown + FetchTimeout (+ slack for -race)")
	t.Logf("new key accepted %v after publication (bound %v); %d attack requests", time.Since(published), bound, sent.Load())

	fetches := iss.JWKSRequests() - 1
	elapsed := time.Since(attackStart)
	assert.LessOrEqual(t, fetches, 1+int(elapsed/cooldown), "at most one fetch per cool-down over %v", elapsed)
	assert.Zero(t, wrong.Load())
}
