package devauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/apiguard/apiguard/dpop"
)

// Banner is printed by the programs that start a Server.
const Banner = `
  ***************************************************************
  *  DEVELOPMENT ONLY: devauth authorization server             *
  *  Throwaway keys, demo users, everything in memory.          *
  *  Never expose it on a network, never use it in production.  *
  ***************************************************************`

// Server is the development authorization server. It is an http.Handler;
// serve it on a loopback listener (see the loopback package).
type Server struct {
	cfg Config
	key *signingKey
	mux *http.ServeMux

	mu       sync.Mutex
	txs      map[string]*transaction    // pending /authorize requests
	sessions map[string]*ssoSession     // browser ID -> logged-in user
	codes    map[string]*authCode       // authorization codes
	refresh  map[string]*refreshEntry   // refresh tokens, current and used
	opaque   map[string]*opaqueToken    // audience-less access tokens
	consents map[string]map[string]bool // user|client|audience -> consented scopes
	joined   map[string]map[string]bool // user -> organizations joined by invitation
	proofs   *dpop.Verifier             // DPoP proofs of token requests (dpop.go)
}

// grant is what a login authorized; codes and refresh token families carry
// it.
type grant struct {
	userID   string
	clientID string
	audience string   // empty: no API, opaque access token
	scopes   []string // granted scopes, OIDC and API
	orgID    string
	nonce    string
	authTime time.Time
	amr      []string       // authentication methods (RFC 8176); acr follows from them
	atClaims map[string]any // custom access token claims from actions
	idClaims map[string]any // custom ID token claims from actions
}

// authCode is an authorization code: single use, short lived, bound to the
// client, the redirect URI and the PKCE challenge.
type authCode struct {
	grant       *grant
	redirectURI string
	challenge   string
	expires     time.Time
	used        bool
	family      *family // refresh tokens issued from this code, revoked on reuse
	dpopJKT     string  // dpop_jkt: the token request's proof must be of this key
}

// family is a chain of rotated refresh tokens.
type family struct {
	grant   *grant
	expires time.Time
	revoked bool
	jkt     string // DPoP key the family is bound to, "" for none
}

// refreshEntry is one refresh token of a family.
type refreshEntry struct {
	family *family
	used   bool
}

// opaqueToken is an access token issued without an audience.
type opaqueToken struct {
	grant   *grant
	expires time.Time
}

// New returns a Server for cfg with a freshly generated RSA-2048 key.
func New(cfg Config) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, fmt.Errorf("devauth: generating key: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		key:      key,
		mux:      http.NewServeMux(),
		txs:      map[string]*transaction{},
		sessions: map[string]*ssoSession{},
		codes:    map[string]*authCode{},
		refresh:  map[string]*refreshEntry{},
		opaque:   map[string]*opaqueToken{},
		consents: map[string]map[string]bool{},
		joined:   map[string]map[string]bool{},
		proofs:   newProofVerifier(),
	}
	s.mux.HandleFunc("GET /authorize", s.authorize)
	s.mux.HandleFunc("POST /u/login", s.login)
	s.mux.HandleFunc("POST /u/mfa", s.mfa)
	s.mux.HandleFunc("GET /u/consent", s.consentPage)
	s.mux.HandleFunc("POST /u/consent", s.consent)
	s.mux.HandleFunc("/oauth/token", s.token)
	s.mux.HandleFunc("/userinfo", s.userinfo)
	s.mux.HandleFunc("GET /v2/logout", s.logout)
	s.mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	s.mux.HandleFunc("GET /.well-known/jwks.json", s.jwks)
	s.mux.HandleFunc("GET /{$}", s.home)
	return s, nil
}

// Issuer returns the issuer URL, with its trailing slash.
func (s *Server) Issuer() string { return s.cfg.Issuer }

// ServeHTTP implements http.Handler. Every answer is marked no-store: they
// carry codes, tokens or per-login pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) now() time.Time { return s.cfg.Now() }

func (s *Server) url(path string) string {
	return s.cfg.Issuer + strings.TrimPrefix(path, "/")
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.cfg.Issuer,
		"authorization_endpoint":                s.url("authorize"),
		"token_endpoint":                        s.url("oauth/token"),
		"userinfo_endpoint":                     s.url("userinfo"),
		"jwks_uri":                              s.url(".well-known/jwks.json"),
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"acr_values_supported":                  []string{ACRMultiFactor, ACRPassword},
		"claims_supported": []string{
			"acr", "amr", "aud", "auth_time", "email", "email_verified", "exp", "iat", "iss",
			"name", "nickname", "nonce", "org_id", "sub",
		},
	})
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.key.jwks())
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "%s\n\nissuer: %s\ndiscovery: %s\n", Banner, s.cfg.Issuer, s.url(".well-known/openid-configuration"))
}

// oauthError is an error the token and userinfo endpoints answer with.
type oauthError struct {
	status int
	code   string
	desc   string
}

// Error returns the code and description.
func (e *oauthError) Error() string { return e.code + ": " + e.desc }

func errorf(status int, code, format string, args ...any) *oauthError {
	return &oauthError{status: status, code: code, desc: fmt.Sprintf(format, args...)}
}

// writeOAuthError answers like Auth0:
// {"error":"invalid_grant","error_description":"..."}.
func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// sweepLocked drops expired state so that a long-running server does not
// grow without bound. s.mu must be held.
func (s *Server) sweepLocked() {
	now := s.now()
	for k, tx := range s.txs {
		if now.Sub(tx.created) > transactionLifetime {
			delete(s.txs, k)
		}
	}
	for k, c := range s.codes {
		// Keep used codes until they expire anyway, to detect reuse.
		if now.After(c.expires.Add(s.cfg.CodeLifetime)) {
			delete(s.codes, k)
		}
	}
	for k, e := range s.refresh {
		if now.After(e.family.expires) || e.family.revoked {
			delete(s.refresh, k)
		}
	}
	for k, o := range s.opaque {
		if now.After(o.expires) {
			delete(s.opaque, k)
		}
	}
}
