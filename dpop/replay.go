package dpop

import (
	"context"
	"crypto/sha256"
	"errors"
	"hash/maphash"
	"sync"
	"time"
)

// ReplayStore remembers the proofs a Verifier accepted, so that each is
// accepted once (RFC 9449 section 11.1). Share one store (e.g. Redis,
// package dpop/redisstore) between all replicas of an API to refuse a
// proof replayed to another replica.
type ReplayStore interface {
	// CheckAndSet records key until expiresAt and reports true, or
	// reports false when key is already recorded and not yet expired. It
	// must be atomic: of concurrent calls with one key (from any replica
	// sharing the store), at most one reports true. It must never forget
	// a key before expiresAt; when it cannot record one (full, or
	// unreachable) it returns an error, and the proof is refused.
	//
	// key is a fixed-length hash of the proof's jti, key thumbprint,
	// method and URL; it holds nothing secret.
	CheckAndSet(ctx context.Context, key string, expiresAt time.Time) (bool, error)
}

// DefaultMemoryStoreSize is the capacity of the MemoryStore a Verifier
// uses when Config.ReplayStore is nil: with the default iat window (330 s)
// it takes about 300 DPoP requests a second; each entry costs about 70
// bytes (a SHA-256 key and an expiry).
const DefaultMemoryStoreSize = 100_000

// ErrStoreFull is the error of a MemoryStore that holds as many unexpired
// entries as its capacity allows.
var ErrStoreFull = errors.New("dpop: replay store full")

// memoryShards spreads a MemoryStore over locks, so that concurrent
// requests rarely wait for each other.
const memoryShards = 32

// MemoryStore is a ReplayStore in this process's memory, bounded to a
// fixed number of entries. When full, it first drops expired entries;
// when none has expired it refuses new ones with ErrStoreFull (the
// Verifier then refuses the request, as for any store failure): it never
// forgets an unexpired entry, since that would let the proof be replayed.
//
// It only protects one process: replicas behind a load balancer need a
// shared store.
type MemoryStore struct {
	seed   maphash.Seed
	shards [memoryShards]memoryShard
	now    func() time.Time
}

type memoryShard struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]int64 // SHA-256 of the key -> expiry, Unix nanoseconds
	max     int
	// nextSweep is at most the earliest expiry among the entries (set
	// by the last sweep, lowered by each insert): a full shard is not
	// swept again before then, so a full store refuses in constant time.
	nextSweep int64
}

// NewMemoryStore returns a MemoryStore of at most maxEntries entries
// (DefaultMemoryStoreSize when maxEntries <= 0).
func NewMemoryStore(maxEntries int) *MemoryStore {
	if maxEntries <= 0 {
		maxEntries = DefaultMemoryStoreSize
	}
	s := &MemoryStore{seed: maphash.MakeSeed(), now: time.Now}
	per := max(1, maxEntries/memoryShards)
	for i := range s.shards {
		s.shards[i].entries = make(map[[sha256.Size]byte]int64)
		s.shards[i].max = per
	}
	return s
}

// CheckAndSet implements ReplayStore. It keeps the SHA-256 of key, a
// fixed-size map key whatever the key's length.
func (s *MemoryStore) CheckAndSet(_ context.Context, key string, expiresAt time.Time) (bool, error) {
	return s.checkAndSet(sha256.Sum256([]byte(key)), expiresAt)
}

// checkAndSet is CheckAndSet for a key already hashed: a Verifier with a
// MemoryStore records its replay digest here, without making a string
// of it.
func (s *MemoryStore) checkAndSet(key [sha256.Size]byte, expiresAt time.Time) (bool, error) {
	sh := &s.shards[maphash.Comparable(s.seed, key)%memoryShards]
	now := s.now().UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if exp, ok := sh.entries[key]; ok {
		if exp > now {
			return false, nil
		}
		delete(sh.entries, key)
	}
	if len(sh.entries) >= sh.max {
		sh.sweep(now)
		if len(sh.entries) >= sh.max {
			return false, ErrStoreFull
		}
	}
	sh.entries[key] = expiresAt.UnixNano()
	sh.nextSweep = min(sh.nextSweep, expiresAt.UnixNano()) // a new entry may expire before the others
	return true, nil
}

// sweep drops the expired entries, at most once per earliest expiry.
func (sh *memoryShard) sweep(now int64) {
	if now < sh.nextSweep {
		return
	}
	next := int64(1<<63 - 1)
	for k, exp := range sh.entries {
		if exp <= now {
			delete(sh.entries, k)
		} else if exp < next {
			next = exp
		}
	}
	sh.nextSweep = next
}

// Len returns the number of entries, expired ones not yet dropped
// included.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.entries)
		sh.mu.Unlock()
	}
	return n
}
