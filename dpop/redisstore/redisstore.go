// Package redisstore keeps the DPoP replay cache of package dpop in Redis,
// so that every replica of an API refuses a proof that any of them has
// already accepted (RFC 9449 section 11.1).
//
// Each accepted proof is one key, set with SET NX and an expiry at the end
// of the proof's iat window: Redis decides atomically which of two
// replicas racing with the same proof wins, and forgets the key when the
// proof could no longer be accepted anyway. Any Redis error (unreachable,
// timeout, read-only replica, out of memory) makes the check fail, and the
// Verifier refuses the proof (fail closed, ErrStoreUnavailable: answer
// 503), never accepts it.
//
// It lives in its own module so that the core module needs no Redis
// client.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	v, err := dpop.NewVerifier(dpop.Config{ReplayStore: redisstore.New(rdb, redisstore.Config{})})
//
// Use a Redis primary (or a cluster); a replica that lags behind its
// primary could accept a key it has not seen yet. Redis must not evict
// these keys early: use a maxmemory-policy of noeviction or volatile-ttl,
// or a Redis of its own, since an evicted key lets its proof be replayed.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apiguard/apiguard/dpop"
)

// DefaultPrefix is the prefix of the keys when Config.Prefix is empty.
const DefaultPrefix = "apiguard:dpop:"

// Config configures a Store.
type Config struct {
	// Prefix is put before every key; default DefaultPrefix. APIs that
	// share a Redis may share the prefix: keys are scoped to the request
	// URL already.
	Prefix string
}

// Store is a dpop.ReplayStore in Redis. It is safe for concurrent use.
type Store struct {
	rdb    redis.Cmdable
	prefix string
}

var _ dpop.ReplayStore = (*Store)(nil)

// New returns a Store that keeps its keys in rdb (a *redis.Client,
// *redis.ClusterClient, ...). The client's timeouts bound each check; the
// request's context can end it sooner.
func New(rdb redis.Cmdable, cfg Config) *Store {
	p := cfg.Prefix
	if p == "" {
		p = DefaultPrefix
	}
	return &Store{rdb: rdb, prefix: p}
}

// minTTL is the shortest expiry set: Redis refuses a zero or negative one.
const minTTL = time.Millisecond

// CheckAndSet records key until expiresAt with SET NX PX and reports
// whether it was new. Any Redis error is returned, so the proof is
// refused.
func (s *Store) CheckAndSet(ctx context.Context, key string, expiresAt time.Time) (bool, error) {
	ttl := time.Until(expiresAt)
	if ttl < minTTL {
		ttl = minTTL
	}
	// SetNX with a TTL sends SET key 1 PX ttl NX (EX for whole seconds).
	ok, err := s.rdb.SetNX(ctx, s.prefix+key, "1", ttl).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("redisstore: %w", err)
	}
	return ok, nil
}
