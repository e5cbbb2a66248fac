package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/apiguard/apiguard/validator"
)

// Server timeouts, as a production server would set them. A slow or idle
// client holds a connection (and a goroutine) for at most these.
const (
	// ReadHeaderTimeout bounds sending the request line and headers.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading the whole request; the API's requests
	// have no body to speak of.
	ReadTimeout = 10 * time.Second
	// WriteTimeout bounds a request from the end of its headers to the
	// end of the answer. The slowest answer waits for a key fetch
	// (validator.DefaultMaxKeyWait, 2 s), far below it.
	WriteTimeout = 30 * time.Second
	// IdleTimeout closes keep-alive connections unused that long.
	IdleTimeout = 2 * time.Minute
	// MaxHeaderBytes: a bearer token is at most 8 KiB
	// (validator.DefaultMaxTokenSize); 1 MiB (net/http's default) is
	// more than any client of this API needs.
	MaxHeaderBytes = 64 << 10
)

// NewServer returns the http.Server that serves h, with the timeouts above.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// Settings say whose tokens the API accepts.
type Settings struct {
	// Issuer is compared exactly with the tokens' iss.
	Issuer string
	// Audience is the API identifier.
	Audience string
	// JWKSURL, when set, is where the issuer's keys are; otherwise they
	// are found by discovery (Discovery) or at Auth0's
	// "{Issuer}.well-known/jwks.json".
	JWKSURL string
	// Discovery reads the JWKS URL from the issuer's OpenID configuration.
	Discovery bool
	// Logger receives the validator's key refresh messages.
	Logger *slog.Logger
}

// NewValidator returns the API's validator, and the function that closes
// it and its keys. It does not wait for the issuer: the API starts while
// the issuer is down or hanging, answers protected routes 503 with
// Retry-After (and /readyz 503) until the keys are loaded, and loads them
// in the background as soon as the issuer answers, without a restart.
//
// This and ready are the only places where the example relies on the
// validator's start-up and readiness API: the keys are a RemoteKeySet of
// its own (StartWithoutKeys), which the Validator uses but does not own.
func NewValidator(ctx context.Context, s Settings) (*validator.Validator, func(), error) {
	keys, err := validator.NewRemoteKeySet(ctx, validator.RemoteConfig{
		Issuer:           s.Issuer,
		JWKSURL:          s.JWKSURL,
		Discovery:        s.Discovery,
		Logger:           s.Logger,
		StartWithoutKeys: true,
	})
	if err != nil {
		return nil, nil, err
	}
	v, err := validator.New(ctx, validator.Config{
		Issuer:    s.Issuer,
		Audiences: []string{s.Audience},
		Keys:      keys,
		Logger:    s.Logger,
	})
	if err != nil {
		keys.Close()
		return nil, nil, err
	}
	return v, func() { v.Close(); keys.Close() }, nil
}

// ready reports whether v has the keys it needs (nil) or why not.
func ready(ctx context.Context, v *validator.Validator) error {
	return v.Ready(ctx)
}

// healthz answers 200 while the process runs: a liveness probe.
func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]string{"status": "ok"})
}

// readyz answers 200 once the signing keys are loaded, else 503: a
// readiness probe, so that a load balancer sends no traffic that would be
// answered 503 anyway.
func readyz(v *validator.Validator) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context(), v); err != nil {
			w.Header().Set("Retry-After", "5")
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "not ready", "reason": "signing keys not loaded"})
			return
		}
		writeJSON(w, map[string]string{"status": "ready"})
	}
}
