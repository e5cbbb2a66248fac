package dpop_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
)

// Proofs decode into pooled buffers: concurrent verifications never share
// one (the race detector watches), and what a verification returns stays
// intact while later ones reuse the buffers. Keys of every type, and a
// proof too large for a pooled buffer, take part.
func TestPooledProofBuffers(t *testing.T) {
	v, err := dpop.NewVerifier(dpop.Config{Now: func() time.Time { return now }, Algorithms: []string{"ES256", "EdDSA", "RS256"}})
	require.NoError(t, err)
	keys := []*dpoptest.Key{dpoptest.GenerateKey("ES256"), dpoptest.GenerateKey("EdDSA"), dpoptest.GenerateKey("RS256")}
	const workers, each = 6, 40
	var wg sync.WaitGroup
	got := make([][]dpop.Proof, workers)
	for w := range workers {
		wg.Go(func() {
			k := keys[w%len(keys)]
			for i := range each {
				jti := fmt.Sprintf("w%d-proof-%d-%s", w, i, strings.Repeat("x", i*i%50))
				opts := []dpoptest.Option{dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token), dpoptest.WithJTI(jti)}
				if i%10 == 9 {
					opts = append(opts, dpoptest.WithClaim("pad", strings.Repeat("p", 2000))) // past the pooled room
				}
				r := request(http.MethodGet, target, k.Proof(http.MethodGet, target, opts...))
				p, err := v.Verify(context.Background(), r, token, k.Thumbprint())
				if !assert.NoError(t, err, jti) {
					return
				}
				got[w] = append(got[w], p)
			}
		})
	}
	wg.Wait()
	for w := range workers {
		require.Len(t, got[w], each)
		for i, p := range got[w] {
			assert.Equal(t, fmt.Sprintf("w%d-proof-%d-%s", w, i, strings.Repeat("x", i*i%50)), p.JTI)
			assert.Equal(t, keys[w%len(keys)].Thumbprint(), p.Thumbprint)
			assert.True(t, p.IssuedAt.Equal(now))
		}
	}
}
