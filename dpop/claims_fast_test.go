package dpop

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/internal/racedetect"
)

// FuzzProofClaimsFast holds the fast claims decoder to the strict one: on
// every payload it takes, the strict decoder accepts it and decodes the
// same claims.
func FuzzProofClaimsFast(f *testing.F) {
	for _, s := range []string{
		`{"jti":"e1j3V_bKic8-LAEB","htm":"GET","htu":"https://api.example.com/r","iat":1800000000,"ath":"fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo","nonce":"n"}`,
		`{ "htu" : "https://a/" , "iat" : 0 , "jti" : "" , "htm" : "POST" }`,
		"\t{\"iat\":253402300799}\r\n",
		`{}`,
		`{"iat":253402300800}`,
		`{"iat":1234567890123}`,
		`{"iat":01}`,
		`{"iat":-1}`,
		`{"iat":-0}`,
		`{"iat":1.5}`,
		`{"iat":1e9}`,
		`{"iat":1E9}`,
		`{"iat":"1"}`,
		`{"jti":"a","jti":"a"}`,
		`{"JTI":"a"}`,
		`{"jti":"a\"b"}`,
		`{"jti":"\u0061"}`,
		`{"jti":1}`,
		`{"jti":null}`,
		`{"htm":"GET",}`,
		`{"htm":"GET"}x`,
		`{"htm":"GET"}{}`,
		`{"htm":"GET" "htu":"x"}`,
		`{"exp":1800000000}`,
		"{\"jti\":\"\xff\"}",
		"{\"jti\":\"\x7f\"}",
		"{\"jti\":\"\x01\"}",
		"\v{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast proofClaims
		if !parseCommonClaims(data, &fast) {
			return
		}
		var strict proofClaims
		require.NoError(t, parseClaimsStrict(data, &strict), "the fast path took claims the strict decoder refuses: %q", data)
		require.Equal(t, strict, fast, "%q", data)
		for _, p := range [][2][]byte{{strict.jti, fast.jti}, {strict.htm, fast.htm}, {strict.htu, fast.htu}, {strict.ath, fast.ath}, {strict.nonce, fast.nonce}} {
			require.Equal(t, p[0] == nil, p[1] == nil, "%q: an empty claim is present, not absent", data)
		}
	})
}

// The common claims are on the fast path; anything else is left to the
// strict decoder, which then decides (its errors are those of parseClaims).
func TestProofClaimsFast(t *testing.T) {
	for _, tt := range []struct {
		name, payload string
		fast          bool
		err           error // of parseClaims
	}{
		{"common", `{"jti":"j","htm":"GET","htu":"https://a/r","iat":1800000000,"ath":"h"}`, true, nil},
		{"nonce first", `{"nonce":"n","iat":1800000000,"htu":"https://a/r","htm":"GET","jti":"j"}`, true, nil},
		{"whitespace", "{ \"jti\" :\t\"j\" ,\n\"iat\": 0 }\r\n", true, nil},
		{"empty string", `{"jti":""}`, true, nil},
		{"largest iat", `{"iat":253402300799}`, true, nil},
		{"iat too late", `{"iat":253402300800}`, false, errIAT},
		{"iat leading zero", `{"iat":01}`, false, errPayloadJSON},
		{"iat negative", `{"iat":-1}`, false, errIAT},
		{"iat fraction", `{"iat":1800000000.5}`, false, nil},
		{"iat exponent", `{"iat":18e8}`, false, nil},
		{"iat string", `{"iat":"1800000000"}`, false, errIAT},
		{"duplicate", `{"jti":"a","jti":"b"}`, false, errPayloadJSON},
		{"case variant", `{"jti":"a","Htm":"GET"}`, false, errCaseVariant},
		{"escape", `{"jti":"a\u0062"}`, false, nil},
		{"non-ASCII", `{"jti":"é"}`, false, nil},
		{"number for a string", `{"htm":1}`, false, errHTM},
		{"other member", `{"jti":"a","exp":1}`, false, nil},
		{"trailing comma", `{"jti":"a",}`, false, errPayloadJSON},
		{"trailing data", `{"jti":"a"}{}`, false, errPayloadJSON},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c proofClaims
			require.Equal(t, tt.fast, parseCommonClaims([]byte(tt.payload), &c))
			var got proofClaims
			err := parseClaims([]byte(tt.payload), &got)
			if tt.err != nil {
				assert.Same(t, tt.err, err)
				return
			}
			require.NoError(t, err)
			var strict proofClaims
			require.NoError(t, parseClaimsStrict([]byte(tt.payload), &strict))
			assert.Equal(t, strict, got)
		})
	}
}

// The common proof claims decode without allocating.
func TestProofClaimsFastAllocations(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector changes allocation counts")
	}
	data := []byte(`{"jti":"j","htm":"GET","htu":"https://a/r","iat":1800000000,"ath":"h"}`)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = parseClaims(data, &proofClaims{}) }))
}
