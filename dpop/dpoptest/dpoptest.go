// Package dpoptest mints DPoP proofs (RFC 9449) and DPoP-bound access
// tokens for tests: right ones, and deliberately wrong ones (wrong htm,
// htu, ath, iat, typ or alg, a private or symmetric jwk, a foreign
// signature), so that an API's handlers can be tested the way clients
// will call them. Replaying a proof is sending the same string twice.
//
// Access tokens come from validatortest's fake issuer; [Key.Bind] adds
// the cnf.jkt that binds one to a key:
//
//	iss := validatortest.NewIssuer()
//	k := dpoptest.GenerateKey("ES256")
//	token := iss.Mint(k.Bind())
//	req := httptest.NewRequest("GET", "http://api.example.com/api/private", nil)
//	k.Authorize(req, token) // Authorization: DPoP <token>, DPoP: <proof>
package dpoptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math/big"
	"net/http"
	"net/url"
	"time"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

var enc = base64.RawURLEncoding.EncodeToString

// Key is a client's DPoP key pair.
type Key struct {
	// Algorithm is the alg of its proofs, e.g. "ES256".
	Algorithm string
	// Private signs the proofs.
	Private crypto.Signer
}

// GenerateKey returns a new key for alg: RS256/384/512, PS256/384/512
// (RSA-2048), ES256/384/512 or EdDSA. It panics on another alg.
func GenerateKey(alg string) *Key {
	k := validatortest.GenerateKey("", alg)
	return &Key{Algorithm: alg, Private: k.Private}
}

// JWK returns the public JWK of k with its required members only, as a
// proof's jwk header carries it.
func (k *Key) JWK() map[string]any {
	switch pub := k.Private.Public().(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "n": enc(pub.N.Bytes()), "e": enc(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, _ := pub.Bytes()
		size := (len(b) - 1) / 2
		return map[string]any{"kty": "EC", "crv": pub.Curve.Params().Name, "x": enc(b[1 : 1+size]), "y": enc(b[1+size:])}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": enc(pub)}
	}
	panic("dpoptest: unsupported key type")
}

// Thumbprint returns k's RFC 7638 thumbprint: the cnf.jkt of tokens bound
// to k.
func (k *Key) Thumbprint() string {
	t, err := (&validator.Key{Public: k.Private.Public()}).Thumbprint()
	if err != nil {
		panic("dpoptest: " + err.Error())
	}
	return t
}

// Bind returns a token option that binds a minted access token to k: cnf
// with jkt, k's thumbprint (RFC 9449 section 6.1).
func (k *Key) Bind() validatortest.TokenOption {
	return validatortest.WithClaim("cnf", map[string]any{"jkt": k.Thumbprint()})
}

// AccessTokenHash returns the ath of a proof sent with token:
// base64url(SHA-256(token)).
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return enc(sum[:])
}

// Proof is a proof under construction; options change it before signing.
type Proof struct {
	// Header is the JOSE header, encoded as given.
	Header map[string]any
	// Claims is the claims set, encoded as given.
	Claims map[string]any
	// Signer signs the proof with its Algorithm; nil leaves the
	// signature empty.
	Signer *Key
	// HMACKey, when set, signs with HMAC-SHA256 instead of Signer.
	HMACKey []byte
	// Signature, when set, replaces the computed signature verbatim.
	Signature []byte
}

// Option changes a proof before it is signed.
type Option func(*Proof)

// Proof returns a proof of possession of k for a request with method to
// url (its query and fragment are dropped from htu), with a fresh jti and
// iat now, changed by opts.
func (k *Key) Proof(method, rawURL string, opts ...Option) string {
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	p := &Proof{
		Header: map[string]any{"typ": "dpop+jwt", "alg": k.Algorithm, "jwk": k.JWK()},
		Claims: map[string]any{"jti": enc(jti), "htm": method, "htu": htu(rawURL), "iat": time.Now().Unix()},
		Signer: k,
	}
	for _, o := range opts {
		o(p)
	}
	return p.Sign()
}

// htu drops query and fragment (RFC 9449 section 4.2); a URL that does
// not parse is used as given.
func htu(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String()
}

