package validator

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/MicahParks/jwkset"
)

// The key policy: which keys may verify tokens at all (checkKey, applied
// to every key a KeySet holds) and which alg a key may verify (fits,
// applied to every key a KeySource returns), and ParseJWKS, which applies
// both to a published key set.

// RSA modulus sizes accepted for verification.
const (
	// MinRSABits is the smallest (RFC 7518 section 3.3 requires 2048).
	MinRSABits = 2048
	// MaxRSABits is the largest: a verification costs about the square of
	// the modulus size, so a huge key in a JWKS would make every forged
	// token expensive (a 44-kbit key costs ~46 ms). crypto/tls caps
	// certificate keys at 8192 bits for the same reason.
	MaxRSABits = 8192
)

// fits reports whether k may verify a token signed with alg: RSA keys for
// RS* and PS*, the matching curve for ES*, Ed25519 for EdDSA.
func (k *Key) fits(alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		// The size is checked here too, because keys from a KeySource of
		// the user's have not been through checkKey.
		if pub == nil || pub.N == nil || pub.N.BitLen() < MinRSABits || pub.N.BitLen() > MaxRSABits {
			return false
		}
		if k.Algorithm == "" {
			return alg == "RS256" // one key, one algorithm
		}
		switch alg {
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
			return true
		}
	case *ecdsa.PublicKey:
		// The point itself is checkKey's: every key a KeySet holds, or a
		// KeySource of the user's returns (sourceKey), has been through it.
		if pub == nil {
			return false
		}
		switch alg {
		case "ES256":
			return pub.Curve == elliptic.P256()
		case "ES384":
			return pub.Curve == elliptic.P384()
		case "ES512":
			return pub.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA" && len(pub) == ed25519.PublicKeySize
	}
	return false
}

// checkKey applies the key policy that does not depend on the JWK form.
func checkKey(k *Key) error {
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		if pub == nil || pub.N == nil || pub.N.BitLen() < MinRSABits {
			return fmt.Errorf("RSA key shorter than %d bits", MinRSABits)
		}
		if pub.N.BitLen() > MaxRSABits {
			return fmt.Errorf("RSA key longer than %d bits", MaxRSABits)
		}
		if pub.E < 3 || pub.E%2 == 0 || pub.E > 1<<31-1 {
			return errors.New("RSA public exponent is not an odd number from 3 to 2^31-1")
		}
		if hasROCAFingerprint(pub.N) {
			return errors.New("RSA modulus has the ROCA fingerprint (CVE-2017-15361)")
		}
	case *ecdsa.PublicKey:
		if pub == nil {
			return errors.New("nil EC key")
		}
		switch pub.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return errors.New("unsupported curve")
		}
		// A key built in code (NewKeySet, a KeySource of the user's) skips
		// ParseJWKS's point check.
		if !ecPointValid(pub) {
			return errors.New("EC point is not on its curve")
		}
	case ed25519.PublicKey:
		if len(pub) != ed25519.PublicKeySize {
			return errors.New("Ed25519 key of the wrong size")
		}
	default:
		return fmt.Errorf("unsupported key type %T", k.Public)
	}
	if k.Algorithm != "" && !k.fits(k.Algorithm) {
		return errors.New("key does not fit its own alg")
	}
	return nil
}

// JWKSLimits bound what ParseJWKS accepts.
const (
	// MaxJWKSKeys is the most keys one JWKS may hold. Real issuers publish
	// two or three; thousands would make every lookup miss cost a parse.
	MaxJWKSKeys = 100
)

// ParseJWKS parses a JSON Web Key Set (RFC 7517) and applies the key policy:
// only public signature keys are kept. A key is skipped when its use is
// not "sig", its key_ops lack "verify", it is an "oct" key or an unknown
// kty, an RSA key has fewer than [MinRSABits] or more than [MaxRSABits]
// bits, an exponent below 3 or even, or a modulus with the ROCA
// fingerprint (CVE-2017-15361), an EC point is not on its curve, its alg
// does not fit its type or curve, it carries private members, or it is
// malformed; [KeySet.Skipped] reports the skipped keys and why. A kid
// shared by several keys verifies no token. The set fails as a whole
// when it is not a JSON object with a keys array, holds more than
// [MaxJWKSKeys] keys, or keeps no key (the error then says why each was
// skipped).
func ParseJWKS(data []byte) (*KeySet, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errors.New("validator: JWKS is not a JSON object")
	}
	if raw.Keys == nil {
		return nil, errors.New("validator: JWKS has no keys array")
	}
	if len(raw.Keys) > MaxJWKSKeys {
		return nil, fmt.Errorf("validator: JWKS holds %d keys, more than %d", len(raw.Keys), MaxJWKSKeys)
	}
	set := &KeySet{byID: make(map[string]*Key, len(raw.Keys)), ambiguous: map[string]bool{}}
	var skips []error
	for i, r := range raw.Keys {
		k, err := parseJWK(r)
		if err != nil {
			skips = append(skips, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		set.add(k)
	}
	set.skipped = errors.Join(skips...)
	if set.Len() == 0 {
		if set.skipped != nil {
			return nil, fmt.Errorf("validator: JWKS holds no usable signature key: %w", set.skipped)
		}
		return nil, errors.New("validator: JWKS holds no usable signature key")
	}
	return set, nil
}

func parseJWK(raw []byte) (*Key, error) {
	var m jwkset.JWKMarshal
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.New("not a JSON object of JWK members")
	}
	switch {
	case m.D != "" || m.P != "" || m.Q != "" || m.DP != "" || m.DQ != "" || m.QI != "" || len(m.OTH) > 0 || m.K != "":
		return nil, errors.New("carries private or symmetric key material")
	case m.USE != "" && m.USE != jwkset.UseSig:
		return nil, errors.New(`use is not "sig"`)
	case m.KEYOPS != nil && !hasVerify(m.KEYOPS):
		return nil, errors.New(`key_ops lacks "verify"`)
	}
	switch m.KTY {
	case jwkset.KtyRSA, jwkset.KtyEC, jwkset.KtyOKP:
	default:
		return nil, errors.New("kty is not RSA, EC or OKP")
	}
	if m.KTY == jwkset.KtyOKP && m.CRV != jwkset.CrvEd25519 {
		return nil, errors.New("OKP key is not Ed25519")
	}
	// jwkset keeps only the low 64 bits of e, so a longer one would verify
	// with another key than the one published. Real exponents take at most
	// 4 octets (6 base64url characters; RFC 7518 section 6.3.1.2).
	if m.KTY == jwkset.KtyRSA && len(strings.TrimRight(m.E, "=")) > 6 {
		return nil, errors.New("RSA public exponent too large")
	}
	// SkipAll: the policy above and checkKey below do the checks that
	// matter; jwkset's x5t check would refuse Auth0's legacy hex x5t.
	j, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{SkipAll: true})
	if err != nil {
		return nil, errors.New("malformed key")
	}
	k := &Key{ID: m.KID, Algorithm: string(m.ALG), Public: j.Key()}
	if err := checkKey(k); err != nil {
		return nil, err
	}
	return k, nil
}

func hasVerify(ops []jwkset.KEYOPS) bool {
	for _, op := range ops {
		if op == jwkset.KeyOpsVerify {
			return true
		}
	}
	return false
}

// ecPointValid reports whether pub is a point on its curve. Bytes does the
// check, but panics on missing coordinates, which a key built in code may
// have: that is a refusal too.
func ecPointValid(pub *ecdsa.PublicKey) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, err := pub.Bytes()
	return err == nil
}
