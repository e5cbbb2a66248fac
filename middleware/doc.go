// Package middleware protects HTTP handlers with OAuth 2.0 bearer tokens
// and answers exactly as RFC 6750 says.
//
// [New] turns a token validator, usually a *validator.Validator, into a
// func(http.Handler) http.Handler. It is built on
// github.com/auth0/go-jwt-middleware/v2 with its own token extractor and
// error handler:
//
//   - The token is taken from the Authorization header (RFC 6750 section
//     2.1): the scheme "Bearer" in any letter case, one or more spaces, and
//     a token of b64token syntax. Two Authorization header lines, an empty
//     token, extra parts, characters outside b64token, or a token sent by
//     more than one method are invalid_request. Another scheme, such as
//     Basic, counts as no bearer credentials. The query parameter
//     access_token is accepted only after [WithQueryToken].
//   - The claims of a valid token are put into the request context, where
//     claims.FromContext finds them.
//   - A rejection answers with the status and WWW-Authenticate challenge of
//     RFC 6750 section 3 and a small JSON body with the same error and
//     error_description, rendered by [WriteError] unless [WithErrorHandler]
//     replaces it. For a refused token, error_description names only the
//     class of the refusal, and only when its check runs after the
//     signature verified (expired, not yet valid, wrong audience, missing
//     claim); every earlier refusal reads "malformed token" or "signature
//     not verified", so an anonymous client cannot learn which issuers,
//     kids or algorithms the server accepts. The exact reason is in
//     [Failure.Err], for the [WithOnReject] hook and logs.
//   - A token bound to a key (a cnf claim: DPoP, mutual TLS) is never
//     accepted as a bearer token (401 invalid_token). [WithDPoP] accepts
//     DPoP-bound tokens with the DPoP scheme and a proof that package dpop
//     checks (RFC 9449), allowed beside Bearer or required, and answers in
//     the scheme the client used.
//   - With [WithResourceMetadata], every challenge also carries
//     resource_metadata="<URL>" (RFC 9728 section 5.1); package resource
//     serves the document.
//   - [WithDPoP] also accepts DPoP-bound tokens (RFC 9449):
//     Authorization: DPoP <token> with a DPoP header holding a proof of
//     possession of the key the token is bound to (cnf.jkt), checked by a
//     dpop.Verifier. Handlers read the proof key's thumbprint with
//     [DPoPThumbprint]. In every mode, with or without the option, a
//     DPoP-bound token sent with the Bearer scheme is refused, so a stolen
//     DPoP token is useless without the client's private key.
//   - [WithExcludedPaths] and [WithExclusion] skip authentication for
//     public paths; a path that is not in its plain form (escapes other
//     than the default ones, dot segments, '?', '#', '%') is always
//     authenticated, since routers see it differently from a predicate.
//
// The answers, with the default realm:
//
//	situation                        status  WWW-Authenticate
//	no bearer credentials (or Basic) 401     Bearer realm="api"
//	malformed request                400     Bearer realm="api", error="invalid_request", error_description="..."
//	invalid token                    401     Bearer realm="api", error="invalid_token", error_description="..."
//	signing keys unavailable         503     none; Retry-After: 5
//	scope or permission missing      403     Bearer realm="api", error="insufficient_scope", error_description="...", scope="..."
//	organization or claim mismatch   403     Bearer realm="api", error="insufficient_scope", error_description="..."
//	step-up needed (RFC 9470)        401     Bearer realm="api", error="insufficient_user_authentication", error_description="...", acr_values="...", max_age="..."
//	guard without validated claims   401     Bearer realm="api"
//
// With [WithDPoP] (mode DPoPAllowed), the answers differ as follows (each
// challenge is a WWW-Authenticate field of its own; the table joins them
// with ", "):
//
//	situation                        status  WWW-Authenticate
//	no credentials                   401     Bearer realm="api", DPoP realm="api", algs="ES256 ..."
//	DPoP request, token refused      401     DPoP realm="api", error="invalid_token", error_description="...", algs="...", Bearer realm="api"
//	DPoP proof refused or replayed   401     DPoP realm="api", error="invalid_dpop_proof", error_description="...", algs="...", Bearer realm="api"
//	server nonce missing or stale    401     DPoP realm="api", error="use_dpop_nonce", ... and one DPoP-Nonce header
//	DPoP scheme, token not bound     401     DPoP realm="api", error="invalid_token", ...
//	bound token sent as Bearer       401     Bearer realm="api", error="invalid_token", ..., DPoP realm="api", algs="..."
//	DPoP proof with a Bearer token   400     Bearer realm="api", error="invalid_request", ...
//	replay store unavailable         503     none; Retry-After: 5
//	403 of a guard, DPoP request     403     DPoP realm="api", error="insufficient_scope", ..., algs="..."
//
// In DPoPRequired mode only the DPoP challenge is sent, and a Bearer
// request gets 401 error="invalid_token" with it. Every challenge of a 401
// has a WWW-Authenticate field of its own, the client's scheme first, so
// that http.Header.Get returns the challenge that carries the error.
//
// # The request URL of a DPoP proof
//
// A proof names the URL it was made for (htu), which must be the URL the
// request was sent to. The dpop.Verifier given to [WithDPoP] derives that
// URL (dpop.Verifier.RequestURL): by default "https" when r.TLS is set,
// else "http", with r.Host and the path the client sent, so it is right
// for a server reached directly. Behind a proxy or load balancer that
// terminates TLS or rewrites the host, set dpop.Config.PublicBaseURL to
// the URL clients use (such as "https://api.example.com"), or list the
// proxies in dpop.Config.TrustedProxies, whose Forwarded (or
// X-Forwarded-Proto and X-Forwarded-Host) headers are then used. No
// forwarding header is trusted by default: a client could otherwise make
// a proof for one host pass on another.
//
// # The replay store and nonces
//
// A proof is accepted once: the verifier records its jti (with the key,
// method and URL) in its replay store until the proof leaves the iat
// window. The default store is in the process's memory; replicas of an
// API must share one store (package dpop/redisstore), or a proof could be
// replayed to another replica. A store that fails refuses the request with
// 503. Server nonces (dpop.Config.NonceKeys) bound how long a proof made in
// advance can be used; they need no shared state between replicas that
// share the keys.
//
// A token in both the Authorization header and the access_token query
// parameter is invalid_request whether or not [WithQueryToken] is set.
// No answer, hook or log value ever holds the token, its claims or raw
// header values; a client's mistake is never a 500.
//
// Package scopes has the guards that run after the middleware
// (RequireScope, RequirePermission, RequireStepUp, ...); they reject
// through [Reject], so they share the middleware's realm, metadata URL,
// rendering and hook.
package middleware
