package claims_test

import (
	"context"
	"errors"
	"testing"

	"github.com/apiguard/apiguard/claims"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mustParse parses a claims set that the test knows to be valid.
func mustParse(t testing.TB, payload string) *claims.Claims {
	t.Helper()
	c, err := claims.Parse([]byte(payload))
	require.NoError(t, err)
	return c
}

const rolesClaim = "https://example.com/roles"

// auth0Payload is shaped like an Auth0 access token with RBAC and custom
// claims set by an Action.
const auth0Payload = `{
	"iss": "https://tenant.eu.auth0.com/",
	"sub": "auth0|5f7c8ec7c33c6c004bbafe82",
	"aud": ["https://api.example.com", "https://tenant.eu.auth0.com/userinfo"],
	"iat": 1764097845,
	"exp": 1764184245,
	"azp": "nH3Vx1aAbCdEfGhIjKlMnOpQrStUvWx",
	"scope": "openid profile read:contacts write:contacts",
	"permissions": ["read:contacts", "write:contacts", "admin:all"],
	"org_id": "org_a1b2c3",
	"https://example.com/roles": ["admin", "editor"],
	"https://example.com/email": "jane@example.com",
	"https://example.com/profile": {"team": "blue", "level": 3},
	"https://example.com/flags": {"beta": true},
	"https://example.com/null": null
}`

func TestHasScopeIsExact(t *testing.T) {
	c := mustParse(t, `{"scope":"read read:contacts write:contacts:own Admin"}`)
	tests := []struct {
		scope string
		want  bool
	}{
		{"read", true},
		{"read:contacts", true},
		{"write:contacts:own", true},
		{"Admin", true},
		{"read:all", false},           // prefix of nothing granted
		{"read:contact", false},       // prefix of a granted scope
		{"write:contacts", false},     // prefix of "write:contacts:own"
		{"admin", false},              // case matters
		{"read read:contacts", false}, // two scopes are not one
		{"", false},
		{" read", false},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			assert.Equal(t, tt.want, c.HasScope(tt.scope))
		})
	}
}

func TestHasAllAndAnyScopes(t *testing.T) {
	c := mustParse(t, `{"scope":"a b c"}`)
	none := mustParse(t, `{}`)

	assert.True(t, c.HasAllScopes(), "no scopes required: vacuously true")
	assert.True(t, none.HasAllScopes(), "no scopes required, none granted: vacuously true")
	assert.True(t, c.HasAllScopes("a", "c"))
	assert.False(t, c.HasAllScopes("a", "d"))
	assert.False(t, none.HasAllScopes("a"))

	assert.False(t, c.HasAnyScope(), "no candidates: false")
	assert.False(t, none.HasAnyScope())
	assert.True(t, c.HasAnyScope("x", "b"))
	assert.False(t, c.HasAnyScope("x", "y"))
	assert.False(t, none.HasAnyScope("a"))
}

func TestHasPermission(t *testing.T) {
	c := mustParse(t, auth0Payload)
	assert.True(t, c.HasPermission("read:contacts"))
	assert.True(t, c.HasPermission("admin:all"))
	assert.False(t, c.HasPermission("read"), "no prefix matching")
	assert.False(t, c.HasPermission("READ:CONTACTS"), "no case folding")
	assert.False(t, c.HasPermission("openid"), "a scope is not a permission")
	assert.False(t, c.HasPermission(""))
	assert.False(t, mustParse(t, `{}`).HasPermission("read:contacts"))
}

func TestHasAllPermissions(t *testing.T) {
	c := mustParse(t, auth0Payload)
	assert.True(t, c.HasAllPermissions("read:contacts", "admin:all"))
	assert.True(t, c.HasAllPermissions("read:contacts"))
	assert.True(t, c.HasAllPermissions(), "nothing required")
	assert.False(t, c.HasAllPermissions("read:contacts", "write:nothing"))
	assert.False(t, c.HasAllPermissions("read:contacts", "openid"), "a scope is not a permission")
	assert.False(t, mustParse(t, `{}`).HasAllPermissions("read:contacts"))
}

func TestHasAudienceAndClient(t *testing.T) {
	c := mustParse(t, auth0Payload)
	assert.True(t, c.HasAudience("https://api.example.com"))
	assert.False(t, c.HasAudience("https://api.example.com/"))
	assert.False(t, c.HasAudience(""))
	assert.Equal(t, "nH3Vx1aAbCdEfGhIjKlMnOpQrStUvWx", c.Client(), "azp when there is no client_id")

	rfc := mustParse(t, `{"client_id":"cid","azp":"other"}`)
	assert.Equal(t, "cid", rfc.Client(), "client_id wins over azp")
	assert.Equal(t, "", mustParse(t, `{}`).Client())
}

