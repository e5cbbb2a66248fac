package middleware_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDescriptionsDoNotEnumerate (issue 10, item 8): tokens that differ
// only in something the server's configuration decides before the
// signature verifies (a trusted issuer, an existing kid, an allowed alg)
// get the same answer, so an anonymous client learns nothing of that
// configuration; the hook still sees each exact class and reason.
func TestDescriptionsDoNotEnumerate(t *testing.T) {
	t.Parallel()
	iss, v := fixture(t)
	stranger := validatortest.GenerateKey("test-key-1", "RS256") // the kid exists, the key does not
	h, p, _ := segments(iss.Mint())
	forged := h + "." + p + ".AAAA"

	var mu sync.Mutex
	var last *middleware.Failure
	srv := serve(t, v, whoami, middleware.WithOnReject(func(_ *http.Request, f *middleware.Failure) {
		mu.Lock()
		last = f
		mu.Unlock()
	}))

	notVerified, notVerifiedBody := invalidToken("signature not verified")
	malformed, malformedBody := invalidToken("malformed token")
	for _, tt := range []struct {
		name      string
		token     string
		www, body string
		class     error
		reason    string
	}{
		// Before the signature verifies: one answer for all.
		{"forged signature, trusted issuer", forged, notVerified, notVerifiedBody, validator.ErrSignature, "signature does not verify"},
		{"untrusted issuer", iss.Mint(validatortest.WithClaim("iss", "https://other.example.com/")), notVerified, notVerifiedBody, validator.ErrIssuer, ""},
		{"untrusted issuer, forged", resign(iss.Mint(validatortest.WithClaim("iss", "https://other.example.com/")), "eA"), notVerified, notVerifiedBody, validator.ErrIssuer, ""},
		{"unknown kid", iss.Mint(validatortest.WithHeader("kid", "no-such-key")), notVerified, notVerifiedBody, validator.ErrUnknownKey, ""},
		{"existing kid, other key", iss.Mint(validatortest.WithKey(stranger)), notVerified, notVerifiedBody, validator.ErrSignature, ""},
		{"alg not allowed", iss.Mint(validatortest.WithHeader("alg", "PS256")), notVerified, notVerifiedBody, validator.ErrAlgorithm, "alg not allowed"},
		{"alg not allowed, untrusted issuer", iss.Mint(validatortest.WithHeader("alg", "ES256"), validatortest.WithClaim("iss", "https://other.example.com/")), notVerified, notVerifiedBody, validator.ErrAlgorithm, ""},
		{"wrong typ", iss.Mint(validatortest.WithHeader("typ", "id_token")), notVerified, notVerifiedBody, validator.ErrTokenType, ""},
		{"bad claims, trusted issuer", iss.Mint(validatortest.WithClaim("exp", "tomorrow")), notVerified, notVerifiedBody, validator.ErrMalformed, ""},
		{"bad claims, untrusted issuer", iss.Mint(validatortest.WithClaim("exp", "tomorrow"), validatortest.WithClaim("iss", "https://other.example.com/")), notVerified, notVerifiedBody, validator.ErrIssuer, ""},
		{"crit header", iss.Mint(validatortest.WithHeader("crit", []string{"exp"})), notVerified, notVerifiedBody, validator.ErrHeader, ""},
		// Not a JWS at all: a fact of the token alone.
		{"one segment", "abc", malformed, malformedBody, validator.ErrMalformed, "not a compact JWS of three segments"},
		{"header not JSON", "YWJj." + p + ".AAAA", malformed, malformedBody, validator.ErrMalformed, ""},
		// After the signature verifies, the class is shown.
		{"expired", iss.Mint(validatortest.WithExpiry(time.Now().Add(-time.Hour))), `Bearer realm="api", error="invalid_token", error_description="token expired"`, "", validator.ErrExpired, "exp is in the past"},
		{"wrong audience", iss.Mint(validatortest.WithAudience("https://other.example.com")), `Bearer realm="api", error="invalid_token", error_description="wrong audience"`, "", validator.ErrAudience, ""},
		{"no subject", iss.Mint(validatortest.WithoutClaim("sub")), `Bearer realm="api", error="invalid_token", error_description="missing or invalid claim"`, "", validator.ErrClaims, "sub missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			last = nil
			mu.Unlock()
			res := do(t, http.MethodGet, srv.URL, []string{"Bearer " + tt.token}, nil)
			require.Equal(t, 401, res.Status)
			assert.Equal(t, tt.www, res.Header.Get("WWW-Authenticate"))
			if tt.body != "" {
				assert.Equal(t, tt.body, res.Body)
			}
			mu.Lock()
			f := last
			mu.Unlock()
			require.NotNil(t, f)
			assert.ErrorIs(t, f.Err, tt.class)
			var ve *validator.Error
			require.True(t, errors.As(f.Err, &ve))
			if tt.reason != "" {
				assert.Equal(t, tt.reason, ve.Reason)
				assert.Contains(t, f.LogValue().String(), tt.reason, "the log has the reason")
			}
		})
	}
}
