package middleware_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/middleware"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// show sends a GET with the given Authorization header and prints the
// status, the challenge and the body.
func show(url, authorization string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if www := resp.Header.Get("WWW-Authenticate"); www != "" {
		fmt.Println(resp.StatusCode, www)
	} else {
		fmt.Println(resp.StatusCode)
	}
	fmt.Print(string(body))
}

// A protected API: the handler reads the token's claims from the context.
// A fake issuer on loopback stands in for the Auth0 tenant.
func Example() {
	iss := validatortest.NewIssuer() // in production: validator.Config{Issuer: "https://TENANT.auth0.com/", ...}
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := claims.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s\n", c.Subject)
	})
	srv := httptest.NewServer(middleware.New(v)(hello))
	defer srv.Close()

	show(srv.URL, "")
	show(srv.URL, "Basic dXNlcjpwYXNz")
	show(srv.URL, "Bearer")
	show(srv.URL, "Bearer not-a-jwt")
	show(srv.URL, "Bearer "+iss.Mint())
	// Output:
	// 401 Bearer realm="api"
	// {}
	// 401 Bearer realm="api"
	// {}
	// 400 Bearer realm="api", error="invalid_request", error_description="empty bearer token"
	// {"error":"invalid_request","error_description":"empty bearer token"}
	// 401 Bearer realm="api", error="invalid_token", error_description="malformed token"
	// {"error":"invalid_token","error_description":"malformed token"}
	// 200
	// hello auth0|test-user
}

// Options for what users commonly vary: the realm, anonymous access,
// health checks without a token, and a hook that logs every rejection.
func ExampleNew_options() {
	iss := validatortest.NewIssuer()
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	// A deterministic logger for the example: no time.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	auth := middleware.New(v,
		middleware.WithRealm("contacts"),
		middleware.WithCredentialsOptional(),
		middleware.WithExcludedPaths("/healthz"),
		middleware.WithOnReject(func(r *http.Request, f *middleware.Failure) {
			logger.Warn("rejected", "path", r.URL.Path, "failure", f)
		}),
	)
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := claims.FromContext(r.Context()); ok {
			fmt.Fprintln(w, c.Subject)
			return
		}
		fmt.Fprintln(w, "anonymous")
	})
	srv := httptest.NewServer(auth(who))
	defer srv.Close()

	show(srv.URL+"/healthz", "Bearer expired-or-not")
	show(srv.URL+"/me", "")
	show(srv.URL+"/me", "Bearer "+iss.Mint(validatortest.WithSubject("auth0|alice")))
	show(srv.URL+"/me", "Bearer a b")
	// Output:
	// 200
	// anonymous
	// 200
	// anonymous
	// 200
	// auth0|alice
	// level=WARN msg=rejected path=/me failure.status=400 failure.code=invalid_request failure.description="Authorization header has extra parts" failure.err="invalid request: Authorization header has extra parts"
	// 400 Bearer realm="contacts", error="invalid_request", error_description="Authorization header has extra parts"
	// {"error":"invalid_request","error_description":"Authorization header has extra parts"}
}

// WriteError renders a Failure; custom error handlers can decorate it.
func ExampleWriteError() {
	w := httptest.NewRecorder()
	middleware.WriteError(w, &middleware.Failure{
		Status:      http.StatusForbidden,
		Code:        middleware.CodeInsufficientScope,
		Description: `needs "read:contacts"`, // '"' is not allowed: replaced
		Scope:       "read:contacts",
		Realm:       "contacts",
	})
	fmt.Println(w.Code)
	fmt.Println(w.Header().Get("WWW-Authenticate"))
	fmt.Print(w.Body.String())
	// Output:
	// 403
	// Bearer realm="contacts", error="insufficient_scope", error_description="needs  read:contacts", scope="read:contacts"
	// {"error":"insufficient_scope","error_description":"needs  read:contacts","scope":"read:contacts"}
}

// Tokens in the query string are off by default; once enabled, the
// parameter is removed before the handler (or any logger after the
// middleware) sees the URL.
func ExampleWithQueryToken() {
	iss := validatortest.NewIssuer()
	defer iss.Close()
	v, err := validator.New(context.Background(), iss.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, r.URL.String())
	})
	srv := httptest.NewServer(middleware.New(v, middleware.WithQueryToken("access_token"))(echo))
	defer srv.Close()

	show(srv.URL+"/feed?access_token="+iss.Mint()+"&page=2", "")
	show(srv.URL+"/feed?access_token="+iss.Mint(), "Bearer "+iss.Mint())
	// Output:
	// 200
	// /feed?page=2
	// 400 Bearer realm="api", error="invalid_request", error_description="token sent by more than one method"
	// {"error":"invalid_request","error_description":"token sent by more than one method"}
}
