package validator_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/middleware"
)

// End to end through the middleware: while the issuer is down at start,
// requests get 503 with Retry-After (not 401: the client did nothing
// wrong); once it is back, the same token gets 200 with no restart; a
// random kid gets 401.
func TestKeysThroughMiddleware(t *testing.T) {
	t.Parallel()
	iss := newES256Issuer(t, "k1")
	iss.SetFault(testkit.FaultDown)
	cfg := keysConfig(iss, nil)
	cfg.StartWithoutKeys = true
	cfg.Logger = discardLogger()
	v := newKeysValidator(t, cfg)
	h := middleware.New(v)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	call := func(token string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, "/contacts", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	token := iss.Mint()

	res := call(token)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	assert.Empty(t, res.Header.Get("WWW-Authenticate"))

	iss.SetFault(testkit.NoFault)
	require.Eventually(t, func() bool { return call(token).StatusCode == http.StatusOK }, keysWait, 5*time.Millisecond)
	res = call(tokenWithKid(iss, "ES256", "random-kid"))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, res.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
}
