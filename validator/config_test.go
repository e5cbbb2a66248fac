package validator_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

func TestNewRefusesUnsafeOrInvalidConfig(t *testing.T) {
	set, err := validator.NewKeySet(fixtureKey(t, "k1", "RS256", "rsa-2048.pem").Public())
	require.NoError(t, err)
	valid := func() validator.Config {
		return validator.Config{Issuer: cacheIssuer, Audiences: []string{"https://api.example.com"}, Keys: set}
	}
	_, err = validator.New(context.Background(), valid())
	require.NoError(t, err, "the baseline configuration is valid")

	for name, change := range map[string]func(*validator.Config){
		"no issuer":            func(c *validator.Config) { c.Issuer = "" },
		"no audience":          func(c *validator.Config) { c.Audiences = nil },
		"empty audience":       func(c *validator.Config) { c.Audiences = []string{""} },
		"alg none":             func(c *validator.Config) { c.Algorithms = []string{"none"} },
		"symmetric alg":        func(c *validator.Config) { c.Algorithms = []string{"HS256"} },
		"unknown alg":          func(c *validator.Config) { c.Algorithms = []string{"RS1"} },
		"negative leeway":      func(c *validator.Config) { c.Leeway = -time.Second },
		"leeway over a minute": func(c *validator.Config) { c.Leeway = validator.MaxLeeway + time.Second },
		"unknown profile":      func(c *validator.Config) { c.Profile = validator.ProfileRFC9068 + 1 },
		"negative token size":  func(c *validator.Config) { c.MaxTokenSize = -1 },
		"negative cache size":  func(c *validator.Config) { c.CacheSize = -1 },
		"negative cache TTL":   func(c *validator.Config) { c.CacheSize, c.CacheTTL = 10, -time.Second },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := valid()
			change(&cfg)
			v, err := validator.New(context.Background(), cfg)
			assert.Error(t, err)
			assert.Nil(t, v)
		})
	}
}

func TestProfileString(t *testing.T) {
	assert.Equal(t, "ProfileAuth0", validator.ProfileAuth0.String())
	assert.Equal(t, "ProfileRFC9068", validator.ProfileRFC9068.String())
	assert.Equal(t, "Profile(7)", validator.Profile(7).String())
}

// ParseJWKS returns one error; the keys the policy left out are reported
// by the set.
func TestParseJWKSReportsSkippedKeysOnTheSet(t *testing.T) {
	good := testkit.GenerateKey("good", "ES256")
	enc := testkit.GenerateKey("enc", "ES256").JWK()
	enc["use"] = "enc"
	set, err := validator.ParseJWKS(secJSON(map[string]any{"keys": []any{good.JWK(), enc}}))
	require.NoError(t, err)
	assert.Equal(t, 1, set.Len())
	require.Error(t, set.Skipped())
	assert.Contains(t, set.Skipped().Error(), `key 1: use is not "sig"`)

	_, err = validator.ParseJWKS(secJSON(map[string]any{"keys": []any{enc}}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `use is not "sig"`, "no usable key: the error says why")
}
