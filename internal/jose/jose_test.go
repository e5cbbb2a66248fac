package jose

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testErrs = &Errors{
	TooLarge:   errors.New("too large"),
	Segments:   errors.New("segments"),
	Encoding:   errors.New("encoding"),
	HeaderJSON: errors.New("header json"),
	NoAlg:      errors.New("no alg"),
}

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestParse(t *testing.T) {
	jwk := `{"kty":"EC","crv":"P-256","x":"a","y":"b"}`
	tests := []struct {
		name  string
		token string
		max   int
		err   error
	}{
		{"valid", seg(`{"alg":"ES256","typ":"dpop+jwt","jwk":`+jwk+`}`) + "." + seg(`{}`) + ".c2ln", 1000, nil},
		{"too large", seg(`{"alg":"ES256"}`) + "." + seg(`{}`) + ".c2ln", 10, testErrs.TooLarge},
		{"two segments", seg(`{"alg":"ES256"}`) + "." + seg(`{}`), 1000, testErrs.Segments},
		{"empty header", "." + seg(`{}`) + ".c2ln", 1000, testErrs.Segments},
		{"newline", seg(`{"alg":"ES256"}`) + "\n." + seg(`{}`) + ".c2ln", 1000, testErrs.Encoding},
		{"padding", seg(`{"alg":"ES256"}`) + "=." + seg(`{}`) + ".c2ln", 1000, testErrs.Encoding},
		{"duplicate member", seg(`{"alg":"ES256","alg":"ES256"}`) + "." + seg(`{}`) + ".c2ln", 1000, testErrs.HeaderJSON},
		{"case variant of jwk", seg(`{"alg":"ES256","JWK":{}}`) + "." + seg(`{}`) + ".c2ln", 1000, testErrs.HeaderJSON},
		{"alg number", seg(`{"alg":1}`) + "." + seg(`{}`) + ".c2ln", 1000, testErrs.NoAlg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := Parse(tt.token, tt.max, testErrs)
			if tt.err != nil {
				assert.Same(t, tt.err, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "ES256", j.Header.Alg)
			assert.Equal(t, "dpop+jwt", j.Header.Typ)
			assert.Equal(t, jsontext.Value(jwk), j.Header.JWK)
			require.NoError(t, j.DecodePayload())
			require.NoError(t, j.DecodeSignature())
			assert.Equal(t, "{}", string(j.Payload))
			assert.Equal(t, "sig", string(j.Signature))
		})
	}
}

func TestHeaderJWKCopied(t *testing.T) {
	data := []byte(`{"alg":"ES256","jwk":{"kty":"OKP"}}`)
	var h Header
	require.NoError(t, DecodeHeader(data, &h, testErrs))
	copy(data, make([]byte, len(data))) // the caller may reuse its buffer
	assert.Equal(t, `{"kty":"OKP"}`, string(h.JWK))
}

// Parse takes the jwk of a header on the fast path without copying it, so
// it must be the decoded header's bytes, never overwritten by the payload
// or the signature decoded after it.
func TestParseJWKSurvivesDecoding(t *testing.T) {
	jwk := `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	for _, hdr := range []string{
		`{"alg":"EdDSA","typ":"dpop+jwt","jwk":` + jwk + `}`,                  // fast path
		`{"alg": "EdDSA", "typ": "dpop+jwt", "jwk": ` + jwk + `, "kid": "k"}`, // strict
	} {
		payload := strings.Repeat("p", 300)
		j, err := Parse(seg(hdr)+"."+seg(payload)+"."+seg(strings.Repeat("s", 64)), 4096, testErrs)
		require.NoError(t, err)
		require.NoError(t, j.DecodePayload())
		require.NoError(t, j.DecodeSignature())
		assert.Equal(t, jwk, string(j.Header.JWK), hdr)
		_ = append(j.Header.JWK, strings.Repeat("x", 300)...) // must not write into the payload
		assert.Equal(t, payload, string(j.Payload))
	}
}
