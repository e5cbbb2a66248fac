package dpop

import (
	"context"
	"crypto/sha256"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/internal/racedetect"
)

// Everything a fresh proof costs beyond its signature check allocates
// once: the Proof's jti. The proof decodes into a pooled buffer, header
// and claims on their fast paths, the JWS lives in the inspected proof,
// the request URL is compared and hashed in its parts, ath hashes the
// access token without copying it, and a MemoryStore takes the replay
// digest as it is. (Issue 12's budget is 25.)
func TestBeyondSignatureAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	const target = "http://api.example.com/api/private"
	const token = "eyJhbGciOiJSUzI1NiJ9.eyJjbmYiOnt9fQ.c2ln"
	now := time.Unix(1_800_000_000, 0)
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			k := dpoptest.GenerateKey(alg)
			const runs = 100
			// A store with room to spare, so that its maps do not grow
			// during the measure.
			store := NewMemoryStore(memoryShards * 4 * runs)
			for i := range store.shards {
				store.shards[i].entries = make(map[[sha256.Size]byte]int64, 4*runs)
			}
			v, err := NewVerifier(Config{Now: func() time.Time { return now }, ReplayStore: store})
			require.NoError(t, err)
			proofs := make([]string, runs+2) // AllocsPerRun runs once more to warm up
			for i := range proofs {
				proofs[i] = k.Proof("GET", target, dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token))
			}
			r := httptest.NewRequest("GET", target, nil)
			r.RequestURI = "/api/private"
			ctx := context.Background()
			jkt := k.Thumbprint()
			step := func(i int) {
				r.Header["Dpop"] = proofs[i : i+1]
				u, err := v.urls.requestURLParts(r)
				require.NoError(t, err)
				room := proofRooms.Get().(*[proofRoom]byte) // as check does
				defer proofRooms.Put(room)
				in, err := v.inspect(room[:], r.Header.Values("Dpop"), r.Method, u, token, jkt)
				require.NoError(t, err)
				_, err = v.record(ctx, &in, r.Method, u)
				require.NoError(t, err)
			}
			step(runs + 1) // the key cache
			i := 0
			allocs := testing.AllocsPerRun(runs, func() { step(i); i++ })
			assert.Equal(t, 1.0, allocs)
		})
	}
}
