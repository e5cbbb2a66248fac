package validator

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wycheproofFile returns the path of file among the Wycheproof vectors, for
// the JWS and the JWK vectors. They are in testdata/wycheproof at the
// repository root (the directory of the nearest go.mod above the package),
// or in $WYCHEPROOF_DIR, relative to that root unless absolute. It fails
// the test when the file is missing: it never skips.
func wycheproofFile(t testing.TB, file string) string {
	t.Helper()
	dir := os.Getenv("WYCHEPROOF_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "wycheproof")
	}
	if !filepath.IsAbs(dir) {
		root, err := filepath.Abs(".")
		require.NoError(t, err)
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			require.NotEqual(t, root, parent, "no go.mod above the package")
			root = parent
		}
		dir = filepath.Join(root, dir)
	}
	path := filepath.Join(dir, file)
	_, err := os.Stat(path)
	require.NoError(t, err, "Wycheproof vector file %s is missing", file)
	return path
}

// TestWycheproofFilesFromAPlainClone: the vectors are found without any
// setting, so the Wycheproof tests run (not skip) from a plain clone.
func TestWycheproofFilesFromAPlainClone(t *testing.T) {
	t.Setenv("WYCHEPROOF_DIR", "")
	for _, file := range []string{"json_web_signature_test.json", "json_web_key_test.json"} {
		var inner *testing.T
		t.Run(file, func(t *testing.T) {
			inner = t
			path := wycheproofFile(t, file)
			assert.Equal(t, filepath.Join("testdata", "wycheproof", file), filepath.Join(filepath.Base(filepath.Dir(filepath.Dir(path))), filepath.Base(filepath.Dir(path)), file))
		})
		require.False(t, inner.Skipped(), "%s: the vectors were not found by default", file)
	}
}

