package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDPoPFlags: -dpop defaults to allowed and takes off, allowed or
// required; -dpop-nonce and -redis are read.
func TestDPoPFlags(t *testing.T) {
	base := []string{"-issuer", "https://t.auth0.com/", "-audience", "https://a"}
	noEnv := func(string) string { return "" }
	for _, tt := range []struct {
		args    []string
		mode    string
		nonce   bool
		redis   string
		summary string
		wantErr bool
	}{
		{args: nil, mode: "allowed", summary: "allowed, replay store in memory"},
		{args: []string{"-dpop=off"}, mode: "off", summary: "off"},
		{args: []string{"-dpop", "required", "-dpop-nonce"}, mode: "required", nonce: true, summary: "required, nonces, replay store in memory"},
		{args: []string{"-redis=127.0.0.1:6379"}, mode: "allowed", redis: "127.0.0.1:6379", summary: "allowed, replay store in Redis at 127.0.0.1:6379"},
		{args: []string{"-dpop=maybe"}, wantErr: true},
		{args: []string{"-dpop="}, wantErr: true},
	} {
		c, err := parseConfig(append(append([]string{}, base...), tt.args...), noEnv, io.Discard)
		if tt.wantErr {
			assert.Error(t, err, "%v", tt.args)
			continue
		}
		require.NoError(t, err, "%v", tt.args)
		assert.Equal(t, tt.mode, c.proofs.Mode)
		assert.Equal(t, tt.nonce, c.proofs.Nonce)
		assert.Equal(t, tt.redis, c.redis)
		assert.Equal(t, tt.summary, c.dpopSummary())
		if tt.redis == "" {
			o, closeStore, err := c.dpopOption()
			require.NoError(t, err)
			assert.NotNil(t, o)
			closeStore()
		}
	}
}
