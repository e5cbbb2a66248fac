package validator

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func encSeg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestDecodeHeader(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   header
		err    error
	}{
		{"minimal", `{"alg":"RS256"}`, header{Alg: "RS256"}, nil},
		{"all strings", `{"alg":"ES256","typ":"at+jwt","kid":"k1","cty":"json"}`, header{Alg: "ES256", Typ: "at+jwt", Kid: "k1", Cty: "json"}, nil},
		{"escaped values", `{"alg":"RS\u0032\u0035\u0036","kid":"a\/b\"c"}`, header{Alg: "RS256", Kid: `a/b"c`}, nil},
		{"whitespace", " \t\r\n{ \"alg\" : \"RS256\" } \n", header{Alg: "RS256"}, nil},
		{"unknown members ignored", `{"alg":"RS256","x5t":"abc","zip":"DEF","nested":{"crit":["x"],"jku":"u"},"list":[{"jwk":{}}]}`, header{Alg: "RS256"}, nil},
		{"refused members flagged, whatever their value", `{"alg":"RS256","crit":null,"b64":false,"jku":0,"x5u":[],"jwk":{},"x5c":""}`, header{Alg: "RS256", Crit: true, B64: true, Jku: true, X5u: true, JWK: jsontext.Value("{}"), X5c: true}, nil},
		{"alg missing is left to check", `{"typ":"JWT"}`, header{Typ: "JWT"}, nil},

		{"alg null", `{"alg":null}`, header{}, errNoAlg},
		{"alg number", `{"alg":1}`, header{}, errNoAlg},
		{"kid number", `{"alg":"RS256","kid":1}`, header{}, errHeaderJSON},
		{"kid null", `{"alg":"RS256","kid":null}`, header{}, errHeaderJSON},
		{"typ array", `{"alg":"RS256","typ":["JWT"]}`, header{}, errHeaderJSON},
		{"cty object", `{"alg":"RS256","cty":{}}`, header{}, errHeaderJSON},
		{"case variant of alg", `{"alg":"RS256","ALG":"none"}`, header{}, errHeaderJSON},
		{"case variant of crit", `{"alg":"RS256","Crit":[]}`, header{}, errHeaderJSON},
		{"escaped name of kid", `{"alg":"RS256","\u006bid":"k"}`, header{}, errHeaderJSON},
		{"duplicate", `{"alg":"RS256","alg":"RS256"}`, header{}, errHeaderJSON},
		{"duplicate unknown", `{"alg":"RS256","x":1,"x":1}`, header{}, errHeaderJSON},
		{"null", `null`, header{}, errHeaderJSON},
		{"array", `[]`, header{}, errHeaderJSON},
		{"empty", ``, header{}, errHeaderJSON},
		{"trailing value", `{"alg":"RS256"}{}`, header{}, errHeaderJSON},
		{"trailing comma", `{"alg":"RS256",}`, header{}, errHeaderJSON},
		{"invalid UTF-8", "{\"alg\":\"RS256\",\"x\":\"\xff\"}", header{}, errHeaderJSON},
		{"lone surrogate", `{"alg":"RS256","x":"\ud800"}`, header{}, errHeaderJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h header
			err := decodeHeader([]byte(tt.header), &h)
			if tt.err != nil {
				assert.Same(t, tt.err, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, h)
		})
	}
}

