package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// wrapped hides the concrete *validator.Validator from the middleware,
// which then checks a token's characters before validating it, as for any
// TokenValidator.
type wrapped struct{ v *validator.Validator }

func (w wrapped) Validate(ctx context.Context, token string) (*claims.Claims, error) {
	return w.v.Validate(ctx, token)
}

// With this package's Validator the b64token check runs only on refused
// tokens: every answer, and the class the hook sees, must be the one the
// check gives when it runs first.
func TestTokenSyntaxCheckedAfterRefusalAnswersAlike(t *testing.T) {
	iss, v := fixture(t)
	good := iss.Mint()
	expired := iss.Mint(validatortest.WithExpiry(time.Now().Add(-time.Hour)))
	h, p, s := segments(good)
	var mu sync.Mutex
	classes := map[string][]string{}
	hook := func(name string) middleware.Option {
		return middleware.WithOnReject(func(r *http.Request, f *middleware.Failure) {
			mu.Lock()
			defer mu.Unlock()
			class := "token"
			if errors.Is(f.Err, middleware.ErrInvalidRequest) {
				class = "request"
			}
			classes[name] = append(classes[name], class)
		})
	}
	deferred := serve(t, v, whoami, hook("deferred"))
	upfront := serve(t, wrapped{v}, whoami, hook("upfront"))
	for _, tok := range []string{
		good + "!", "!" + good, h + "!." + p + "." + s, h + "." + p + "!." + s, h + "." + p + "." + s + "!",
		h + "." + p + "." + s[:len(s)-1] + "\u00e9", expired + "\"", `"` + good + `"`, good + " x", good + ",x",
		good + "=", good + "==x", "ab%2Ecd", "t\u00f6ken", expired, good + "~", good + "+/", "a.b.c", good,
		strings.Repeat("A", 5000) + "!",
	} {
		got := do(t, http.MethodGet, deferred.URL, []string{"Bearer " + tok}, nil)
		want := do(t, http.MethodGet, upfront.URL, []string{"Bearer " + tok}, nil)
		assert.Equal(t, want.Status, got.Status, "token %q", tok)
		assert.Equal(t, want.Header.Values("WWW-Authenticate"), got.Header.Values("WWW-Authenticate"), "token %q", tok)
		assert.Equal(t, want.Body, got.Body, "token %q", tok)
	}
	require.Equal(t, classes["upfront"], classes["deferred"])
	assert.Contains(t, classes["deferred"], "request")
	assert.Contains(t, classes["deferred"], "token")
}
