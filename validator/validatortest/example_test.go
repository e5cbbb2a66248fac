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
// serves the JWKS that the validator fetches, and mints tokens.
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
		iss.Mint(validatortest.WithHeader("alg", "none"), validatortest.WithSignature([]byte{})),
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

// Rotation and outages: the issuer can publish a new key, or misbehave.
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

	// It signs with a new key while still down: that key cannot be loaded.
	iss.Rotate(validatortest.GenerateKey("test-key-2", "RS256"))
	_, err = v.Validate(context.Background(), iss.Mint())
	fmt.Println(errors.Is(err, validator.ErrUnknownKey), iss.JWKSRequests() >= 1)
	// Output:
	// <nil>
	// true true
}
