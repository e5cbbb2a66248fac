package validator

import "strings"

// CachedTokens exposes the size of the verified-token cache to the
// external tests.
func (v *Validator) CachedTokens() int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}

// decodeBody decodes payload and signature in one step, for the tests of
// the JWS layer.
func decodeBody(t *jws) error {
	if err := t.DecodePayload(); err != nil {
		return err
	}
	return t.DecodeSignature()
}

// KnownHeaders exposes the size of the table of verified headers to the
// external tests.
func (v *Validator) KnownHeaders() int {
	if m := v.headers.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// KnowsHeaderOf reports whether the table of verified headers holds the
// header segment of token.
func (v *Validator) KnowsHeaderOf(token string) bool {
	seg, _, _ := strings.Cut(token, ".")
	_, ok := v.headers.get(seg)
	return ok
}
