package validatortest_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// The issuer's Config and its tokens share the audience, set once.
func TestAudienceIsSetOnce(t *testing.T) {
	iss := validatortest.New(t, validatortest.Audience("https://contacts.example/"))
	cfg := iss.Config()
	assert.Equal(t, []string{"https://contacts.example/"}, cfg.Audiences)
	v, err := validator.New(t.Context(), cfg)
	require.NoError(t, err)
	defer v.Close()
	c, err := v.Validate(context.Background(), iss.Mint())
	require.NoError(t, err)
	assert.Equal(t, []string{"https://contacts.example/"}, c.Audience)
}

// The kit logs nothing unless asked: a validator made from Config loads
// keys, sees a rotation and closes without a line in the default logger.
// Not parallel: it replaces slog's default logger for its duration.
func TestKitLogsNothingUnlessAsked(t *testing.T) {
	var out bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)

	iss := validatortest.New(t)
	v, err := validator.New(t.Context(), iss.Config())
	require.NoError(t, err)
	_, err = v.Validate(context.Background(), iss.Mint())
	require.NoError(t, err)
	iss.SetFault(validatortest.FaultStatus(500))
	_, err = v.Validate(context.Background(), iss.Mint(validatortest.WithKey(validatortest.GenerateKey("k2", "RS256"))))
	require.Error(t, err)
	require.NoError(t, v.Close())
	assert.Empty(t, out.String())

	// Asked: the test's own Logger gets the key cache's logs.
	var asked bytes.Buffer
	cfg := iss.Config()
	cfg.Logger = slog.New(slog.NewTextHandler(&asked, nil))
	iss.SetFault(validatortest.NoFault)
	v, err = validator.New(t.Context(), cfg)
	require.NoError(t, err)
	require.NoError(t, v.Close())
	assert.Contains(t, asked.String(), "signing keys changed")
	assert.Empty(t, out.String())
}
