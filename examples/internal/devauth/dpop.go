package devauth

import (
	"errors"
	"net/http"

	"github.com/apiguard/apiguard/dpop"
)

// DPoP (RFC 9449) at the token endpoint, as Auth0 does it: a token request
// that carries a DPoP proof gets a DPoP-bound access token (token_type
// DPoP, cnf.jkt the thumbprint of the proof's key), and the refresh tokens
// of that grant are bound to the same key. An authorization request may
// bind its code to a key in advance with dpop_jkt (section 10).

// newProofVerifier returns the checker of token request proofs: package
// dpop with its defaults (six asymmetric algorithms, iat window 300 s /
// 30 s, in-memory replay store), no nonces.
func newProofVerifier() *dpop.Verifier {
	v, err := dpop.NewVerifier(dpop.Config{})
	if err != nil {
		panic("devauth: DPoP verifier: " + err.Error()) // the zero Config is valid
	}
	return v
}

// tokenProof checks the DPoP proof of a token request (RFC 9449 section
// 5) and returns the thumbprint of its key, or "" when the request
// carries none. A proof at the token endpoint has no ath: there is no
// access token yet.
func (s *Server) tokenProof(r *http.Request) (string, *oauthError) {
	proofs := r.Header.Values("DPoP")
	if len(proofs) == 0 {
		return "", nil
	}
	p, err := s.proofs.Check(r.Context(), dpop.Request{Proofs: proofs, Method: r.Method, URL: s.url("oauth/token")})
	if err != nil {
		desc := "Invalid DPoP proof"
		var de *dpop.Error
		if errors.As(err, &de) && de.Reason != "" {
			desc = "Invalid DPoP proof: " + de.Reason
		}
		return "", errorf(http.StatusBadRequest, "invalid_dpop_proof", "%s", desc)
	}
	return p.Thumbprint, nil
}

// checkKeyBinding refuses a token request whose proof key (jkt, "" for
// none) is not the one the code (dpop_jkt) or the refresh token family
// was bound to; bound is "" for no binding.
func checkKeyBinding(bound, jkt string) *oauthError {
	switch {
	case bound == "":
		return nil
	case jkt == "":
		return errorf(http.StatusBadRequest, "invalid_dpop_proof", "A DPoP proof is required: the grant is bound to a DPoP key")
	case jkt != bound:
		return errorf(http.StatusBadRequest, "invalid_dpop_proof", "The DPoP proof's key is not the key the grant is bound to")
	}
	return nil
}

// bindAccessToken binds an access token's claims at to the DPoP key jkt
// (RFC 9449 section 6.1) and makes the answer's token_type DPoP.
func bindAccessToken(resp *tokenResponse, at map[string]any, jkt string) {
	if jkt == "" {
		return
	}
	at["cnf"] = map[string]any{"jkt": jkt}
	resp.TokenType = "DPoP"
}

// dpopJKTParam reads the dpop_jkt parameter of /authorize: a SHA-256 JWK
// thumbprint, base64url, so 43 characters; "" when absent.
func dpopJKTParam(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	return v, challengeRE.MatchString(v)
}
