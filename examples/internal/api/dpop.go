package api

import (
	"crypto/rand"
	"fmt"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/middleware"
)

// Every protected route of the API also takes DPoP-bound tokens (RFC
// 9449), sent as Authorization: DPoP <token> with a DPoP proof header, and
// GET /api/claims then shows the key's thumbprint as cnf_jkt.

// Proofs say how the API takes DPoP-bound tokens (RFC 9449): the flags
// -dpop, -dpop-nonce and -redis of the api command. The zero value is the
// API's default: DPoP allowed beside Bearer, the in-memory replay store,
// no server nonces.
//
// Whatever Proofs say, the rest is fixed (tests outside the project rely
// on it): proof algorithms ES256, ES384, ES512, PS256, RS256 and EdDSA
// (dpop.DefaultAlgorithms), iat at most 300 s old and 30 s ahead, and the
// URL a proof must name taken from the request itself (plain http on
// loopback; no forwarding header is trusted).
type Proofs struct {
	// Mode is "off", "allowed" or "required" (middleware.DPoPMode's
	// names); "" means "allowed".
	Mode string
	// Algs are the accepted proof algorithms; nil means
	// dpop.DefaultAlgorithms, the contract's six.
	Algs []string
	// Nonce requires server nonces (RFC 9449 section 9): a proof without
	// a current one gets 401 use_dpop_nonce with a DPoP-Nonce header.
	Nonce bool
	// NonceKey is the HMAC key of the nonces; nil means a random key,
	// which only this process knows. Replicas must share one.
	NonceKey []byte
	// Store records used proofs; nil means dpop's bounded in-memory store
	// (one process). The api command's -redis puts it in Redis.
	Store dpop.ReplayStore
}

// ParseDPoPMode reads a mode: "off", "allowed" or "required".
func ParseDPoPMode(s string) (middleware.DPoPMode, error) {
	for _, m := range []middleware.DPoPMode{middleware.DPoPOff, middleware.DPoPAllowed, middleware.DPoPRequired} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("DPoP mode must be off, allowed or required, not %q", s)
}

// Option returns the middleware option that makes the API take DPoP as p
// says.
func (p Proofs) Option() (middleware.Option, error) {
	name := p.Mode
	if name == "" {
		name = middleware.DPoPAllowed.String()
	}
	mode, err := ParseDPoPMode(name)
	if err != nil {
		return nil, err
	}
	if mode == middleware.DPoPOff {
		return middleware.WithDPoP(nil, middleware.DPoPOff), nil
	}
	cfg := dpop.Config{Algorithms: p.Algs, ReplayStore: p.Store}
	if p.Nonce {
		key := p.NonceKey
		if key == nil {
			key = make([]byte, dpop.MinNonceKeySize)
			_, _ = rand.Read(key) // never fails (crypto/rand)
		}
		cfg.NonceKeys = [][]byte{key}
	}
	v, err := dpop.NewVerifier(cfg)
	if err != nil {
		return nil, err
	}
	return middleware.WithDPoP(v, mode), nil
}

// option is the middleware option of d with the API's other defaults
// (in-memory replay store, no nonces), which NewHandler puts before the
// caller's options.
func (d DPoP) option() middleware.Option {
	o, err := Proofs{Mode: string(d.EffectiveMode()), Algs: d.Algs}.Option()
	if err != nil {
		panic("api: DPoP settings: " + err.Error())
	}
	return o
}
