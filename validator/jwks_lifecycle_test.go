package validator_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// Close stops every goroutine a Validator started, whatever it was doing:
// refreshing on an interval, retrying a down issuer with backoff, holding
// a fetch in flight that requests wait for. Not parallel: goleak compares
// with the goroutines that exist when the test starts.
func TestKeysCloseLeaksNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	healthy := testkit.NewIssuer(testkit.GenerateKey("k1", "ES256"))
	defer healthy.Close()
	down := testkit.NewIssuer(testkit.GenerateKey("k1", "ES256"))
	defer down.Close()
	down.SetFault(testkit.FaultDown)
	slow := testkit.NewIssuer(testkit.GenerateKey("k1", "ES256"))
	defer slow.Close()

	cfg := keysConfig(healthy, nil)
	cfg.RefreshInterval = 10 * time.Millisecond
	cfg.Logger = discardLogger()
	cfg.Extra = []string{down.URL, slow.URL}
	cfg.StartWithoutKeys = true
	v, err := newKeys(context.Background(), cfg)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return healthy.JWKSRequests() >= 3 && slow.JWKSRequests() >= 1 }, keysWait, time.Millisecond)

	// A fetch in flight, and requests waiting for it.
	slow.Rotate(testkit.GenerateKey("k2", "ES256"))
	slow.SetFault(testkit.FaultSlow(time.Minute))
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { v.Validate(context.Background(), slow.Mint()) })
	}
	require.Eventually(t, func() bool { return slow.JWKSRequests() >= 2 }, keysWait, time.Millisecond)

	require.NoError(t, v.Close())
	// Close waits: none of the key sources' goroutines is left, even with
	// the slow issuer still holding the request.
	stacks := make([]byte, 1<<20)
	stacks = stacks[:runtime.Stack(stacks, true)]
	var left []string
	for g := range strings.SplitSeq(string(stacks), "\n\n") {
		if strings.Contains(g, "created by github.com/apiguard/apiguard/validator.") {
			left = append(left, g)
		}
	}
	assert.Empty(t, left, "goroutines of the key sources after Close")
	require.NoError(t, v.Close(), "Close twice is harmless")
	wg.Wait()
	settled := healthy.JWKSRequests()
	time.Sleep(50 * time.Millisecond) // five refresh intervals
	assert.Equal(t, settled, healthy.JWKSRequests(), "no refresh after Close")
}

// Refreshes and failures are logged with their URL, status, duration and
// key count; a token's kid is quoted and cut to 64 bytes; the token never
// appears in a log.
func TestKeysLogging(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	logs := &keysLog{}
	cfg := keysConfig(iss, logs)
	cfg.UnknownKIDCooldown = 50 * time.Millisecond
	v := newKeysValidator(t, cfg)

	loaded := findLog(t, logs, slog.LevelDebug, "keys refreshed")
	assert.Equal(t, iss.URL, loaded.Attrs["issuer"])
	assert.Equal(t, iss.JWKSURL(), loaded.Attrs["url"])
	assert.Equal(t, "200", loaded.Attrs["status"])
	assert.Equal(t, "1", loaded.Attrs["keys"])
	assert.Equal(t, "initial", loaded.Attrs["reason"])
	assert.NotEmpty(t, loaded.Attrs["duration"])
	changed := findLog(t, logs, slog.LevelInfo, "signing keys changed")
	assert.Equal(t, `["k1"]`, changed.Attrs["added"])

	kid := "\x00\n\"\u202e" + strings.Repeat("A", 200)
	h, _ := json.Marshal(map[string]any{"alg": "ES256", "typ": "JWT", "kid": kid})
	c, _ := json.Marshal(testkit.DefaultClaims(iss.URL))
	token := testkit.SignRaw(nil, h, c, []byte(strings.Repeat("x", 64)))
	_, err := v.Validate(context.Background(), token)
	require.ErrorIs(t, err, validator.ErrUnknownKey)
	miss := findLog(t, logs, slog.LevelDebug, "refreshing keys for an unknown kid")
	assert.Equal(t, strconv.Quote(kid[:64])+"...", miss.Attrs["kid"])

	time.Sleep(cfg.UnknownKIDCooldown)
	iss.SetFault(testkit.FaultRefuse)
	_, err = v.Validate(context.Background(), tokenWithKid(iss, "ES256", "k-new"))
	require.ErrorIs(t, err, validator.ErrUnknownKey)
	failed := findLog(t, logs, slog.LevelWarn, "key refresh failed")
	assert.Equal(t, "503", failed.Attrs["status"])
	assert.Equal(t, iss.JWKSURL(), failed.Attrs["url"])
	assert.Equal(t, "1", failed.Attrs["cached_keys"])
	assert.Equal(t, "1", failed.Attrs["failures"])
	assert.Contains(t, failed.Attrs["error"], "status 503")
	assert.NotEmpty(t, failed.Attrs["duration"])

	for _, rec := range logs.all() {
		line := rec.String()
		assert.NotContains(t, line, token)
		assert.NotContains(t, line, kid[:10], "raw kid bytes in %s", line)
	}
}

