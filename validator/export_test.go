package validator

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
func (t *jws) decodeBody() error {
	if err := t.decodePayload(); err != nil {
		return err
	}
	return t.decodeSignature()
}
