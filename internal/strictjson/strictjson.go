// Package strictjson holds the pieces of strict, allocation-light JSON
// decoding that the claims and validator packages share: pooled jsontext
// decoders that parse in place, string unquoting, and the letter-case
// variant check for member names.
//
// jsontext's defaults are the strict ones these packages rely on: duplicate
// member names and invalid UTF-8 (lone surrogates included) are errors.
package strictjson

import (
	"bytes"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// Decoder is a jsontext.Decoder reading from a string. The raw values it
// returns alias its own buffer, valid until the next read; callers take
// what they keep from the string they gave, by InputOffset, so that a
// decoded claims set keeps substrings of one copy of its input and never
// aliases the caller's bytes. (Over a bytes.Buffer jsontext would parse in
// place, but the input would then escape to the heap wherever it lives.)
type Decoder struct {
	jsontext.Decoder
	r strings.Reader
	b bytes.Buffer
}

var pool = sync.Pool{New: func() any { return new(Decoder) }}

// NewDecoder returns a pooled decoder over src. Call Release when done.
func NewDecoder(src string) *Decoder {
	d := pool.Get().(*Decoder)
	d.r.Reset(src)
	d.Reset(&d.r)
	return d
}

// NewBytesDecoder returns a pooled decoder over data that parses in
// place: the raw values it returns alias data and stay valid after later
// reads, for callers that keep slices of them (DPoP proofs, JWKs). Call
// Release when done.
func NewBytesDecoder(data []byte) *Decoder {
	d := pool.Get().(*Decoder)
	d.b = *bytes.NewBuffer(data)
	d.Reset(&d.b)
	return d
}

// Release returns d to the pool, without keeping a reference to its input.
func (d *Decoder) Release() {
	d.r.Reset("")
	d.b = bytes.Buffer{}
	d.Reset(&d.r)
	pool.Put(d)
}

// Plain returns the bytes inside a JSON string the decoder validated, or
// nil when it has escapes (and so needs Unquote).
func Plain(v jsontext.Value) []byte {
	s := v[1 : len(v)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil
	}
	return s
}

// Unquote returns the value of a JSON string the decoder validated,
// copying it once when it has no escapes.
func Unquote(v jsontext.Value) (string, error) {
	if s := Plain(v); s != nil {
		return string(s), nil
	}
	u, err := jsontext.AppendUnquote(nil, v)
	return string(u), err
}

// FoldsToAny reports whether name equals one of names when letter case is
// ignored. Other JSON parsers (encoding/json among them) match member
// names that way, so such a name must not be taken for another member.
func FoldsToAny(name string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}