func TestGet(t *testing.T) {
	c := mustParse(t, auth0Payload)

	t.Run("string", func(t *testing.T) {
		v, err := claims.Get[string](c, "https://example.com/email")
		require.NoError(t, err)
		assert.Equal(t, "jane@example.com", v)
	})
	t.Run("[]string namespaced roles", func(t *testing.T) {
		v, err := claims.Get[[]string](c, rolesClaim)
		require.NoError(t, err)
		assert.Equal(t, []string{"admin", "editor"}, v)
	})
	t.Run("map", func(t *testing.T) {
		v, err := claims.Get[map[string]any](c, "https://example.com/profile")
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"team": "blue", "level": float64(3)}, v)
	})
	t.Run("struct", func(t *testing.T) {
		type profile struct {
			Team  string `json:"team"`
			Level int    `json:"level"`
		}
		v, err := claims.Get[profile](c, "https://example.com/profile")
		require.NoError(t, err)
		assert.Equal(t, profile{Team: "blue", Level: 3}, v)
	})
	t.Run("any", func(t *testing.T) {
		v, err := claims.Get[any](c, "https://example.com/flags")
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"beta": true}, v)
	})
	t.Run("missing", func(t *testing.T) {
		v, err := claims.Get[string](c, "https://example.com/absent")
		require.ErrorIs(t, err, claims.ErrMissing)
		assert.NotErrorIs(t, err, claims.ErrType)
		var ce *claims.ClaimError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "https://example.com/absent", ce.Name)
		assert.Equal(t, claims.ErrMissing, ce.Class)
		assert.Equal(t, "", v)
		assert.Contains(t, err.Error(), "https://example.com/absent")
	})
	t.Run("registered claims are not custom", func(t *testing.T) {
		// iss, sub, ... have fields; Get reads custom claims only.
		_, err := claims.Get[string](c, "iss")
		require.ErrorIs(t, err, claims.ErrMissing)
	})
	t.Run("name is exact", func(t *testing.T) {
		_, err := claims.Get[[]string](c, "https://EXAMPLE.com/roles")
		require.ErrorIs(t, err, claims.ErrMissing)
	})
	t.Run("wrong type", func(t *testing.T) {
		v, err := claims.Get[int](c, "https://example.com/email")
		require.ErrorIs(t, err, claims.ErrType)
		assert.NotErrorIs(t, err, claims.ErrMissing)
		var ce *claims.ClaimError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "https://example.com/email", ce.Name)
		assert.Zero(t, v)
		assert.NotContains(t, err.Error(), "jane@example.com", "the message names the claim, not its value")
	})
	t.Run("wrong element type", func(t *testing.T) {
		v, err := claims.Get[[]int](c, rolesClaim)
		require.ErrorIs(t, err, claims.ErrType)
		assert.Nil(t, v, "a failed Get returns the zero value, not a partial one")
		assert.NotContains(t, err.Error(), "editor")
	})
	t.Run("string is not []string", func(t *testing.T) {
		_, err := claims.Get[[]string](c, "https://example.com/email")
		require.ErrorIs(t, err, claims.ErrType)
	})
	t.Run("null into string", func(t *testing.T) {
		// A present null claim decodes into the zero value: it is not missing.
		v, err := claims.Get[string](c, "https://example.com/null")
		require.NoError(t, err)
		assert.Equal(t, "", v)
	})
	t.Run("zero Claims", func(t *testing.T) {
		_, err := claims.Get[string](&claims.Claims{}, "x")
		require.ErrorIs(t, err, claims.ErrMissing)
	})
}

func TestRawAndCustomNames(t *testing.T) {
	c := mustParse(t, auth0Payload)
	assert.Equal(t, []string{
		"https://example.com/email",
		"https://example.com/flags",
		"https://example.com/null",
		"https://example.com/profile",
		"https://example.com/roles",
	}, c.CustomNames(), "sorted, registered claims excluded")

	raw, ok := c.Raw(rolesClaim)
	require.True(t, ok)
	assert.JSONEq(t, `["admin","editor"]`, string(raw))
	_, ok = c.Raw("iss")
	assert.False(t, ok, "registered claims have fields, not raw values")
	_, ok = c.Raw("nope")
	assert.False(t, ok)
	assert.Empty(t, mustParse(t, `{"iss":"x"}`).CustomNames())
}

