package claims_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/apiguard/apiguard/claims"
)

// exampleClaims stands in for the claims the validator returns.
func exampleClaims() *claims.Claims {
	c, err := claims.Parse([]byte(`{
		"iss": "https://tenant.eu.auth0.com/",
		"sub": "auth0|5f7c8ec7c33c6c004bbafe82",
		"aud": "https://api.example.com",
		"exp": 1764184245,
		"scope": "read:contacts write:contacts",
		"permissions": ["read:contacts"],
		"https://example.com/roles": ["admin", "editor"],
		"https://example.com/tenant": {"id": "t-42", "plan": "pro"}
	}`))
	if err != nil {
		panic(err)
	}
	return c
}

func ExampleGet() {
	c := exampleClaims()

	roles, err := claims.Get[[]string](c, "https://example.com/roles")
	fmt.Println(roles, err)

	_, err = claims.Get[[]string](c, "https://example.com/missing")
	fmt.Println(errors.Is(err, claims.ErrMissing), err)

	_, err = claims.Get[string](c, "https://example.com/roles")
	fmt.Println(errors.Is(err, claims.ErrType), err)
	// Output:
	// [admin editor] <nil>
	// true claims: claim "https://example.com/missing" missing
	// true claims: claim "https://example.com/roles" is a JSON array, not string
}

func ExampleClaims_HasScope() {
	c := exampleClaims()
	fmt.Println(c.HasScope("read:contacts"))
	fmt.Println(c.HasScope("read")) // exact match only
	fmt.Println(c.HasAllScopes("read:contacts", "write:contacts"))
	fmt.Println(c.HasAnyScope("delete:contacts", "write:contacts"))
	fmt.Println(c.HasPermission("write:contacts"))
	// Output:
	// true
	// false
	// true
	// true
	// false
}

func ExampleClaims_DecodeCustom() {
	c := exampleClaims()

	var custom struct {
		Roles  []string `json:"https://example.com/roles"`
		Tenant struct {
			ID   string `json:"id"`
			Plan string `json:"plan"`
		} `json:"https://example.com/tenant"`
	}
	if err := c.DecodeCustom(&custom); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(custom.Roles, custom.Tenant.ID, custom.Tenant.Plan)
	// Output:
	// [admin editor] t-42 pro
}

func ExampleFromContext() {
	// The middleware stores the validated claims in the request context.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := claims.FromContext(r.Context())
		if !ok || !c.HasScope("read:contacts") {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "contacts of %s", c.Subject)
	})

	r := httptest.NewRequest(http.MethodGet, "/contacts", nil)
	r = r.WithContext(claims.NewContext(context.Background(), exampleClaims()))
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 contacts of auth0|5f7c8ec7c33c6c004bbafe82
}

// ParseString suits a claims set that is already a string: it shares the
// string's memory instead of copying it. Like Parse, it refuses what other
// parsers would read differently, such as a duplicate member.
func ExampleParseString() {
	c, err := claims.ParseString(`{"iss":"https://tenant.eu.auth0.com/","sub":"auth0|42","scope":"read:contacts write:contacts"}`)
	fmt.Println(c.Subject, c.Scopes, err)

	_, err = claims.ParseString(`{"sub":"auth0|42","sub":"auth0|admin"}`)
	fmt.Println(errors.Is(err, claims.ErrInvalid), err)
	// Output:
	// auth0|42 [read:contacts write:contacts] <nil>
	// true claims: invalid claims set: duplicate member name
}
