package validator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wycheproofKeyDeviations are the vectors whose result this package
// deliberately does not share, with the reason.
var wycheproofKeyDeviations = map[int]string{
	// Wycheproof expects a verifier to accept an HMAC key with enough bits
	// (tcId 2: a set of two HS256 keys; 13-15: long HS256/384/512 keys).
	// This package verifies asymmetric signatures only: "oct" keys are
	// never loaded and HS* never allowed, because a key the API can
	// verify with is then a key anyone holding the JWKS can sign with.
	2:  "symmetric keys are refused by policy",
	13: "symmetric keys are refused by policy",
	14: "symmetric keys are refused by policy",
	15: "symmetric keys are refused by policy",
}

// wycheproofKeyReasons are what the key policy must say about some
// invalid vectors, so that they are refused for the right reason and not
// by accident at a later stage.
var wycheproofKeyReasons = map[int]string{
	6:  `use is not "sig"`,
	7:  "ROCA",
	8:  "shorter than 2048",
	9:  "exponent",
	10: "private or symmetric",
	19: "does not fit its own alg",
	20: "does not fit its own alg",
	21: `use is not "sig"`,
	22: "malformed",
	23: "malformed",
	24: "malformed",
	25: "private or symmetric",
	26: "private or symmetric",
}

// The Wycheproof JWK vectors through the key policy: every key set is
// parsed by ParseJWKS (the public set when the group has one, otherwise
// the private one, whose private members the policy refuses), and the
// vector's JWS is then checked by key selection and signature
// verification. A valid vector must verify, an invalid one must not, but
// for the listed deviations.
func TestWycheproofJWKPolicy(t *testing.T) {
	data, err := os.ReadFile(wycheproofFile(t, "json_web_key_test.json"))
	require.NoError(t, err)
	var file struct {
		NumberOfTests int `json:"numberOfTests"`
		TestGroups    []struct {
			Comment string          `json:"comment"`
			Public  json.RawMessage `json:"public"`
			Private json.RawMessage `json:"private"`
			Tests   []struct {
				TcID    int      `json:"tcId"`
				Comment string   `json:"comment"`
				JWS     string   `json:"jws"`
				Result  string   `json:"result"`
				Flags   []string `json:"flags"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	require.NoError(t, json.Unmarshal(data, &file))

	ran, deviated := 0, 0
	for _, g := range file.TestGroups {
		keys := g.Public
		if keys == nil {
			keys = g.Private
		}
		for _, tc := range g.Tests {
			ran++
			t.Run(fmt.Sprintf("tcId %d %s %s", tc.TcID, g.Comment, tc.Comment), func(t *testing.T) {
				stage, err := wycheproofKeyCheck(keys, tc.JWS)
				accepted := err == nil
				want := tc.Result == "valid"
				if reason, ok := wycheproofKeyDeviations[tc.TcID]; ok {
					deviated++
					assert.NotEqual(t, want, accepted, "listed deviation (%s) no longer deviates: remove it", reason)
					t.Logf("deviation: %s (result %s, refused at %s: %v)", reason, tc.Result, stage, err)
					return
				}
				if want {
					assert.NoError(t, err, "valid vector refused at %s", stage)
				} else {
					assert.Error(t, err, "invalid vector accepted (flags %v)", tc.Flags)
					if reason, ok := wycheproofKeyReasons[tc.TcID]; ok && err != nil {
						assert.Contains(t, err.Error(), reason, "refused at %s", stage)
					}
					t.Logf("refused at %s: %v", stage, err)
				}
			})
		}
	}
	assert.Equal(t, file.NumberOfTests, ran)
	assert.Equal(t, len(wycheproofKeyDeviations), deviated, "every listed deviation exists")
}

// wycheproofKeyCheck loads keys through ParseJWKS and checks token with
// them: the stage that refused it, if any, and why.
func wycheproofKeyCheck(keys []byte, token string) (stage string, err error) {
	set, err := ParseJWKS(keys)
	if err != nil {
		return "key policy (ParseJWKS)", err
	}
	t, err := parseJWS(token, 1<<20)
	if err != nil {
		return "JWS parsing", err
	}
	if err := checkHeader(&t.Header); err != nil {
		return "JWS header", err
	}
	if _, ok := method(t.Header.Alg); !ok {
		return "algorithm", errors.New("alg not supported: " + t.Header.Alg)
	}
	if err := decodeBody(t); err != nil {
		return "JWS payload", err
	}
	k, err := set.lookup(t.Header.Kid, t.Header.Alg)
	if err != nil {
		return "key selection", err
	}
	if err := verify(t, k); err != nil {
		return "signature", err
	}
	return "", nil
}
