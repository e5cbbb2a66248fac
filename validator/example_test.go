package validator_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// A Validator for an Auth0 API: the issuer is the tenant's domain with a
// trailing slash, the audience is the API identifier. The keys come from
// the tenant's JWKS. Here a fake issuer on loopback stands in for the tenant.
func ExampleNew() {
	issuer := testkit.NewIssuer() // in production: "https://TENANT.us.auth0.com/"
	defer issuer.Close()

	v, err := validator.New(context.Background(), validator.Config{
		Issuer:    issuer.URL,
		Audiences: []string{"https://contacts.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	token := issuer.Mint(
		testkit.WithAudience("https://contacts.example.com"),
		testkit.WithScope("read:contacts"),
	)
	c, err := v.Validate(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Subject, c.HasScope("read:contacts"))
	// Output: auth0|test-user true
}

// Errors match one class with errors.Is; every class but
// ErrKeysUnavailable also matches ErrInvalidToken.
func ExampleValidator_Validate_errors() {
	issuer := testkit.NewIssuer()
	defer issuer.Close()
	v, err := validator.New(context.Background(), issuer.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	expired := issuer.Mint(testkit.WithExpiry(time.Now().Add(-time.Hour)))
	_, err = v.Validate(context.Background(), expired)
	fmt.Println(errors.Is(err, validator.ErrExpired), errors.Is(err, validator.ErrInvalidToken))

	var verr *validator.Error
	if errors.As(err, &verr) {
		fmt.Println(verr.Reason)
	}

	_, err = v.Validate(context.Background(), "not a token")
	fmt.Println(err)
	// Output:
	// true true
	// exp is in the past
	// malformed token: not a compact JWS of three segments
}

// A static key set validates tokens offline, without fetching a JWKS.
func ExampleParseJWKS() {
	key := testkit.GenerateKey("key-1", "ES256")
	issuer := testkit.NewIssuer(key)
	defer issuer.Close()

	set, skipped, err := validator.ParseJWKS(issuer.JWKS())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(set.Len(), skipped)

	v, err := validator.New(context.Background(), validator.Config{
		Issuer:     issuer.URL,
		Audiences:  []string{testkit.DefaultAudience},
		Algorithms: []string{"ES256"},
		Keys:       set,
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = v.Validate(context.Background(), issuer.Mint())
	fmt.Println(err)
	// Output:
	// 1 <nil>
	// <nil>
}
