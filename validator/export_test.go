package validator

// CachedTokens exposes the size of the verified-token cache to the
// external tests.
func (v *Validator) CachedTokens() int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}
