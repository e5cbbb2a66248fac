package webapp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DPoP (RFC 9449): each session holds its own P-256 key. Every token
// request (code exchange and refresh) carries a DPoP proof of it, so an
// authorization server that supports DPoP (Auth0, devauth) binds the
// access and refresh tokens to the key (token_type DPoP). The API is then
// called with Authorization: DPoP <token> and a fresh proof per request;
// a stolen token is useless without the key, which never leaves this
// process. With a token_type Bearer answer, the app calls with Bearer.
//
// The proofs are added by the HTTP client's transport (dpopTransport),
// which finds the session in the request's context.

// dpopKey is a session's DPoP key pair, made on first use, and the last
// server nonce each server sent (RFC 9449 sections 8 and 9), by origin.
type dpopKey struct {
	once sync.Once
	priv *ecdsa.PrivateKey
	jwk  map[string]string // public, required members only (RFC 7638)

	mu     sync.Mutex
	nonces map[string]string
}

func (k *dpopKey) init() {
	k.once.Do(func() {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic("webapp: generating a DPoP key: " + err.Error()) // crypto/rand never fails
		}
		b, err := priv.PublicKey.Bytes() // 0x04 || x || y
		if err != nil {
			panic("webapp: encoding a DPoP key: " + err.Error())
		}
		k.priv = priv
		k.jwk = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(b[1:33]), "y": b64(b[33:])}
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// proof returns a DPoP proof (RFC 9449 section 4.2) for a request with
// method to url (query and fragment dropped), with ath when accessToken is
// set and the server nonce when there is one.
func (k *dpopKey) proof(method, url, accessToken, nonce string) (string, error) {
	k.init()
	if i := strings.IndexAny(url, "?#"); i >= 0 {
		url = url[:i]
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims := map[string]any{"jti": b64(jti), "htm": method, "htu": url, "iat": time.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64(sum[:])
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	hdr, err := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.jwk})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(hdr) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64) // JWS ES256: r and s, 32 bytes each (RFC 7518 section 3.4)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig), nil
}

func (k *dpopKey) serverNonce(origin string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.nonces[origin]
}

func (k *dpopKey) setServerNonce(origin, n string) {
	if n == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.nonces == nil {
		k.nonces = map[string]string{}
	}
	k.nonces[origin] = n
}

type sessionCtxKey struct{}

// withSession puts the request's session, if any, into its context, where
// the transport finds the DPoP key.
func (a *App) withSession(r *http.Request) *http.Request {
	s := a.sessions.get(r)
	if s == nil {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), sessionCtxKey{}, s))
}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionCtxKey{}).(*session)
	return s
}

// authScheme is the scheme to send the session's access token with: the
// token_type the authorization server answered (DPoP or Bearer).
func authScheme(ctx context.Context) string {
	s := sessionFrom(ctx)
	if s == nil {
		return "Bearer"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != nil && strings.EqualFold(s.token.Type(), "DPoP") {
		return "DPoP"
	}
	return "Bearer"
}

// dpopClient returns a copy of c whose transport adds DPoP proofs of the
// session's key: to requests to tokenURL, and to requests sent with
// Authorization: DPoP.
func dpopClient(c *http.Client, tokenURL string) *http.Client {
	cc := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc.Transport = &dpopTransport{base: base, tokenURL: tokenURL}
	return &cc
}

type dpopTransport struct {
	base     http.RoundTripper
	tokenURL string
}

func (t *dpopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := sessionFrom(req.Context())
	if s == nil {
		return t.base.RoundTrip(req)
	}
	target := req.URL.Scheme + "://" + req.URL.Host + req.URL.EscapedPath()
	var token string // no ath at the token endpoint: there is no access token yet
	if target != t.tokenURL {
		var ok bool
		if token, ok = strings.CutPrefix(req.Header.Get("Authorization"), "DPoP "); !ok {
			return t.base.RoundTrip(req)
		}
	}
	resp, err := t.send(req, &s.dpop, target, token)
	if err != nil || !needsNonce(resp) {
		return resp, err
	}
	// The server wants a nonce of its own (RFC 9449 sections 8 and 9) and
	// sent one: try once more with it, the body read again.
	if req.Body != nil && req.GetBody == nil {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	again := req.Clone(req.Context())
	if req.GetBody != nil {
		if again.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.send(again, &s.dpop, target, token)
}

// send sends a copy of req with a fresh proof, and keeps the nonce the
// answer carries for the next proof to that server.
func (t *dpopTransport) send(req *http.Request, k *dpopKey, target, token string) (*http.Response, error) {
	origin := req.URL.Scheme + "://" + req.URL.Host
	p, err := k.proof(req.Method, target, token, k.serverNonce(origin))
	if err != nil {
		return nil, err
	}
	r2 := req.Clone(req.Context())
	r2.Header.Set("DPoP", p)
	resp, err := t.base.RoundTrip(r2)
	if err == nil {
		k.setServerNonce(origin, resp.Header.Get("DPoP-Nonce"))
	}
	return resp, err
}

// needsNonce reports whether resp is a use_dpop_nonce refusal with a
// nonce to use: 401 with the DPoP challenge from a resource server, 400
// with the error in the JSON body from the token endpoint (the body is
// not read: the DPoP-Nonce header and the status say enough).
func needsNonce(resp *http.Response) bool {
	if resp.Header.Get("DPoP-Nonce") == "" {
		return false
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`)
	case http.StatusBadRequest:
		return true
	}
	return false
}
