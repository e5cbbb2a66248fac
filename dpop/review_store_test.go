package dpop_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop"
)

// TestReviewMemoryStoreSweepsAgain: a MemoryStore must "first drop expired
// entries" when full. A sweep that finds every entry of a shard expired
// sets the shard's next sweep to the end of time, so once that shard fills
// again it never sweeps again and refuses every new proof (ErrStoreFull,
// 503) although all its entries have long expired.
func TestReviewMemoryStoreSweepsAgain(t *testing.T) {
	s := dpop.NewMemoryStore(32) // one entry per shard
	now := time.Unix(1_700_000_000, 0)
	s.SetClock(func() time.Time { return now })
	ctx := t.Context()
	n := 0
	fill := func(ttl time.Duration) {
		// Add fresh keys until every shard holds one entry.
		for tries := 0; s.Len() < 32 && tries < 10_000; tries++ {
			n++
			_, _ = s.CheckAndSet(ctx, fmt.Sprint("k", n), now.Add(ttl))
		}
		require.Equal(t, 32, s.Len())
	}
	fill(10 * time.Second)
	now = now.Add(20 * time.Second) // every entry expired
	// Each shard's first insert sweeps it empty, then takes the new key.
	for i := 0; i < 2000; i++ {
		n++
		_, _ = s.CheckAndSet(ctx, fmt.Sprint("k", n), now.Add(10*time.Second))
	}
	require.Equal(t, 32, s.Len())
	now = now.Add(20 * time.Second) // every entry expired again
	n++
	ok, err := s.CheckAndSet(ctx, fmt.Sprint("k", n), now.Add(10*time.Second))
	require.NoError(t, err, "a store holding only expired entries refuses a new one")
	require.True(t, ok)
}
