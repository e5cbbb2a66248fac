// Package dpop checks DPoP proofs (RFC 9449) on requests to a resource
// server, so that a DPoP-bound access token is useless without the
// client's private key.
//
// A client that holds a DPoP-bound token (its cnf.jkt is the RFC 7638
// thumbprint of the client's key) sends it as
//
//	Authorization: DPoP <access token>
//	DPoP: <proof>
//
// where the proof is a JWT signed by the client's key, carrying the key in
// its jwk header, naming the request's method (htm) and URL (htu), the
// time (iat), a unique jti and the hash of the token (ath). After the
// access token is validated (package validator), [Verifier.Verify] checks
// the proof as RFC 9449 section 4.3 says:
//
//   - exactly one DPoP header holding one compact JWS, parsed with the same
//     strict rules as access tokens (size cap, canonical base64url, no
//     duplicate or case-variant members, no crit);
//   - typ dpop+jwt; an asymmetric alg from the allow-list (never none or
//     HS*); a jwk that is a public key under the key policy of
//     validator.ParseJWK (a jwk holding d, or of kty oct, is refused) and
//     fits alg; the signature verifies with it;
//   - jti, htm, htu and iat present with the right types, and ath;
//   - htm equals the method; htu equals the request URL, ignoring query
//     and fragment, with scheme and host in any case, default ports
//     dropped and percent-encoding normalized ([NormalizeURL]);
//   - iat at most Config.MaxAge old (300 s) and Config.MaxFuture ahead
//     (30 s);
//   - ath is the base64url SHA-256 of the access token, and the key's
//     thumbprint equals the token's cnf.jkt;
//   - with server nonces on (Config.NonceKeys), a current nonce;
//   - last, the jti has not been used before: it is recorded in a
//     [ReplayStore], scoped to the key, the method and the URL, until the
//     proof leaves the iat window. A store failure refuses the proof.
//
// # The request's URL
//
// By default htu is compared with the scheme (r.TLS) and host (r.Host) of
// the request itself and the path the client sent. Behind a proxy, set
// Config.PublicBaseURL, or Config.TrustedProxies to read Forwarded or
// X-Forwarded-Proto/-Host from those proxies only; no forwarding header is
// trusted by default.
//
// # Replicas
//
// The default replay store is in this process's memory (bounded; when full
// it refuses proofs rather than forgetting one). Replicas of an API must
// share a store, or a proof refused as a replay by one is accepted by
// another: package dpop/redisstore keeps it in Redis. Server nonces need
// no shared state: replicas given the same NonceKeys accept each other's.
//
// # Answers
//
// Errors are *[Error] values whose Code is the OAuth error code to answer
// with: 401 with error="invalid_dpop_proof" (ErrInvalidProof, ErrReplay)
// or error="use_dpop_nonce" plus a DPoP-Nonce header from
// [Verifier.Nonce] (ErrUseNonce); 401 invalid_token for a token without
// cnf.jkt (ErrUnboundToken); 503 when the replay store failed
// (ErrStoreUnavailable). A challenge names the accepted algorithms with
// [Verifier.AlgorithmsParam]. Reasons never quote the proof or the token.
//
// Package dpop/dpoptest mints proofs and bound tokens for tests.
package dpop
