package middleware_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
	"github.com/stretchr/testify/require"
)

// One issuer and validator for the package: RSA key generation is the
// slow part, and both are safe for concurrent use.
// fixtureKey is the package's one signing key: RSA key generation is the
// slow part of a fixture.
var fixtureKey = sync.OnceValue(func() *validatortest.Key {
	return validatortest.GenerateKey("test-key-1", "RS256")
})

// fixture starts a fake issuer and a validator that trusts it, both
// closed when the test ends.
func fixture(t testing.TB) (*validatortest.Issuer, *validator.Validator) {
	t.Helper()
	iss := validatortest.New(t, validatortest.SigningKeys(fixtureKey()))
	v, err := validator.New(t.Context(), iss.Config())
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	return iss, v
}

// whoami answers 200 with what the handler saw: the subject from
// claims.FromContext (or "anonymous"), the scopes and the request URI.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	sub := "anonymous"
	var scopes []string
	if c, ok := claims.FromContext(r.Context()); ok {
		sub, scopes = c.Subject, c.Scopes
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sub":         sub,
		"scopes":      scopes,
		"request_uri": r.RequestURI,
		"url":         r.URL.String(),
	})
})

// serve starts a real server with the middleware in front of h.
func serve(t testing.TB, v middleware.TokenValidator, h http.Handler, opts ...middleware.Option) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(middleware.New(v, opts...)(h))
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	Status int
	Header http.Header
	Body   string
	Dump   string // status, every header and the body, to search for leaks
}

// do sends a request with the given Authorization header lines.
func do(t testing.TB, method, url string, auth []string, extra http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, vs := range extra {
		req.Header[k] = vs
	}
	if auth != nil {
		req.Header["Authorization"] = auth
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var dump strings.Builder
	dump.WriteString(resp.Status + "\n")
	for k, vs := range resp.Header {
		dump.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
	}
	dump.Write(body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Dump: dump.String()}
}

// segments splits a token into its three encoded segments.
func segments(token string) (header, payload, signature string) {
	parts := append(strings.SplitN(token, ".", 3), "", "")
	return parts[0], parts[1], parts[2]
}

// resign replaces the token's signature segment with sig.
func resign(token, sig string) string {
	h, p, _ := segments(token)
	return h + "." + p + "." + sig
}

// requireNoLeak fails when s holds the token or any of its segments.
func requireNoLeak(t testing.TB, s, token string) {
	t.Helper()
	if token == "" {
		return
	}
	require.NotContains(t, s, token)
	h, p, sig := segments(token)
	for _, seg := range []string{h, p, sig} {
		if len(seg) >= 8 {
			require.NotContains(t, s, seg)
		}
	}
}

// failingKeys is a key source whose issuer cannot be reached: the
// validator is real, its keys are not available.
type failingKeys struct{}

func (failingKeys) Key(context.Context, string, string) (*validator.Key, error) {
	return nil, &validator.Error{Class: validator.ErrKeysUnavailable, Reason: "key set not loaded"}
}

// unavailableValidator returns a real validator for iss whose keys cannot
// be loaded.
func unavailableValidator(t testing.TB, iss *validatortest.Issuer) *validator.Validator {
	t.Helper()
	cfg := iss.Config()
	cfg.Keys = failingKeys{}
	v, err := validator.New(context.Background(), cfg)
	require.NoError(t, err)
	return v
}
