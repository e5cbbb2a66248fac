// Package grpcguard protects gRPC services with OAuth 2.0 access tokens,
// with the validator, claims and guard semantics of apiguard's HTTP
// middleware.
//
// An [Interceptor] built by [New] holds a [Policy], a table from full method
// name ("/pkg.Service/Method") to what the method needs, and provides a unary
// and a stream server interceptor:
//
//	ic := grpcguard.New(v, grpcguard.Policy{
//		"/contacts.v1.Contacts/WhoAmI":       grpcguard.Authenticated(),
//		"/contacts.v1.Contacts/ListContacts": grpcguard.RequireScope("read:contacts"),
//		grpcguard.HealthCheck:                grpcguard.Public(),
//	})
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(ic.Unary()),
//		grpc.ChainStreamInterceptor(ic.Stream()),
//	)
//
// A method that the policy does not list is refused, so a new RPC is never
// public by accident; [Interceptor.Unlisted] names the registered methods that
// lack an entry, for a start-up or test check. Public methods, health checks
// included, must be listed explicitly with [Public].
//
// For every other method the interceptor reads exactly one "authorization"
// metadata value of the form "Bearer <token>" (scheme in any letter case),
// validates the token, applies the method's guards, and calls the handler
// with the typed claims in its context, where claims.FromContext finds them
// (for streams, through a wrapped grpc.ServerStream whose Context carries
// them).
//
// Refusals are gRPC status errors whose messages name the failure class and
// never the token, its claims or unverified header values:
//
//	no bearer credentials (no value, another scheme)   Unauthenticated  "bearer token required"
//	two authorization values, empty or malformed token  InvalidArgument  "invalid request: ..."
//	a token the validator refuses                       Unauthenticated  "invalid token: <class>"
//	a DPoP-bound token (cnf claim) without its proof    Unauthenticated  "token is DPoP-bound; proof required"
//	signing keys unavailable                            Unavailable      (clients retry; never Internal)
//	a scope, permission, organization or claim guard    PermissionDenied "...: <required scope>"
//	a method without a policy entry                     PermissionDenied "method has no access policy"
//
// Guards are functions of type [Guard]; [Scope], [AnyScope], [Permission],
// [Organization] and [Claim] match claims exactly as the HTTP guards of
// package scopes do, and any other check (a step-up rule, say) plugs in the
// same way.
//
// The errors are *[Rejection] values: an interceptor chained before these (logging, metrics) finds the class with errors.Is, for example
// errors.Is(err, validator.ErrKeysUnavailable).
//
// # Sender-constrained tokens
//
// A token with a confirmation (cnf) claim is bound to a key (DPoP,
// RFC 9449) and must be presented with a proof of possession, in metadata
// "dpop". gRPC has no standard for DPoP; apiguard's convention is that a
// call is the HTTP request it travels as: htm "POST" and htu
// "https://<authority>/<pkg.Service>/<Method>", where authority is the
// call's :authority. With [WithDPoP] the proof is verified by package dpop
// (every check of RFC 9449 section 4.3, replays refused; a replay store
// that fails makes the call Unavailable) and the "DPoP" authorization
// scheme is accepted for bound tokens; without it every bound token is
// refused. Either way a stolen bound token is never accepted as a plain
// bearer token.
package grpcguard
