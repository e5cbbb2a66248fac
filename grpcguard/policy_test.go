package grpcguard_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/grpcguard"
	"github.com/apiguard/apiguard/scopes"
)

// TestGuards checks each built-in guard against claims that pass and fail
// it: exact matching, the class and the message naming what is required.
func TestGuards(t *testing.T) {
	c := &claims.Claims{
		Scopes:      []string{"openid", "read:contacts"},
		Permissions: []string{"read:contacts", "write:contacts"},
		OrgID:       "org_acme",
	}
	isAdmin := func(c *claims.Claims) bool { return slices.Contains(c.Permissions, "admin") }
	tests := []struct {
		name    string
		g       grpcguard.Guard
		ok      bool
		class   error
		message string
	}{
		{"scope held", grpcguard.Scope("read:contacts"), true, nil, ""},
		{"all scopes held", grpcguard.Scope("openid", "read:contacts"), true, nil, ""},
		{"one scope missing", grpcguard.Scope("read:contacts", "write:contacts"), false, scopes.ErrScope, "insufficient scope: requires: read:contacts write:contacts"},
		{"prefix is not a match", grpcguard.Scope("read"), false, scopes.ErrScope, "insufficient scope: requires: read"},
		{"any scope held", grpcguard.AnyScope("write:contacts", "read:contacts"), true, nil, ""},
		{"no scope held", grpcguard.AnyScope("write:contacts", "admin"), false, scopes.ErrScope, "insufficient scope: requires one of: write:contacts admin"},
		{"permissions held", grpcguard.Permission("read:contacts", "write:contacts"), true, nil, ""},
		{"permission missing", grpcguard.Permission("delete:contacts"), false, scopes.ErrPermission, "missing permission: requires: delete:contacts"},
		{"scope is not a permission", grpcguard.Permission("openid"), false, scopes.ErrPermission, "missing permission: requires: openid"},
		{"organization", grpcguard.Organization("org_acme"), true, nil, ""},
		{"other organization", grpcguard.Organization("org_other"), false, scopes.ErrOrganization, "the token is not for this organization"},
		{"claim holds", grpcguard.Claim("writer", func(c *claims.Claims) bool { return c.HasPermission("write:contacts") }), true, nil, ""},
		{"claim fails", grpcguard.Claim("admin", isAdmin), false, scopes.ErrClaim, "the token does not satisfy a required claim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.g(context.Background(), c)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.class)
			assert.Equal(t, tt.message, err.Error())
			var d *grpcguard.Denied
			require.ErrorAs(t, err, &d)
		})
	}
	// An organization guard refuses a token without org_id.
	require.Error(t, grpcguard.Organization("org_acme")(context.Background(), &claims.Claims{}))
}

// TestDeniedIsNotShared: each refusal is its own value.
func TestDeniedIsNotShared(t *testing.T) {
	g := grpcguard.Scope("read:contacts")
	var d *grpcguard.Denied
	require.True(t, errors.As(g(context.Background(), &claims.Claims{}), &d))
	d.Scope = "changed"
	assert.Equal(t, "insufficient scope: requires: read:contacts", g(context.Background(), &claims.Claims{}).Error())
}

func TestGuardConstructorsPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"Scope without values":     func() { grpcguard.Scope() },
		"Scope with empty value":   func() { grpcguard.Scope("") },
		"Scope with space":         func() { grpcguard.Scope("read contacts") },
		"AnyScope without values":  func() { grpcguard.AnyScope() },
		"Permission with quote":    func() { grpcguard.Permission(`a"b`) },
		"RequireScope without":     func() { grpcguard.RequireScope() },
		"Organization empty":       func() { grpcguard.Organization("") },
		"Claim nil":                func() { grpcguard.Claim("x", nil) },
		"Authenticated nil guard":  func() { grpcguard.Authenticated(nil) },
		"Authenticated second nil": func() { grpcguard.Authenticated(grpcguard.Scope("a"), nil) },
	} {
		assert.Panics(t, f, name)
	}
}
