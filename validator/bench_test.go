package validator_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// benchIssuer is the issuer of the benchmark tokens; the payload below is
// shaped like an Auth0 access token (~460 bytes).
const benchIssuer = "https://tenant.us.auth0.com/"

func benchClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":                          benchIssuer,
		"sub":                          "auth0|6543210fedcba9876543210f",
		"aud":                          []string{"https://contacts.example.com", benchIssuer + "userinfo"},
		"iat":                          now.Unix(),
		"exp":                          now.Add(24 * time.Hour).Unix(),
		"scope":                        "openid profile email read:contacts write:contacts offline_access",
		"azp":                          "nH3Vx1aAbCdEfGhIjKlMnOpQrStUvWx",
		"permissions":                  []string{"read:contacts", "write:contacts", "delete:contacts"},
		"org_id":                       "org_a1b2c3d4e5f6g7h8",
		"https://example.com/roles":    []string{"admin", "editor"},
		"https://example.com/email":    "jane.doe@example.com",
		"https://example.com/tenantId": "t-42",
	}
}

type benchCase struct {
	key   *validatortest.Key
	token string
	v     *validator.Validator
}

func newBenchCase(b *testing.B, alg string) *benchCase {
	b.Helper()
	k := validatortest.GenerateKey("bench-"+alg, alg)
	set, err := validator.NewKeySet(k.Public())
	if err != nil {
		b.Fatal(err)
	}
	v, err := validator.New(context.Background(), validator.Config{
		Issuer:     benchIssuer,
		Audiences:  []string{"https://contacts.example.com"},
		Algorithms: []string{alg},
		Keys:       set,
	})
	if err != nil {
		b.Fatal(err)
	}
	tok := &validatortest.Token{
		Header: map[string]any{"alg": alg, "typ": "JWT", "kid": k.ID},
		Claims: benchClaims(),
		Key:    k,
	}
	bc := &benchCase{key: k, token: tok.Sign(), v: v}
	if _, err := v.Validate(context.Background(), bc.token); err != nil {
		b.Fatal(err)
	}
	return bc
}

// rawVerify is the bare signature check on the token: the floor that
// Validate is measured against.
func (bc *benchCase) rawVerify(b *testing.B) func() bool {
	i := strings.LastIndexByte(bc.token, '.')
	signing, rawSig := bc.token[:i], bc.token[i+1:]
	s, err := base64.RawURLEncoding.DecodeString(rawSig)
	if err != nil {
		b.Fatal(err)
	}
	switch pub := bc.key.Private.Public().(type) {
	case *rsa.PublicKey:
		return func() bool {
			d := sha256.Sum256([]byte(signing))
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], s) == nil
		}
	case *ecdsa.PublicKey:
		n := len(s) / 2
		r, ss := new(big.Int).SetBytes(s[:n]), new(big.Int).SetBytes(s[n:])
		return func() bool {
			d := sha256.Sum256([]byte(signing))
			return ecdsa.Verify(pub, d[:], r, ss)
		}
	case ed25519.PublicKey:
		return func() bool { return ed25519.Verify(pub, []byte(signing), s) }
	}
	b.Fatalf("unexpected key type")
	return nil
}

func BenchmarkValidate(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		bc := newBenchCase(b, alg)
		verify := bc.rawVerify(b)
		ctx := context.Background()
		b.Run(alg+"/raw-verify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !verify() {
					b.Fatal("raw verify failed")
				}
			}
		})
		b.Run(alg+"/validate", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.v.Validate(ctx, bc.token); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/validate-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bc.v.Validate(ctx, bc.token); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
