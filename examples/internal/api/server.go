package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/apiguard/apiguard/resource"
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
	// DPoP says how the API takes DPoP-bound tokens; the zero value is
	// DPoPAllowed with DefaultDPoPAlgs.
	DPoP DPoP
}

// DPoPMode says whether the API takes DPoP-bound tokens (RFC 9449).
type DPoPMode string

// DPoP modes.
const (
	// DPoPAllowed takes both Bearer and DPoP tokens; the default.
	DPoPAllowed DPoPMode = "allowed"
	// DPoPRequired takes DPoP tokens only.
	DPoPRequired DPoPMode = "required"
	// DPoPOff takes Bearer tokens only.
	DPoPOff DPoPMode = "off"
)

// DefaultDPoPAlgs are the JWS algorithms the API accepts for DPoP proofs
// unless DPoP.Algs says otherwise.
var DefaultDPoPAlgs = []string{"ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA"}

// DPoP is the single place that says how the API takes DPoP proofs.
//
// DPoP is not wired into the middleware yet: today only the metadata
// reads it (dpop_signing_alg_values_supported whenever the mode is not
// DPoPOff, dpop_bound_access_tokens_required with DPoPRequired). Whoever
// connects DPoP to the middleware reads the same two fields, so that what
// the API announces and what it does cannot drift apart.
type DPoP struct {
	// Mode is DPoPAllowed when empty.
	Mode DPoPMode
	// Algs are the accepted proof algorithms; nil means DefaultDPoPAlgs.
	Algs []string
}

// EffectiveMode returns Mode with its default applied.
func (d DPoP) EffectiveMode() DPoPMode {
	if d.Mode == "" {
		return DPoPAllowed
	}
	return d.Mode
}

// EffectiveAlgs returns the accepted proof algorithms: none when DPoP is
// off, else Algs or DefaultDPoPAlgs.
func (d DPoP) EffectiveAlgs() []string {
	switch {
	case d.EffectiveMode() == DPoPOff:
		return nil
	case d.Algs != nil:
		return slices.Clone(d.Algs)
	}
	return slices.Clone(DefaultDPoPAlgs)
}

// Metadata returns the API's protected resource metadata (RFC 9728): the
// audience is the resource identifier, the issuer its only authorization
// server; tokens come in the Authorization header only.
func (s Settings) Metadata() resource.Metadata {
	return resource.Metadata{
		Resource:                      s.Audience,
		AuthorizationServers:          []string{s.Issuer},
		ScopesSupported:               []string{ContactsScope},
		BearerMethodsSupported:        []string{"header"},
		ResourceName:                  "Contacts API (apiguard example)",
		DPoPSigningAlgValuesSupported: s.DPoP.EffectiveAlgs(),
		DPoPBoundAccessTokensRequired: s.DPoP.EffectiveMode() == DPoPRequired,
	}
}

// MetadataWarning explains, for the start-up log, why the API serves no
// metadata, or returns "" when it does.
func (s Settings) MetadataWarning() string {
	if _, err := resource.NewHandler(s.Metadata()); err != nil {
		return fmt.Sprintf("audience %q is not an absolute http(s) URL, so it cannot be an RFC 9728 resource identifier: no /.well-known/oauth-protected-resource and no resource_metadata in challenges", s.Audience)
	}
	return ""
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
