package jose

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/racedetect"
)

// FuzzCommonHeader holds the fast header decoder to the strict one: on
// every header it takes, the strict decoder accepts and decodes the same
// header and kid.
func FuzzCommonHeader(f *testing.F) {
	for _, s := range []string{
		`{"alg":"RS256","typ":"JWT","kid":"k1"}`,
		`{"kid":"NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg","typ":"at+jwt","alg":"ES256"}`,
		`{}`,
		`{"alg":"RS256","alg":"RS256"}`,
		`{"alg":"RS256" }`,
		`{"alg":"none"}`,
		`{"alg":"RS256","kid":"a\"b"}`,
		`{"alg":"RS256","kid":"\u00e9"}`,
		`{"alg":"RS256","kid":1}`,
		`{"alg":"RS256","KID":"x"}`,
		`{"alg":"RS256","kid":"x"}x`,
		`{"alg":"RS256",}`,
		`{"alg":"RS256","typ":"jwt"}`,
		"{\"alg\":\"RS256\",\"kid\":\"\xff\"}",
		// DPoP proof headers: a flat jwk of plain strings is taken.
		`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}`,
		`{"jwk":{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},"alg":"EdDSA","typ":"dpop+jwt"}`,
		`{"alg":"ES256","jwk":{}}`,
		`{"alg":"RS256","kid":"k","jwk":{"kty":"RSA","e":"AQAB","n":"AQAB"}}`,
		// Each of these goes to the strict decoder.
		`{"alg":"ES256","jwk":{"kty":"EC","kty":"EC"}}`,
		`{"alg":"ES256","jwk":{"kty":"EC","KTY":"EC"}}`,
		`{"alg":"ES256","jwk":{"kty":"E\u0043"}}`,
		`{"alg":"ES256","jwk":{"k\u0074y":"EC"}}`,
		`{"alg":"ES256","jwk":{"kty":"EC","n":{"a":"b"}}}`,
		`{"alg":"ES256","jwk":{"kty":"EC","n":{"a":"b","a":"c"}}}`,
		`{"alg":"ES256","jwk":{"kty":"EC","e":65537}}`,
		`{"alg":"ES256","jwk":{"kty":"EC","key_ops":["verify"]}}`,
		`{"alg":"ES256","jwk":{"kty":"EC"},"jwk":{"kty":"EC"}}`,
		`{"alg":"ES256","jwk":{"kty":"EC" }}`,
		`{"alg":"ES256","jwk":{"kty":"EC",}}`,
		`{"alg":"ES256","jwk":{"kty":"EC"}`,
		`{"alg":"ES256","jwk":{"kty"}}`,
		`{"alg":"ES256","jwk":"EC"}`,
		`{"alg":"ES256","jwk":null}`,
		`{"alg":"ES256","jwk":{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10","k":"11","l":"12","m":"13"}}`,
		"{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"\xe9\"}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast Header
		kid, jwk, ok := decodeCommonHeader(data, &fast)
		if !ok {
			return
		}
		require.Nil(t, fast.JWK, "the fast path leaves the copy of jwk to its caller")
		fast.JWK = jwk
		var strict Header
		d := newStrict(data)
		strictKid, err := strict.decode(&d.Decoder, data, testErrs)
		d.Release()
		require.NoError(t, err, "the fast path took a header the strict decoder refuses: %q", data)
		require.Equal(t, strict, fast, "%q", data)
		require.Equal(t, string(strictKid), string(kid), "%q", data)
		require.Equal(t, strictKid == nil, kid == nil, "%q", data)
	})
}

// ec is a P-256 public JWK, as a DPoP proof header carries it.
const ec = `{"kty":"EC","crv":"P-256","x":"WKn-ZIGevcwGIyyrzFoZNBdaq9_TsqzGl96oc0CWuis","y":"y77t-RvAHRKTsSGdIYUfweuOvwrvDD-Q3Hv5J0fSKbE"}`

// A DPoP proof's header, a flat jwk of plain strings, is on the fast path;
// other jwk values, and a second jwk, are left to the strict decoder.
func TestCommonHeaderJWK(t *testing.T) {
	for _, tt := range []struct {
		name, header string
		fast         bool
	}{
		{"dpop header", `{"typ":"dpop+jwt","alg":"ES256","jwk":` + ec + `}`, true},
		{"jwk first", `{"jwk":` + ec + `,"alg":"ES256","typ":"dpop+jwt"}`, true},
		{"empty jwk", `{"alg":"ES256","jwk":{}}`, true},
		{"two jwk", `{"alg":"ES256","jwk":` + ec + `,"jwk":` + ec + `}`, false},
		{"duplicate member in jwk", `{"alg":"ES256","jwk":{"kty":"EC","kty":"EC"}}`, false},
		{"escape in jwk value", `{"alg":"ES256","jwk":{"kty":"\u0045C"}}`, false},
		{"escape in jwk name", `{"alg":"ES256","jwk":{"\u006bty":"EC"}}`, false},
		{"nested object", `{"alg":"ES256","jwk":{"kty":"EC","x":{}}}`, false},
		{"number", `{"alg":"ES256","jwk":{"kty":"EC","x":1}}`, false},
		{"array", `{"alg":"ES256","jwk":{"kty":"EC","x":[]}}`, false},
		{"whitespace", `{"alg":"ES256","jwk":{"kty": "EC"}}`, false},
		{"not an object", `{"alg":"ES256","jwk":"EC"}`, false},
		{"non-ASCII", `{"alg":"ES256","jwk":{"kty":"é"}}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var h Header
			_, jwk, ok := decodeCommonHeader([]byte(tt.header), &h)
			require.Equal(t, tt.fast, ok)
			if ok {
				assert.Equal(t, "ES256", h.Alg)
				assert.Contains(t, tt.header, `"jwk":`+string(jwk))
			}
		})
	}
}

// DecodeHeaderKid copies a proof header's jwk: one allocation, where the
// strict decoder needs several.
func TestCommonHeaderJWKAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	data := []byte(`{"typ":"dpop+jwt","alg":"ES256","jwk":` + ec + `}`)
	var h Header
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _, _ = DecodeHeaderKid(data, &h, testErrs) }))
	assert.Equal(t, ec, string(h.JWK))
}

// The common header decodes without allocating, and DecodeHeaderKid keeps
// no reference to its input, so the input can live on the caller's stack.
func TestCommonHeaderAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	data := []byte(`{"alg":"RS256","typ":"JWT","kid":"bench-RS256"}`)
	var h Header
	kid, err := DecodeHeaderKid(data, &h, testErrs)
	require.NoError(t, err)
	assert.Equal(t, Header{Alg: "RS256", Typ: "JWT"}, h)
	assert.Equal(t, "bench-RS256", string(kid))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = DecodeHeaderKid(data, &h, testErrs) }))

	// A header off the fast path decodes strictly, with the same result.
	data = []byte(`{ "alg": "RS256", "typ": "JWT", "kid": "bench-RS256" }`)
	kid, err = DecodeHeaderKid(data, &h, testErrs)
	require.NoError(t, err)
	assert.Equal(t, Header{Alg: "RS256", Typ: "JWT"}, h)
	assert.Equal(t, "bench-RS256", string(kid))
}
