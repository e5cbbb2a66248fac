package main

import "github.com/apiguard/apiguard/validator"

// cachedConfig returns cfg with the verified-token cache on: room for
// 1000 tokens, the default TTL.
func cachedConfig(cfg validator.Config) (validator.Config, bool) {
	cfg.CacheSize = 1000
	return cfg, true
}
