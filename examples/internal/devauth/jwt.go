package devauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
)

var b64 = base64.RawURLEncoding

// signingKey is the throwaway RS256 key of one Server.
type signingKey struct {
	priv *rsa.PrivateKey
	kid  string
}

// newSigningKey generates an RSA-2048 key whose kid is its RFC 7638
// thumbprint.
func newSigningKey() (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pub := &priv.PublicKey
	// RFC 7638: members in lexicographic order, no whitespace.
	thumb, err := json.Marshal(struct {
		E   string `json:"e"`
		Kty string `json:"kty"`
		N   string `json:"n"`
	}{encodeExponent(pub.E), "RSA", b64.EncodeToString(pub.N.Bytes())})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(thumb)
	return &signingKey{priv: priv, kid: b64.EncodeToString(sum[:])}, nil
}

func encodeExponent(e int) string {
	return b64.EncodeToString(big.NewInt(int64(e)).Bytes())
}

// jwk is one public key of the JWKS document.
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// jwks returns the public JWK Set: public key material only.
func (k *signingKey) jwks() map[string][]jwk {
	pub := &k.priv.PublicKey
	return map[string][]jwk{"keys": {{
		Kty: "RSA", Use: "sig", Alg: "RS256", Kid: k.kid,
		N: b64.EncodeToString(pub.N.Bytes()), E: encodeExponent(pub.E),
	}}}
}

// sign returns a compact RS256 JWS of claims with header typ JWT and kid.
func (k *signingKey) sign(claims map[string]any) (string, error) {
	hdr, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": k.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(hdr) + "." + b64.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// verify checks a token this key signed and returns its claims. It checks
// the signature only; callers check the claims.
func (k *signingKey) verify(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWS")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	raw, err := b64.DecodeString(parts[0])
	if err != nil || json.Unmarshal(raw, &hdr) != nil || hdr.Alg != "RS256" || hdr.Kid != k.kid {
		return nil, errors.New("bad header")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&k.priv.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return nil, err
	}
	raw, err = b64.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// randomToken returns an unguessable URL-safe string with 256 bits of
// entropy.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return b64.EncodeToString(b[:])
}