func TestDecodeCustom(t *testing.T) {
	c := mustParse(t, auth0Payload)

	t.Run("into a struct", func(t *testing.T) {
		var v struct {
			Roles   []string `json:"https://example.com/roles"`
			Email   string   `json:"https://example.com/email"`
			Profile struct {
				Team  string `json:"team"`
				Level int    `json:"level"`
			} `json:"https://example.com/profile"`
			Absent string `json:"https://example.com/absent"`
		}
		require.NoError(t, c.DecodeCustom(&v))
		assert.Equal(t, []string{"admin", "editor"}, v.Roles)
		assert.Equal(t, "jane@example.com", v.Email)
		assert.Equal(t, "blue", v.Profile.Team)
		assert.Equal(t, 3, v.Profile.Level)
		assert.Equal(t, "", v.Absent, "claims without a field are ignored and vice versa")
	})
	t.Run("into a map", func(t *testing.T) {
		var m map[string]any
		require.NoError(t, c.DecodeCustom(&m))
		assert.Len(t, m, 5)
		assert.NotContains(t, m, "iss", "registered claims are not custom")
	})
	t.Run("wrong type", func(t *testing.T) {
		var v struct {
			Email int `json:"https://example.com/email"`
		}
		err := c.DecodeCustom(&v)
		require.ErrorIs(t, err, claims.ErrType)
		var ce *claims.ClaimError
		require.ErrorAs(t, err, &ce)
		assert.Contains(t, ce.Name, "https:~1~1example.com~1email", "a JSON pointer to the claim")
		assert.NotContains(t, err.Error(), "jane@example.com")
	})
	t.Run("no custom claims", func(t *testing.T) {
		var v struct {
			Roles []string `json:"https://example.com/roles"`
		}
		require.NoError(t, mustParse(t, `{"iss":"x"}`).DecodeCustom(&v))
		assert.Nil(t, v.Roles)
	})
	t.Run("non-pointer", func(t *testing.T) {
		var v struct{}
		require.ErrorIs(t, c.DecodeCustom(v), claims.ErrType)
	})
}

func TestContext(t *testing.T) {
	c := mustParse(t, `{"sub":"u1"}`)

	got, ok := claims.FromContext(claims.NewContext(context.Background(), c))
	require.True(t, ok)
	assert.Same(t, c, got)

	got, ok = claims.FromContext(context.Background())
	assert.False(t, ok)
	assert.Nil(t, got)

	got, ok = claims.FromContext(claims.NewContext(context.Background(), nil))
	assert.False(t, ok, "a nil *Claims is no claims")
	assert.Nil(t, got)

	// Another package's value under a look-alike key is not found.
	type contextKey struct{}
	got, ok = claims.FromContext(context.WithValue(context.Background(), contextKey{}, c))
	assert.False(t, ok)
	assert.Nil(t, got)

	// The claims go-jwt-middleware's CheckJWT stored (package middleware
	// leaves them there) are found; its other claim types are not, and
	// claims stored by NewContext after them win.
	mw := context.WithValue(context.Background(), jwtmiddleware.ContextKey{}, c)
	got, ok = claims.FromContext(mw)
	require.True(t, ok)
	assert.Same(t, c, got)
	_, ok = claims.FromContext(context.WithValue(context.Background(), jwtmiddleware.ContextKey{}, "other"))
	assert.False(t, ok)
	_, ok = claims.FromContext(context.WithValue(context.Background(), jwtmiddleware.ContextKey{}, (*claims.Claims)(nil)))
	assert.False(t, ok)
	d := mustParse(t, `{"sub":"u2"}`)
	got, ok = claims.FromContext(claims.NewContext(mw, d))
	require.True(t, ok)
	assert.Same(t, d, got)
	_, ok = claims.FromContext(claims.NewContext(mw, nil))
	assert.False(t, ok, "a nil *Claims stored by NewContext hides the middleware's")

	// Derived contexts keep the claims.
	ctx, cancel := context.WithCancel(claims.NewContext(context.Background(), c))
	defer cancel()
	got, ok = claims.FromContext(ctx)
	require.True(t, ok)
	assert.Same(t, c, got)
}

func TestClaimErrorMessages(t *testing.T) {
	c := mustParse(t, `{"n":1}`)
	_, err := claims.Get[string](c, "n")
	assert.EqualError(t, err, `claims: claim "n" is a JSON number, not string`)
	_, err = claims.Get[string](c, "m")
	assert.EqualError(t, err, `claims: claim "m" missing`)
	assert.True(t, errors.Is(&claims.ClaimError{Name: "x", Class: claims.ErrInvalid}, claims.ErrInvalid))
}
