package dpop_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// Check the proof of a request that carries a DPoP-bound access token,
// after validating the token, and refuse the same proof replayed.
func Example() {
	ctx := context.Background()
	iss := validatortest.NewIssuer()
	defer iss.Close()
	tokens, err := validator.New(ctx, iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer tokens.Close()
	proofs, err := dpop.NewVerifier(dpop.Config{})
	if err != nil {
		log.Fatal(err)
	}

	// The client's key, a token bound to it, and a request with a proof.
	client := dpoptest.GenerateKey("ES256")
	token := iss.Mint(client.Bind())
	r := httptest.NewRequest("GET", "http://api.example.com/api/private?page=2", nil)
	client.Authorize(r, token)

	// The API's side: the token first, then the proof bound to it.
	c, err := tokens.Validate(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	p, err := proofs.Verify(ctx, r, token, c.Confirmation.JKT)
	fmt.Println(err, p.Thumbprint == client.Thumbprint())

	// The same request again: the proof was used.
	_, err = proofs.Verify(ctx, r, token, c.Confirmation.JKT)
	var e *dpop.Error
	fmt.Println(errors.As(err, &e), e.Code(), e.Reason)
	// Output:
	// <nil> true
	// true invalid_dpop_proof proof jti already used
}

// Server nonces: a proof without a current nonce is refused with
// use_dpop_nonce; the answer carries a nonce for the client's next proof.
func ExampleVerifier_Nonce() {
	ctx := context.Background()
	v, err := dpop.NewVerifier(dpop.Config{NonceKeys: [][]byte{[]byte("a 32-byte secret shared by every replica")}})
	if err != nil {
		log.Fatal(err)
	}
	client := dpoptest.GenerateKey("EdDSA")
	const token = "access-token"
	r := httptest.NewRequest("GET", "http://api.example.com/api/private", nil)
	client.Authorize(r, token)
	_, err = v.Verify(ctx, r, token, client.Thumbprint())
	fmt.Println(err)

	nonce := v.Nonce() // sent in the answer's DPoP-Nonce header
	client.Authorize(r, token, dpoptest.WithNonce(nonce))
	_, err = v.Verify(ctx, r, token, client.Thumbprint())
	fmt.Println(err)
	// Output:
	// DPoP nonce required: proof has no nonce
	// <nil>
}
