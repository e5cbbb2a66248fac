package main

import (
	"context"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/redisstore"
)

// newRedisStore keeps the DPoP replay store in Redis at addr (host:port),
// shared by every replica started with the same -redis. Like the issuer,
// Redis may be down at start: the API starts, logs a warning, and answers
// DPoP requests 503 (never 200: the store fails closed) until Redis
// answers.
func newRedisStore(addr string) (dpop.ReplayStore, func(), error) {
	rdb := redis.NewClient(&redis.Options{
		Addr:         addr,
		DialTimeout:  time.Second,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
		MaxRetries:   1,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		log.Printf("warning: Redis at %s does not answer (%v): DPoP requests get 503 until it does", addr, err)
	}
	return redisstore.New(rdb, redisstore.Config{}), func() { _ = rdb.Close() }, nil
}
