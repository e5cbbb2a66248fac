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

// BenchmarkPeekString peeks at iss in an Auth0-shaped payload whose
// members are sorted by name, as encoding/json writes a map: iss comes
// after half of them.
func BenchmarkPeekString(b *testing.B) {
	p := []byte(`{"aud":["https://contacts.example.com","https://tenant.us.auth0.com/userinfo"],"azp":"nH3Vx1aAbCdEfGhIjKlMnOpQrStUvWx","exp":1764184245,"https://example.com/email":"jane.doe@example.com","https://example.com/roles":["admin","editor"],"https://example.com/tenantId":"t-42","iat":1764097845,"iss":"https://tenant.us.auth0.com/","org_id":"org_a1b2c3d4e5f6g7h8","permissions":["read:contacts","write:contacts","delete:contacts"],"scope":"openid profile email read:contacts write:contacts offline_access","sub":"auth0|6543210fedcba9876543210f"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := PeekString(p, "iss"); !ok {
			b.Fatal("no iss")
		}
	}
}
