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
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast Header
		kid, ok := decodeCommonHeader(data, &fast)
		if !ok {
			return
		}
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
