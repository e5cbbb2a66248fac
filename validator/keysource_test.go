package validator_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// One RemoteKeySet serves two Validators (two APIs, two audiences): one
// fetch, one refresh loop and one unknown-kid refresh for both. Closing a
// Validator leaves a caller's key set alone.
func TestRemoteKeySetSharedByTwoValidators(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	set, err := validator.NewRemoteKeySet(context.Background(), keysConfig(iss, nil).RemoteConfig)
	require.NoError(t, err)
	t.Cleanup(func() { set.Close() })
	newAPI := func(aud string) *validator.Validator {
		return newValidator(t, validator.Config{Issuer: iss.URL, Audiences: []string{aud}, Algorithms: []string{"ES256"}, Keys: set})
	}
	contacts, billing := newAPI("https://contacts.example/"), newAPI("https://billing.example/")

	_, err = contacts.Validate(context.Background(), iss.Mint(testkit.WithAudience("https://contacts.example/")))
	require.NoError(t, err)
	_, err = billing.Validate(context.Background(), iss.Mint(testkit.WithAudience("https://billing.example/")))
	require.NoError(t, err)
	_, err = billing.Validate(context.Background(), iss.Mint(testkit.WithAudience("https://contacts.example/")))
	assert.ErrorIs(t, err, validator.ErrAudience, "each Validator keeps its own policy")
	assert.Equal(t, 1, iss.JWKSRequests(), "one fetch serves both")

	// A rotation seen by one is seen by the other, with no second fetch.
	iss.Rotate(testkit.GenerateKey("k2", "ES256"))
	_, err = contacts.Validate(context.Background(), iss.Mint(testkit.WithAudience("https://contacts.example/")))
	require.NoError(t, err)
	_, err = billing.Validate(context.Background(), iss.Mint(testkit.WithAudience("https://billing.example/")))
	require.NoError(t, err)
	assert.Equal(t, 2, iss.JWKSRequests())

	require.NoError(t, contacts.Close())
	require.NoError(t, billing.Ready(context.Background()), "the caller's key set is still open")
	_, err = billing.Validate(context.Background(), iss.Mint(testkit.WithAudience("https://billing.example/")))
	assert.NoError(t, err)
}

// With Keys nil, New makes a RemoteKeySet of its own, and Close closes it:
// no goroutine is left. Not parallel: goleak compares with the goroutines
// that exist when the test starts.
func TestValidatorClosesTheKeySetItMade(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	iss := testkit.NewIssuer(testkit.GenerateKey("k1", "ES256"))
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	require.NoError(t, err)
	_, err = v.Validate(context.Background(), iss.Mint())
	require.NoError(t, err)
	require.NoError(t, v.Ready(context.Background()))
	require.NoError(t, v.Close())
	assert.ErrorIs(t, v.Ready(context.Background()), validator.ErrKeysUnavailable, "closed")
}

// A key source that names its issuer must be given for that issuer: one
// issuer's keys never serve another's tokens by a configuration slip.
func TestNewRefusesKeysOfAnotherIssuer(t *testing.T) {
	t.Parallel()
	a := newES256Issuer(t, "k1")
	b := newES256Issuer(t, "k1")
	set, err := validator.NewRemoteKeySet(context.Background(), keysConfig(a, nil).RemoteConfig)
	require.NoError(t, err)
	t.Cleanup(func() { set.Close() })
	cfg := b.Config()
	cfg.Keys = set
	_, err = validator.New(context.Background(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "keys of issuer")
	cfg = a.Config()
	cfg.ExtraIssuers = []validator.IssuerConfig{{Issuer: b.URL, Keys: set}}
	_, err = validator.New(context.Background(), cfg)
	require.Error(t, err)
	assert.Equal(t, 1, a.JWKSRequests()+b.JWKSRequests(), "refused before a fetch of its own")
}

// Ready asks any key source that has a Ready method, not only the
// package's own: a source of the user's reports readiness too.
func TestReadyAsksAnyKeySource(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	src := &readyKeys{err: &validator.Error{Class: validator.ErrKeysUnavailable, Reason: "warming up"}}
	cfg := iss.Config()
	cfg.Keys = src
	v := newValidator(t, cfg)
	assert.ErrorIs(t, v.Ready(context.Background()), validator.ErrKeysUnavailable)
	src.err = nil
	assert.NoError(t, v.Ready(context.Background()))
}

type readyKeys struct{ err error }

func (*readyKeys) Key(context.Context, string, string) (*validator.Key, error) { return nil, nil }
func (r *readyKeys) Ready(context.Context) error                               { return r.err }
