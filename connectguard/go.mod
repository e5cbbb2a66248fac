module github.com/apiguard/apiguard/connectguard

go 1.26.0

replace github.com/apiguard/apiguard => ../

replace github.com/apiguard/apiguard/grpcguard => ../grpcguard

require (
	connectrpc.com/connect v1.21.1
	github.com/apiguard/apiguard v0.0.0
	github.com/apiguard/apiguard/grpcguard v0.0.0
	github.com/stretchr/testify v1.12.1
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/MicahParks/jwkset v0.11.4 // indirect
	github.com/auth0/go-jwt-middleware/v2 v2.3.1 // indirect
	github.com/go-json-experiment/json v1.27.2 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	golang.org/x/time v0.15.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
)