func findLog(t *testing.T, logs *keysLog, level slog.Level, msg string) keysLogRecord {
	t.Helper()
	var found keysLogRecord
	require.Eventually(t, func() bool {
		for _, rec := range logs.all() {
			if rec.Level == level && strings.Contains(rec.Msg, msg) {
				found = rec
				return true
			}
		}
		return false
	}, keysWait, time.Millisecond, "no %s record %q", level, msg)
	return found
}

// NewRemoteKeySet refuses inconsistent key cache settings, and New
// inconsistent issuers, before any request.
func TestKeysConfigErrors(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	tests := []struct {
		name   string
		change func(*validator.RemoteConfig)
		errHas string
	}{
		{"no issuer", func(c *validator.RemoteConfig) { c.Issuer = "" }, "Issuer"},
		{"negative FetchTimeout", func(c *validator.RemoteConfig) { c.FetchTimeout = -1 }, "FetchTimeout"},
		{"negative RefreshInterval", func(c *validator.RemoteConfig) { c.RefreshInterval = -1 }, "RefreshInterval"},
		{"negative RetryInterval", func(c *validator.RemoteConfig) { c.RetryInterval = -1 }, "RetryInterval"},
		{"negative UnknownKIDCooldown", func(c *validator.RemoteConfig) { c.UnknownKIDCooldown = -1 }, "UnknownKIDCooldown"},
		{"negative MaxKeyWait", func(c *validator.RemoteConfig) { c.MaxKeyWait = -1 }, "MaxKeyWait"},
		{"negative MaxStaleness", func(c *validator.RemoteConfig) { c.MaxStaleness = -1 }, "MaxStaleness"},
		{"MaxStaleness below twice RefreshInterval", func(c *validator.RemoteConfig) {
			c.RefreshInterval, c.MaxStaleness = time.Hour, 90*time.Minute
		}, "MaxStaleness"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := keysConfig(iss, nil).RemoteConfig
			tt.change(&cfg)
			_, err := validator.NewRemoteKeySet(context.Background(), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.errHas)
		})
	}
	for _, tt := range []struct {
		name   string
		extra  []validator.IssuerConfig
		errHas string
	}{
		{"duplicate issuer", []validator.IssuerConfig{{Issuer: iss.URL}}, "twice"},
		{"empty extra issuer", []validator.IssuerConfig{{Keys: &validator.KeySet{}}}, "non-empty"},
		{"plain http extra issuer", []validator.IssuerConfig{{Issuer: "http://other.example/"}}, "https"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := iss.Config()
			cfg.ExtraIssuers = tt.extra
			_, err := validator.New(context.Background(), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.errHas)
		})
	}
	assert.Equal(t, 0, iss.JWKSRequests(), "refused before any request")

	// The default MaxStaleness grows with a long RefreshInterval.
	cfg := keysConfig(iss, nil).RemoteConfig
	cfg.RefreshInterval = 20 * time.Hour
	set, err := validator.NewRemoteKeySet(context.Background(), cfg)
	require.NoError(t, err)
	set.Close()
}
