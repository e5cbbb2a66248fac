package middleware_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// An API that accepts DPoP-bound tokens beside bearer tokens: the handler
// reads the proof key's thumbprint; a replayed proof, and the bound token
// sent as a bearer token, are refused.
func ExampleWithDPoP() {
	iss := validatortest.NewIssuer()
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	dv, err := dpop.NewVerifier(dpop.Config{}) // behind a proxy: PublicBaseURL or TrustedProxies
	if err != nil {
		log.Fatal(err)
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, isDPoP := middleware.DPoPThumbprint(r.Context())
		fmt.Fprintf(w, "hello, DPoP %v\n", isDPoP)
	})
	srv := httptest.NewServer(middleware.New(v, middleware.WithDPoP(dv, middleware.DPoPAllowed))(hello))
	defer srv.Close()

	key := dpoptest.GenerateKey("ES256") // the client's key
	token := iss.Mint(key.Bind())        // a token bound to it (cnf.jkt)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/contacts", nil)
	key.Authorize(req, token) // Authorization: DPoP <token>, DPoP: <proof>
	sendAndShow(req)
	sendAndShow(req) // the same proof again

	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/contacts", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	sendAndShow(req)
	// Output:
	// 200 hello, DPoP true
	// 401 DPoP realm="api", error="invalid_dpop_proof", error_description="proof jti already used", algs="ES256 ES384 ES512 PS256 RS256 EdDSA"
	// 401 Bearer realm="api"
	// 401 Bearer realm="api", error="invalid_token", error_description="bound token sent with the Bearer scheme"
	// 401 DPoP realm="api", algs="ES256 ES384 ES512 PS256 RS256 EdDSA"
}

func sendAndShow(req *http.Request) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		var body [64]byte
		n, _ := resp.Body.Read(body[:])
		fmt.Printf("200 %s", body[:n])
		return
	}
	for _, c := range resp.Header.Values("WWW-Authenticate") {
		fmt.Println(resp.StatusCode, c) // one field per challenge
	}
}