type wycheproofJWS struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		Comment string          `json:"comment"`
		Public  json.RawMessage `json:"public"`
		Private json.RawMessage `json:"private"`
		Tests   []struct {
			TcID    int             `json:"tcId"`
			Comment string          `json:"comment"`
			JWS     json.RawMessage `json:"jws"`
			Result  string          `json:"result"`
			Flags   []string        `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// wycheproofValidRejected lists the vectors marked valid that this package
// refuses, each with the reason. The test fails if one of them is
// accepted after all, so the list cannot go stale.
var wycheproofValidRejected = map[int]string{
	// HMAC: the key policy drops "oct" keys and no HS* algorithm is
	// supported (RFC 8725 section 3.1: asymmetric only, so that a public
	// key can never be used as an HMAC secret).
	1:   "HS256 (oct key refused by policy)",
	348: "HS256 (oct key refused by policy)",
	352: "HS256 (oct key refused by policy)",
	357: "HS256 (oct key refused by policy)",
	358: "HS256 (oct key refused by policy)",
	359: "HS256 (oct key refused by policy)",
	376: "HS256 (oct key refused by policy); whitespace in the header JSON is fine with us otherwise",
	377: "HS256 (oct key refused by policy); whitespace in the header JSON is fine with us otherwise",
	// Data quirk: these contain '?', which is not base64url, yet are
	// marked valid. We refuse them as malformed (RFC 7515 section 2 /
	// RFC 8725 section 3.1: one canonical encoding), and they are HS256
	// besides.
	372: "data quirk: '?' in the header is not base64url (and HS256)",
	373: "data quirk: '?' in the payload is not base64url (and HS256)",
	// Deviation: an empty payload is a valid JWS (RFC 7515), but never a
	// JWT, whose payload is a JSON object (RFC 7519 section 7.2): the
	// compact parser refuses it as malformed before any key lookup, as
	// claims parsing would a moment later.
	259: "empty payload (RS256): a JWT's payload is a JSON object",
	264: "empty payload (RS384): a JWT's payload is a JSON object",
	268: "empty payload (RS512): a JWT's payload is a JSON object",
	272: "empty payload (PS256): a JWT's payload is a JSON object",
	320: "empty payload (PS384): a JWT's payload is a JSON object",
	325: "empty payload (PS512): a JWT's payload is a JSON object",
	// Data quirk: the RFC 7520 figures are signed with PS384 and ES512,
	// but the vectors give the key "alg" PS256 and "ES521" (not a JWA
	// name). A JWK's alg restricts the key to that algorithm (RFC 7517
	// section 4.4), so PS256 keys verify no PS384 token, and "ES521"
	// does not fit a P-521 key, so the policy drops the key.
	346: "key alg PS256, token alg PS384 (RFC 7517 section 4.4)",
	350: "key alg PS256, token alg PS384 (RFC 7517 section 4.4)",
	347: `key alg "ES521" is not a JWA algorithm: key refused by policy`,
	351: `key alg "ES521" is not a JWA algorithm: key refused by policy`,
}

// wycheproofIdenticalToValid are invalid vectors that are byte-identical
// to a valid one (a data quirk). We reject them anyway, because they are
// HS256; the test checks the quirk is still there, so that the note stays
// true.
var wycheproofIdenticalToValid = map[int]int{367: 357, 370: 357}

// verifyCompactJWS runs token through what Validate does at the JWS layer:
// strict compact parsing, the header rules, an allow-list of every
// supported algorithm, key selection in set, and signature verification.
// The payload is not a claims set and is not parsed.
func verifyCompactJWS(set *KeySet, token string) error {
	t, err := parseJWS(token, DefaultMaxTokenSize)
	if err != nil {
		return err
	}
	if err := checkHeader(&t.Header); err != nil {
		return err
	}
	if _, ok := method(t.Header.Alg); !ok {
		return errAlgNotAllowed
	}
	if err := decodeBody(t); err != nil {
		return err
	}
	k, err := set.lookup(t.Header.Kid, t.Header.Alg)
	if err != nil {
		return err
	}
	return verify(t, k)
}

func TestWycheproofJWS(t *testing.T) {
	data, err := os.ReadFile(wycheproofFile(t, "json_web_signature_test.json"))
	require.NoError(t, err)
	var file wycheproofJWS
	require.NoError(t, json.Unmarshal(data, &file))

	tokens := map[int]string{}
	var (
		total, validAccepted, invalidRejected, overridden int
		classes                                           = map[string]int{}
		keysRefused                                       []string
	)
	for _, g := range file.TestGroups {
		key := g.Public
		if key == nil {
			key = g.Private // HMAC groups publish only the secret key
		}
		jwks := key
		var probe struct {
			Keys json.RawMessage `json:"keys"`
		}
		if json.Unmarshal(key, &probe) != nil || probe.Keys == nil {
			jwks = json.RawMessage(`{"keys":[` + string(key) + `]}`)
		}
		// The key policy applies: a refused key leaves set nil, which
		// holds no key.
		set, err := ParseJWKS(jwks)
		if err != nil {
			keysRefused = append(keysRefused, g.Comment+": "+err.Error())
		}
		for _, tc := range g.Tests {
			total++
			var token string
			if json.Unmarshal(tc.JWS, &token) != nil {
				token = string(tc.JWS) // JSON serialization: not compact
			}
			tokens[tc.TcID] = token
			err := verifyCompactJWS(set, token)
			name := g.Comment + "/" + tc.Comment
			switch {
			case tc.Result == "invalid":
				if assert.Errorf(t, err, "tcId %d (%s) invalid but accepted", tc.TcID, name) {
					invalidRejected++
				}
			case wycheproofValidRejected[tc.TcID] != "":
				if assert.Errorf(t, err, "tcId %d (%s) is accepted now: remove it from wycheproofValidRejected", tc.TcID, name) {
					overridden++
				}
			default:
				if assert.NoErrorf(t, err, "tcId %d (%s) valid but rejected", tc.TcID, name) {
					validAccepted++
				}
			}
			if err != nil {
				var e *Error
				if assert.Truef(t, errors.As(err, &e), "tcId %d: %T is not *Error", tc.TcID, err) {
					classes[e.Class.Error()]++
					if len(token) >= 8 {
						assert.NotContainsf(t, err.Error(), token, "tcId %d: the error quotes the token", tc.TcID)
					}
				}
			}
		}
	}
	require.Equal(t, file.NumberOfTests, total)

	for id, valid := range wycheproofIdenticalToValid {
		assert.Equalf(t, tokens[valid], tokens[id], "tcId %d is no longer identical to %d: update wycheproofIdenticalToValid", id, valid)
	}
	for id := range wycheproofValidRejected {
		_, ok := tokens[id]
		assert.Truef(t, ok, "override for tcId %d, which the file no longer has", id)
	}

	var summary []string
	for c, n := range classes {
		summary = append(summary, c+": "+strconv.Itoa(n))
	}
	sort.Strings(summary)
	t.Logf("%d vectors: %d valid accepted, %d invalid rejected, %d valid rejected by documented override", total, validAccepted, invalidRejected, overridden)
	t.Logf("rejections by class: %s", strings.Join(summary, ", "))
	t.Logf("key sets refused by policy: %d (%s)", len(keysRefused), strings.Join(keysRefused, "; "))
	assert.Equal(t, len(wycheproofValidRejected), overridden)
}
