package middleware_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// TestBoundTokenAsBearer: a token bound to a key (cnf) sent as a bearer
// token is refused, 401 invalid_token, whatever its binding; an unbound
// token still passes (issue 12 item 1: a bound token is never
// downgraded).
func TestBoundTokenAsBearer(t *testing.T) {
	iss, v := fixture(t)
	var rejected *middleware.Failure
	h := middleware.New(v, middleware.WithQueryToken(""), middleware.WithOnReject(func(_ *http.Request, f *middleware.Failure) { rejected = f }))(whoami)
	for _, tc := range []struct {
		name  string
		token string
		query bool
		ok    bool
	}{
		{"unbound token", iss.Mint(), false, true},
		{"DPoP-bound token (cnf.jkt)", iss.Mint(validatortest.WithClaim("cnf", map[string]string{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})), false, false},
		{"mTLS-bound token (cnf.x5t#S256)", iss.Mint(validatortest.WithClaim("cnf", map[string]string{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"})), false, false},
		{"empty cnf", iss.Mint(validatortest.WithClaim("cnf", map[string]string{})), false, false},
		{"DPoP-bound token in the query", iss.Mint(validatortest.WithClaim("cnf", map[string]string{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rejected = nil
			r := httptest.NewRequest("GET", "/api/private", nil)
			if tc.query {
				r = httptest.NewRequest("GET", "/api/private?access_token="+tc.token, nil)
			} else {
				r.Header.Set("Authorization", "Bearer "+tc.token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tc.ok {
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				return
			}
			require.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Equal(t, `Bearer realm="api", error="invalid_token", error_description="bound token sent with the Bearer scheme"`, w.Header().Get("WWW-Authenticate"))
			assert.NotContains(t, w.Body.String(), tc.token)
			require.NotNil(t, rejected)
			assert.True(t, errors.Is(rejected, middleware.ErrBoundTokenAsBearer))
			assert.True(t, errors.Is(rejected, validator.ErrInvalidToken))
		})
	}
}