func TestPeekIssuer(t *testing.T) {
	tests := []struct {
		name, payload string
		iss           string
		ok            bool
	}{
		{"first member", `{"iss":"https://a/","sub":"s"}`, "https://a/", true},
		{"later member", `{"sub":"s","aud":["x",{"iss":"nested"}],"iss":"https://a/"}`, "https://a/", true},
		{"escaped", `{"iss":"https:\/\/a\/"}`, "https://a/", true},
		{"the first of duplicates (Parse refuses them later)", `{"iss":"https://a/","iss":"https://b/"}`, "https://a/", true},
		{"nested iss is not the issuer", `{"x":{"iss":"https://evil/"}}`, "", false},
		{"nested iss in an array", `{"x":[{"iss":"https://evil/"}]}`, "", false},
		{"escaped name is not iss here", `{"\u0069ss":"https://a/"}`, "", false},
		{"case variant", `{"ISS":"https://a/"}`, "", false},
		{"not a string", `{"iss":["https://a/"]}`, "", false},
		{"null", `{"iss":null}`, "", false},
		{"absent", `{"sub":"s"}`, "", false},
		{"not an object", `["iss","https://a/"]`, "", false},
		{"malformed before iss", `{"sub":}`, "", false},
		{"invalid UTF-8 in iss", "{\"iss\":\"\xff\"}", "", false},
		{"empty", ``, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, ok := peekIssuer([]byte(tt.payload))
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.iss, string(iss))
		})
	}
}

func TestParseJWSDefersTheBody(t *testing.T) {
	// parseJWS decodes only the header: a token refused for its header
	// never has its payload or signature decoded.
	tok := encSeg(`{"alg":"RS256"}`) + ".$$$." + "###"
	j, err := parseJWS(tok, DefaultMaxTokenSize)
	require.NoError(t, err)
	assert.Equal(t, "RS256", j.Header.Alg)
	assert.Same(t, errEncoding, decodeBody(j))

	tok = encSeg(`{"alg":"RS256"}`) + "." + encSeg(`{"a":1}`) + "." + encSeg("sig")
	j, err = parseJWS(tok, DefaultMaxTokenSize)
	require.NoError(t, err)
	require.NoError(t, decodeBody(j))
	assert.Equal(t, `{"a":1}`, string(j.Payload))
	assert.Equal(t, "sig", string(j.Signature))
	assert.Equal(t, tok[:strings.LastIndexByte(tok, '.')], j.SigningInput)
}

func TestParseJWSSizeCapComesFirst(t *testing.T) {
	for _, tok := range []string{strings.Repeat(".", 101), strings.Repeat("\r", 101), strings.Repeat("A", 101)} {
		_, err := parseJWS(tok, 100)
		assert.Same(t, errTooLarge, err)
		_, err = parseJWS(tok[:100], 100)
		assert.NotSame(t, errTooLarge, err)
	}
}

// FuzzParseJWS checks the compact parser's buffer arithmetic: whatever it
// accepts decodes to exactly what a strict decoder reads from each
// segment, and the signing input is the first two segments.
func FuzzParseJWS(f *testing.F) {
	for _, s := range []string{
		encSeg(`{"alg":"RS256"}`) + "." + encSeg(`{}`) + "." + encSeg("s"),
		encSeg(`{"alg":"RS256"}`) + ".e30.",
		encSeg(`{"alg":"RS256","kid":"`+strings.Repeat("k", 300)+`"}`) + "." + encSeg(strings.Repeat("p", 100)) + "." + strings.Repeat("A", 342),
		"a.b.c", "..", "e30.e30.e30",
	} {
		f.Add(s)
	}
	strict := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, tok string) {
		j, err := parseJWS(tok, DefaultMaxTokenSize)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("%T", err)
			}
			return
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || strings.ContainsAny(tok, "\r\n") {
			t.Fatalf("accepted %q", tok)
		}
		if _, err := strict.DecodeString(parts[0]); err != nil {
			t.Fatalf("accepted a header that is not strict base64url")
		}
		_ = checkHeader(&j.Header)
		err = decodeBody(j)
		p, perr := strict.DecodeString(parts[1])
		s, serr := strict.DecodeString(parts[2])
		if (err == nil) != (perr == nil && serr == nil) {
			t.Fatalf("decodeBody %v, strict decoder %v %v", err, perr, serr)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(j.Payload, p) || !bytes.Equal(j.Signature, s) {
			t.Fatal("decoded segments differ from a strict decoder's")
		}
		if j.SigningInput != parts[0]+"."+parts[1] {
			t.Fatal("wrong signing input")
		}
		if cap(j.Payload) != len(j.Payload) || cap(j.Signature) != len(j.Signature) {
			t.Fatal("segments may grow into each other")
		}
	})
}
