// Package fakeoidc is a minimal OpenID provider for the examples' tests, laid
// out unlike Auth0: its issuer has no trailing slash and its keys are at
// /jwks, as with many certified OpenID providers. Its JWKS can be made to
// fail or hang, to test an API that starts while the issuer is down.
package fakeoidc

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Provider is a running fake provider.
type Provider struct {
	// Issuer is the issuer identifier, "http://127.0.0.1:PORT" (no slash).
	Issuer string
	// JWKSURL is Issuer + "/jwks".
	JWKSURL string

	key  *rsa.PrivateKey
	stop chan struct{} // closed at cleanup, ending hung requests

	mu     sync.Mutex
	status int           // JWKS answer status when not 200
	hang   chan struct{} // non-nil: JWKS requests wait until it is closed
}

// New starts a provider that is stopped when t ends.
func New(t testing.TB) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{key: key, stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		close(p.stop)
		srv.Close()
	})
	p.Issuer = srv.URL
	p.JWKSURL = srv.URL + "/jwks"
	return p
}

// Fail makes the JWKS answer status (such as 500) until Recover.
func (p *Provider) Fail(status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = status
}

// Hang makes JWKS requests hang, for at most d, until Recover.
func (p *Provider) Hang(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hang == nil {
		p.hang = make(chan struct{})
		ch := p.hang
		time.AfterFunc(d, func() { p.release(ch) })
	}
}

// Recover makes the JWKS answer normally again and releases hung requests.
func (p *Provider) Recover() {
	p.mu.Lock()
	ch := p.hang
	p.status = 0
	p.mu.Unlock()
	if ch != nil {
		p.release(ch)
	}
}

func (p *Provider) release(ch chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hang == ch {
		close(ch)
		p.hang = nil
	}
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer": p.Issuer, "jwks_uri": p.JWKSURL,
		"authorization_endpoint": p.Issuer + "/authorize", "token_endpoint": p.Issuer + "/token",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	status, hang := p.status, p.hang
	p.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-p.stop:
		case <-r.Context().Done():
		}
		p.mu.Lock()
		status = p.status
		p.mu.Unlock()
	}
	if status != 0 {
		http.Error(w, "unavailable", status)
		return
	}
	pub := p.key.PublicKey
	writeJSON(w, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// Mint returns an RS256 access token from this issuer for audience, with
// scope, valid for an hour.
func (p *Provider) Mint(t testing.TB, audience, scope string) string {
	t.Helper()
	now := time.Now()
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "at+jwt", "kid": "k1"})
	payload, _ := json.Marshal(map[string]any{
		"iss": p.Issuer, "sub": "user-1", "aud": audience, "scope": scope, "client_id": "client-1",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": rand.Text(),
	})
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
