package validatortest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// Test an API's own handlers with real tokens: a fake issuer on loopback
// serves the JWKS that the validator fetches, and mints tokens. In a test
// function, validatortest.New(t) does the same and closes the issuer when
// the test ends.
func ExampleNewIssuer() {
	iss := validatortest.NewIssuer()
	defer iss.Close()

	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	c, err := v.Validate(context.Background(), iss.Mint(
		validatortest.WithScope("read:contacts"),
		validatortest.WithClaim("https://example.com/roles", []string{"admin"}),
	))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Scopes, c.CustomNames())
	// Output: [read:contacts] [https://example.com/roles]
}

// The audience is set once, for the issuer's Config and its tokens.
func ExampleAudience() {
	iss := validatortest.NewIssuer(validatortest.Audience("https://contacts.example.com"))
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	c, err := v.Validate(context.Background(), iss.Mint())
	fmt.Println(c.Audience, err)
	// Output: [https://contacts.example.com] <nil>
}

// Deliberately broken tokens: every header and claim can be changed.
func ExampleIssuer_Mint_broken() {
	iss := validatortest.NewIssuer()
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	for _, token := range []string{
		iss.Mint(validatortest.WithExpiry(time.Now().Add(-time.Hour))),
		iss.Mint(validatortest.WithHeader("alg", "none")),
		iss.Mint(validatortest.WithAudience("https://another-api.example.com")),
	} {
		_, err := v.Validate(context.Background(), token)
		fmt.Println(err)
	}
	// Output:
	// token expired: exp is in the past
	// algorithm not allowed: alg not allowed
	// wrong audience: aud holds no accepted audience (accepted: "https://api.example.com")
}

// Outages: the issuer can misbehave, as a real one sometimes does.
func ExampleIssuer_SetFault() {
	iss := validatortest.NewIssuer()
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	// The issuer goes down: the keys already loaded keep working.
	iss.SetFault(validatortest.FaultDown)
	_, err = v.Validate(context.Background(), iss.Mint())
	fmt.Println(err)

	// A token signed with a key the issuer never published cannot be
	// checked while it is down.
	_, err = v.Validate(context.Background(), iss.Mint(validatortest.WithKey(validatortest.GenerateKey("new-key", "RS256"))))
	fmt.Println(errors.Is(err, validator.ErrUnknownKey))
	// Output:
	// <nil>
	// true
}
