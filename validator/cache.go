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

// cacheShards spreads entries over independently locked maps so that
// concurrent hits do not contend on one lock.
const cacheShards = 32

// tokenCache remembers fully validated tokens. An entry is found by a
// seeded hash of the whole token and confirmed by comparing the token
// itself, so a hash collision can never return another token's claims.
type tokenCache struct {
	seed     maphash.Seed
	ttl      time.Duration
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu      sync.RWMutex
	entries map[uint64]*cacheEntry
}

type cacheEntry struct {
	token  string
	claims *claims.Claims
	// src, kid, alg and key let a hit confirm that the signing key is
	// still in its issuer's key set.
	src      KeySource
	kid, alg string
	key      *Key
	// until is the earliest of the token's exp (with leeway) and the
	// time the entry was added plus the TTL.
	until time.Time
}

func newTokenCache(size int, ttl time.Duration) *tokenCache {
	c := &tokenCache{seed: maphash.MakeSeed(), ttl: ttl, perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].entries = make(map[uint64]*cacheEntry)
	}
	return c
}

// get returns the cached entry for token if it is still usable at now.
func (c *tokenCache) get(token string, now time.Time) (*cacheEntry, uint64) {
	h := maphash.String(c.seed, token)
	s := &c.shards[h%cacheShards]
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
	s := &c.shards[h%cacheShards]
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
	s := &c.shards[h%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) >= c.perShard {
		// Full: drop expired entries, or else one chosen by Go's
		// randomized map iteration, so a flood of distinct tokens keeps
		// memory bounded without bookkeeping on the hit path.
		evicted := false
		for k, old := range s.entries {
			if !now.Before(old.until) {
				delete(s.entries, k)
				evicted = true
			}
		}
		if !evicted {
			for k := range s.entries {
				delete(s.entries, k)
				break
			}
		}
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
