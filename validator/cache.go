package validator

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/apiguard/apiguard/claims"
)

// DefaultCacheTTL is how long a verified token stays cached when
// Config.CacheSize enables the cache and Config.CacheTTL is zero: short
// enough that a revoked signing key or a changed configuration takes effect
// soon, long enough that a client reusing its token skips most signature
// checks.
const DefaultCacheTTL = 5 * time.Minute

// maxCacheShards spreads entries over independently locked maps so that
// concurrent hits do not contend on one lock.
const maxCacheShards = 32

// evictScan bounds how many entries a full shard looks at for expired ones
// before it evicts one at random, so an insert never walks a large shard
// while holding its lock.
const evictScan = 8

// tokenCache remembers fully validated tokens. An entry is found by a
// seeded hash of the whole token and confirmed by comparing the token
// itself, so a hash collision can never return another token's claims.
type tokenCache struct {
	seed     maphash.Seed
	ttl      time.Duration
	perShard int
	shards   []cacheShard
}

type cacheShard struct {
	mu      sync.RWMutex
	entries map[uint64]*cacheEntry
}

type cacheEntry struct {
	token  string
	claims *claims.Claims
	// src, kid, alg and key let a hit confirm that the signing key is
	// still in its issuer's key set, unchanged.
	src      KeySource
	kid, alg string
	key      keySnapshot
	// until is the earliest of the token's exp and the time the entry
	// was added plus the TTL.
	until time.Time
}

// newTokenCache returns a cache of at most size entries.
func newTokenCache(size int, ttl time.Duration) *tokenCache {
	n := min(size, maxCacheShards)
	c := &tokenCache{seed: maphash.MakeSeed(), ttl: ttl, perShard: size / n, shards: make([]cacheShard, n)}
	for i := range c.shards {
		c.shards[i].entries = make(map[uint64]*cacheEntry)
	}
	return c
}

func (c *tokenCache) shard(h uint64) *cacheShard { return &c.shards[h%uint64(len(c.shards))] }

// get returns the cached entry for token if it is still usable at now.
func (c *tokenCache) get(token string, now time.Time) (*cacheEntry, uint64) {
	h := maphash.String(c.seed, token)
	s := c.shard(h)
	s.mu.RLock()
	e := s.entries[h]
	s.mu.RUnlock()
	if e == nil || e.token != token {
		return nil, h
	}
	if !now.Before(e.until) {
		c.drop(h, e)
		return nil, h
	}
	return e, h
}

// drop removes e unless another entry has replaced it meanwhile.
func (c *tokenCache) drop(h uint64, e *cacheEntry) {
	s := c.shard(h)
	s.mu.Lock()
	if s.entries[h] == e {
		delete(s.entries, h)
	}
	s.mu.Unlock()
}

func (c *tokenCache) put(h uint64, e *cacheEntry, now time.Time) {
	if ttlEnd := now.Add(c.ttl); ttlEnd.Before(e.until) {
		e.until = ttlEnd
	}
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, replace := s.entries[h]; !replace && len(s.entries) >= c.perShard {
		// Full: drop an expired entry among the first few that Go's
		// randomized map iteration yields, or else the first of them, so
		// a flood of distinct tokens keeps memory bounded without
		// bookkeeping on the hit path.
		var victim uint64
		n := 0
		for k, old := range s.entries {
			if n == 0 || !now.Before(old.until) {
				victim = k
			}
			if n++; n == evictScan || !now.Before(old.until) {
				break
			}
		}
		delete(s.entries, victim)
	}
	s.entries[h] = e
}

// len returns the number of cached entries.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.entries)
		s.mu.RUnlock()
	}
	return n
}
