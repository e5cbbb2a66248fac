// Package routertest checks that the middleware and the scopes guards work
// unchanged with third-party routers: github.com/go-chi/chi/v5 and
// github.com/gorilla/mux. It is a module of its own so that the library's
// go.mod does not require them; it has tests only.
package routertest
