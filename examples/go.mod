module github.com/apiguard/apiguard/examples

go 1.26

replace github.com/apiguard/apiguard => ../

require (
	github.com/coreos/go-oidc/v3 v3.21.0
	golang.org/x/oauth2 v0.36.0
)

require (
	github.com/apiguard/apiguard v0.0.0
	github.com/go-jose/go-jose/v4 v4.1.4 // indirect
)
