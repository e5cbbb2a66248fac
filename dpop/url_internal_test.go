package dpop

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A URL in parts equals exactly the strings its concatenation equals,
// however the string would split.
func TestURLPartsEqual(t *testing.T) {
	u := urlParts{prefix: "https://", host: "api.example.com", path: "/r"}
	for _, s := range []string{
		"https://api.example.com/r", "https://api.example.com/r/", "https://api.example.com/R", "http://api.example.com/r",
		"https://api.example.co/mr", "https://api.example.com", "https://api.example.com/rx", "", "https://",
		"https//:api.example.com/r", "hTtps://api.example.com/r",
	} {
		want := s == u.String()
		assert.Equal(t, want, u.equal(s), "%q", s)
		assert.Equal(t, want, u.equalBytes([]byte(s)), "%q", s)
	}
	whole := urlParts{prefix: "https://api.example.com/r"} // as Check builds it
	assert.True(t, whole.equal("https://api.example.com/r"))
	assert.True(t, whole.equalBytes([]byte("https://api.example.com/r")))
	assert.False(t, whole.equal("https://api.example.com/"))
}
