package dpop_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/internal/racedetect"
)

type otherKey struct{}

// The proof's context behaves as context.WithValue's: it finds the proof,
// passes every other key, deadline and cancellation to its parent, and the
// innermost proof wins.
func TestContext(t *testing.T) {
	_, ok := dpop.FromContext(context.Background())
	assert.False(t, ok, "no proof")

	parent, cancel := context.WithTimeout(context.WithValue(context.Background(), otherKey{}, "v"), time.Hour)
	p := dpop.Proof{Thumbprint: "jkt", JTI: "jti-1", IssuedAt: time.Unix(1_800_000_000, 0)}
	ctx := dpop.NewContext(parent, p)
	got, ok := dpop.FromContext(ctx)
	require.True(t, ok)
	assert.Equal(t, p, got)
	assert.Equal(t, "v", ctx.Value(otherKey{}))
	dl, hasDL := ctx.Deadline()
	pdl, _ := parent.Deadline()
	assert.True(t, hasDL)
	assert.Equal(t, pdl, dl)

	inner := dpop.NewContext(ctx, dpop.Proof{Thumbprint: "jkt-2"})
	got, _ = dpop.FromContext(inner)
	assert.Equal(t, "jkt-2", got.Thumbprint)
	got, _ = dpop.FromContext(ctx)
	assert.Equal(t, "jkt", got.Thumbprint, "the outer context is unchanged")

	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()
	cancel()
	<-child.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	assert.ErrorIs(t, child.Err(), context.Canceled)

	got.Thumbprint = "changed"
	again, _ := dpop.FromContext(inner)
	assert.Equal(t, "jkt-2", again.Thumbprint, "FromContext returns a copy")
}

// A proof's context entry is one allocation, and reading it none.
func TestContextAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	p := dpop.Proof{Thumbprint: "jkt", JTI: "jti-1", IssuedAt: time.Unix(1_800_000_000, 0)}
	var sink context.Context
	assert.Equal(t, 1.0, testing.AllocsPerRun(50, func() { sink = dpop.NewContext(context.Background(), p) }))
	assert.Zero(t, testing.AllocsPerRun(50, func() { _, _ = dpop.FromContext(sink) }))
}