// Sign encodes and signs p. Header and claims are encoded as given, so
// any combination, valid or not, can be produced.
func (p *Proof) Sign() string {
	h, err := json.Marshal(p.Header)
	if err != nil {
		panic("dpoptest: header: " + err.Error())
	}
	c, err := json.Marshal(p.Claims)
	if err != nil {
		panic("dpoptest: claims: " + err.Error())
	}
	sig := p.Signature
	if sig == nil && p.HMACKey != nil {
		m := hmac.New(sha256.New, p.HMACKey)
		m.Write([]byte(enc(h) + "." + enc(c)))
		sig = m.Sum(nil)
	}
	var signer *testkit.Key
	if p.Signer != nil {
		signer = &testkit.Key{Algorithm: p.Signer.Algorithm, Private: p.Signer.Private}
	}
	return testkit.SignRaw(signer, h, c, sig)
}

// Authorize sets r's Authorization to "DPoP <accessToken>" and its DPoP
// header to a proof for r's method and URL, with ath. r.URL is used when
// absolute; else "http://" + r.Host + path (as httptest.NewRequest
// builds it, "https" when r.TLS is set).
func (k *Key) Authorize(r *http.Request, accessToken string, opts ...Option) {
	u := *r.URL
	if !u.IsAbs() {
		u.Scheme, u.Host = "http", r.Host
		if r.TLS != nil {
			u.Scheme = "https"
		}
	}
	opts = append([]Option{WithAccessToken(accessToken)}, opts...)
	r.Header.Set("Authorization", "DPoP "+accessToken)
	r.Header.Set("DPoP", k.Proof(r.Method, u.String(), opts...))
}

// WithAccessToken sets ath to the hash of token, as a proof sent with the
// token must have.
func WithAccessToken(token string) Option { return WithClaim("ath", AccessTokenHash(token)) }

// WithNonce sets the server nonce (RFC 9449 section 9).
func WithNonce(nonce string) Option { return WithClaim("nonce", nonce) }

// WithIssuedAt sets iat, e.g. too old or in the future.
func WithIssuedAt(t time.Time) Option { return WithClaim("iat", t.Unix()) }

// WithJTI sets jti.
func WithJTI(jti string) Option { return WithClaim("jti", jti) }

// WithClaim sets claim name to value (any JSON-encodable value).
func WithClaim(name string, value any) Option {
	return func(p *Proof) { p.Claims[name] = value }
}

// WithoutClaim removes claim name.
func WithoutClaim(name string) Option {
	return func(p *Proof) { delete(p.Claims, name) }
}

// WithHeader sets header parameter name to value, e.g. typ "JWT" or an
// alg that does not fit the key.
func WithHeader(name string, value any) Option {
	return func(p *Proof) { p.Header[name] = value }
}

// WithoutHeader removes header parameter name.
func WithoutHeader(name string) Option {
	return func(p *Proof) { delete(p.Header, name) }
}

// WithPrivateJWK puts the private key into the jwk header (its d, and for
// RSA its primes too), which a verifier must refuse.
func WithPrivateJWK() Option {
	return func(p *Proof) {
		jwk := maps.Clone(p.Header["jwk"].(map[string]any))
		switch priv := p.Signer.Private.(type) {
		case *ecdsa.PrivateKey:
			b, _ := priv.Bytes()
			jwk["d"] = enc(b)
		case ed25519.PrivateKey:
			jwk["d"] = enc(priv.Seed())
		case *rsa.PrivateKey:
			jwk["d"] = enc(priv.D.Bytes())
			jwk["p"] = enc(priv.Primes[0].Bytes())
			jwk["q"] = enc(priv.Primes[1].Bytes())
		}
		p.Header["jwk"] = jwk
	}
}

// WithSymmetricJWK makes an HMAC proof: alg HS256, a jwk of kty "oct"
// holding secret, signed with it.
func WithSymmetricJWK(secret []byte) Option {
	return func(p *Proof) {
		p.Header["alg"] = "HS256"
		p.Header["jwk"] = map[string]any{"kty": "oct", "k": enc(secret)}
		p.Signer, p.HMACKey = nil, secret
	}
}

// WithSigner signs with another key than the one in the jwk header.
func WithSigner(k *Key) Option {
	return func(p *Proof) { p.Signer = k }
}

// WithSignature replaces the signature with sig, e.g. an empty or
// corrupted one.
func WithSignature(sig []byte) Option {
	return func(p *Proof) { p.Signature = sig }
}

// SignRaw signs raw header and payload bytes with k, for byte-level tricks
// such as duplicate member names.
func (k *Key) SignRaw(header, payload []byte) string {
	return testkit.SignRaw(&testkit.Key{Algorithm: k.Algorithm, Private: k.Private}, header, payload, nil)
}
