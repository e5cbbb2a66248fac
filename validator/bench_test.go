package validator_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
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
	key   *testkit.Key
	token string
	v     *validator.Validator
}

func newBenchCase(b *testing.B, alg string, cacheSize int) *benchCase {
	b.Helper()
	k := testkit.GenerateKey("bench-"+alg, alg)
	set, err := validator.NewKeySet(k.Public())
	if err != nil {
		b.Fatal(err)
	}
	v, err := validator.New(context.Background(), validator.Config{
		Issuer:     benchIssuer,
		Audiences:  []string{"https://contacts.example.com"},
		Algorithms: []string{alg},
		Keys:       set,
		CacheSize:  cacheSize,
	})
	if err != nil {
		b.Fatal(err)
	}
	tok := &testkit.Token{
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
		bc := newBenchCase(b, alg, 0)
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

// BenchmarkValidateCached measures a hit of the verified-token cache: the
// common case of a client reusing its access token.
func BenchmarkValidateCached(b *testing.B) {
	bc := newBenchCase(b, "RS256", 1000)
	ctx := context.Background()
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bc.v.Validate(ctx, bc.token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
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

// BenchmarkReject measures refusals. All but the bad signature happen
// before any signature work and should cost well under 2 us.
func BenchmarkReject(b *testing.B) {
	bc := newBenchCase(b, "RS256", 0)
	h, p, s := testkit.Segments(bc.token)
	sign := func(header map[string]any, claims map[string]any) string {
		tok := &testkit.Token{Header: header, Claims: claims, Key: bc.key}
		return tok.Sign()
	}
	wrongIss := benchClaims()
	wrongIss["iss"] = "https://evil.example.com/"
	cases := []struct {
		name, token string
		class       error
	}{
		{"malformed", h + "." + p + "=." + s, validator.ErrMalformed},
		{"alg-none", sign(map[string]any{"alg": "none", "typ": "JWT"}, benchClaims()), validator.ErrAlgorithm},
		{"typ", sign(map[string]any{"alg": "RS256", "typ": "id+jwt", "kid": bc.key.ID}, benchClaims()), validator.ErrTokenType},
		{"oversized", strings.Repeat(".", 1<<20), validator.ErrMalformed},
		{"issuer", sign(map[string]any{"alg": "RS256", "typ": "JWT", "kid": bc.key.ID}, wrongIss), validator.ErrIssuer},
		{"bad-signature", h + "." + p + "." + s[:len(s)-4] + "AAAA", validator.ErrSignature},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.v.Validate(ctx, c.token); !errors.Is(err, c.class) {
					b.Fatalf("got %v, want %v", err, c.class)
				}
			}
		})
	}
}
