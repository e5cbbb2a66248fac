package claims

import "testing"

// benchPayload is an Auth0-shaped access-token payload of about 460 bytes.
var benchPayload = []byte(`{"iss":"https://tenant.us.auth0.com/","sub":"auth0|6543210fedcba9876543210f","aud":["https://contacts.example.com","https://tenant.us.auth0.com/userinfo"],"iat":1764097845,"exp":1764184245,"scope":"openid profile email read:contacts write:contacts offline_access","azp":"nH3Vx1aAbCdEfGhIjKlMnOpQrStUvWx","permissions":["read:contacts","write:contacts","delete:contacts"],"org_id":"org_a1b2c3d4e5f6g7h8","https://example.com/roles":["admin","editor"],"https://example.com/email":"jane.doe@example.com","https://example.com/tenantId":"t-42"}`)

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}
