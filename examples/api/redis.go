package main

import (
	"errors"

	"github.com/apiguard/apiguard/dpop"
)

// newRedisStore connects the replay store to Redis at addr.
func newRedisStore(addr string) (dpop.ReplayStore, func(), error) {
	return nil, nil, errors.New("the Redis replay store (dpop/redisstore) is not available yet")
}
