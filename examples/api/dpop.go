package main

import (
	"fmt"

	"github.com/apiguard/apiguard/middleware"
)

// dpopOption returns the middleware option for the DPoP flags and a
// function that releases the replay store.
func (c config) dpopOption() (middleware.Option, func(), error) {
	p := c.proofs
	closeStore := func() {}
	if c.redis != "" && p.Mode != "off" {
		store, closeFn, err := newRedisStore(c.redis)
		if err != nil {
			return nil, nil, fmt.Errorf("-redis: %w", err)
		}
		p.Store, closeStore = store, closeFn
	}
	o, err := p.Option()
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	return o, closeStore, nil
}

// dpopSummary says how DPoP is set up, for the start-up line.
func (c config) dpopSummary() string {
	if c.proofs.Mode == "off" {
		return "off"
	}
	s := c.proofs.Mode
	if c.proofs.Nonce {
		s += ", nonces"
	}
	if c.redis != "" {
		return s + ", replay store in Redis at " + c.redis
	}
	return s + ", replay store in memory"
}
