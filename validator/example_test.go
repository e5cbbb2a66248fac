package validator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// A Validator for an Auth0 API: the issuer is the tenant's domain with a
// trailing slash, the audience is the API identifier. The keys come from
// the tenant's JWKS. Here a fake issuer on loopback stands in for the tenant.
func ExampleNew() {
	issuer := validatortest.NewIssuer() // in production: "https://TENANT.us.auth0.com/"
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
		validatortest.WithAudience("https://contacts.example.com"),
		validatortest.WithScope("read:contacts"),
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
	issuer := validatortest.NewIssuer()
	defer issuer.Close()
	v, err := validator.New(context.Background(), issuer.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	expired := issuer.Mint(validatortest.WithExpiry(time.Now().Add(-time.Hour)))
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
	key := validatortest.GenerateKey("key-1", "ES256")
	jwks, err := json.Marshal(map[string]any{"keys": []any{key.JWK()}})
	if err != nil {
		log.Fatal(err)
	}
	set, err := validator.ParseJWKS(jwks)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(set.Len(), set.Skipped())

	issuer := validatortest.NewIssuer(validatortest.SigningKeys(key))
	defer issuer.Close()
	v, err := validator.New(context.Background(), validator.Config{
		Issuer:     issuer.URL,
		Audiences:  []string{"https://api.example.com"},
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

// One RemoteKeySet serves several Validators, for example two APIs with
// their own audiences behind one server: one JWKS fetch and one refresh
// loop for both. Its config holds every fetch and cache tunable.
func ExampleNewRemoteKeySet() {
	issuer := validatortest.NewIssuer() // in production: "https://TENANT.us.auth0.com/"
	defer issuer.Close()

	keys, err := validator.NewRemoteKeySet(context.Background(), validator.RemoteConfig{
		Issuer:          issuer.URL,
		RefreshInterval: 10 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close() // the caller's: Validators never close it

	contacts, err := validator.New(context.Background(), validator.Config{
		Issuer: issuer.URL, Audiences: []string{"https://contacts.example.com"}, Keys: keys,
	})
	if err != nil {
		log.Fatal(err)
	}
	billing, err := validator.New(context.Background(), validator.Config{
		Issuer: issuer.URL, Audiences: []string{"https://billing.example.com"}, Keys: keys,
	})
	if err != nil {
		log.Fatal(err)
	}

	_, err = contacts.Validate(context.Background(), issuer.Mint(validatortest.WithAudience("https://contacts.example.com")))
	fmt.Println(err)
	_, err = billing.Validate(context.Background(), issuer.Mint(validatortest.WithAudience("https://contacts.example.com")))
	fmt.Println(errors.Is(err, validator.ErrAudience))
	fmt.Println(keys.KeySet().Len(), billing.Ready(context.Background()))
	// Output:
	// <nil>
	// true
	// 1 <nil>
}
