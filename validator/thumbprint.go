package validator

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
)

// Thumbprint returns the key's RFC 7638 JWK SHA-256 thumbprint, base64url
// encoded without padding: the value of cnf.jkt in a DPoP-bound access
// token (RFC 9449 section 6).
//
// The hash covers only the required public members, in lexicographic
// order, without whitespace: e, kty, n for RSA; crv, kty, x, y for EC, the
// coordinates at the curve's full length (RFC 7518 section 6.2.1.2), so a
// coordinate that starts with a zero octet keeps it; crv, kty, x for
// Ed25519 (RFC 8037 section 2). Integers are big-endian without leading
// zero octets (RFC 7518 section 6.3.1).
func (k *Key) Thumbprint() (string, error) {
	if k == nil {
		return "", errors.New("validator: nil key")
	}
	// Member values are base64url or fixed names, so no JSON escaping is
	// ever needed.
	b := make([]byte, 0, 512)
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		if pub == nil || pub.N == nil || pub.N.Sign() <= 0 || pub.E <= 0 {
			return "", errors.New("validator: invalid RSA key")
		}
		b = append(b, `{"e":"`...)
		b = base64.RawURLEncoding.AppendEncode(b, big.NewInt(int64(pub.E)).Bytes())
		b = append(b, `","kty":"RSA","n":"`...)
		b = base64.RawURLEncoding.AppendEncode(b, pub.N.Bytes())
		b = append(b, `"}`...)
	case *ecdsa.PublicKey:
		if pub == nil {
			return "", errors.New("validator: invalid EC key")
		}
		var crv string
		switch pub.Curve {
		case elliptic.P256():
			crv = "P-256"
		case elliptic.P384():
			crv = "P-384"
		case elliptic.P521():
			crv = "P-521"
		default:
			return "", errors.New("validator: unsupported curve")
		}
		// Bytes is 0x04 || X || Y, each coordinate at full length; it
		// fails for a point off the curve.
		pt, err := pub.Bytes()
		if err != nil {
			return "", errors.New("validator: EC point is not on its curve")
		}
		size := (len(pt) - 1) / 2
		b = append(b, `{"crv":"`...)
		b = append(b, crv...)
		b = append(b, `","kty":"EC","x":"`...)
		b = base64.RawURLEncoding.AppendEncode(b, pt[1:1+size])
		b = append(b, `","y":"`...)
		b = base64.RawURLEncoding.AppendEncode(b, pt[1+size:])
		b = append(b, `"}`...)
	case ed25519.PublicKey:
		if len(pub) != ed25519.PublicKeySize {
			return "", errors.New("validator: Ed25519 key of the wrong size")
		}
		b = append(b, `{"crv":"Ed25519","kty":"OKP","x":"`...)
		b = base64.RawURLEncoding.AppendEncode(b, pub)
		b = append(b, `"}`...)
	default:
		return "", errors.New("validator: unsupported key type")
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}
