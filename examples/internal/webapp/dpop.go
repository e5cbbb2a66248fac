package webapp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// dpopKey is a session's DPoP key (RFC 9449): the authorization server
// binds the session's tokens to it, and every request that uses them
// carries a fresh proof signed with it. It never leaves the server.
type dpopKey struct {
	priv *ecdsa.PrivateKey
	jwk  map[string]string // the public key, required members only
	jkt  string            // its RFC 7638 thumbprint, sent as dpop_jkt
}

var b64 = base64.RawURLEncoding

func newDPoPKey() (*dpopKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pt, err := priv.PublicKey.Bytes() // 0x04 || x || y, each 32 bytes
	if err != nil {
		return nil, err
	}
	k := &dpopKey{priv: priv, jwk: map[string]string{
		"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(pt[1:33]), "y": b64.EncodeToString(pt[33:]),
	}}
	// RFC 7638: the required members in lexicographic order, no spaces;
	// encoding/json sorts map keys.
	canon, err := json.Marshal(k.jwk)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(canon)
	k.jkt = b64.EncodeToString(sum[:])
	return k, nil
}

// proof returns a DPoP proof for a request with method to url (without
// query), with ath when accessToken is set.
func (k *dpopKey) proof(method, url, accessToken string) (string, error) {
	header, err := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.jwk})
	if err != nil {
		return "", err
	}
	claims := map[string]any{"jti": rand.Text(), "htm": method, "htu": url, "iat": time.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64.EncodeToString(sum[:])
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, digest[:])
	if err != nil {
		return "", err
	}
	sig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...) // raw r||s (RFC 7518 section 3.4)
	return input + "." + b64.EncodeToString(sig), nil
}

// dpopTransport adds a proof of key to every POST to the token endpoint,
// so that x/oauth2's code exchange and refreshes get DPoP-bound tokens.
type dpopTransport struct {
	base     http.RoundTripper
	key      *dpopKey
	tokenURL string
}

func (t *dpopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.URL.String() == t.tokenURL {
		p, err := t.key.proof(http.MethodPost, t.tokenURL, "")
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.Header.Set("DPoP", p)
	}
	return t.base.RoundTrip(r)
}

// tokenClient returns the HTTP client for the token endpoint: with DPoP
// on, one that proves possession of the session's key.
func (a *App) tokenClient(key *dpopKey) *http.Client {
	if key == nil {
		return a.cfg.HTTPClient
	}
	base := a.cfg.HTTPClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c := *a.cfg.HTTPClient
	c.Transport = &dpopTransport{base: base, key: key, tokenURL: a.oauth.Endpoint.TokenURL}
	return &c
}
