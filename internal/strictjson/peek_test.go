package strictjson

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// PeekString finds the named top-level member only: not a nested one, not
// one inside a string, not a longer or shorter name.
func TestPeekString(t *testing.T) {
	for _, tt := range []struct {
		p, name, want string
		ok            bool
	}{
		{`{"client_id":"c1","iss":"i"}`, "client_id", "c1", true},
		{`{"n":{"client_id":"nested"},"client_id2":"x","client_i":"y"}`, "client_id", "", false},
		{`{"s":"\"sub\":\"fake\"","sub":"real"}`, "sub", "real", true},
		{`{"sub":1}`, "sub", "", false},
	} {
		got, ok := PeekString([]byte(tt.p), tt.name)
		assert.Equal(t, tt.ok, ok, tt.p)
		assert.Equal(t, tt.want, string(got), tt.p)
	}
}
