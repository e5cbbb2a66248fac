package dpop_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
)

// TestRequestURL: by default scheme and host come from the request
// itself; forwarding headers only from trusted proxies; a public base URL
// overrides both.
func TestRequestURL(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	type req struct {
		target, remote string
		tls            bool
		headers        map[string][]string
	}
	for _, tc := range []struct {
		name string
		cfg  dpop.Config
		req  req
		want string // "" means refused
	}{
		{"plain request", dpop.Config{}, req{target: "http://API.example.com/a?q=1"}, "http://api.example.com/a"},
		{"TLS request", dpop.Config{}, req{target: "https://api.example.com:443/a", tls: true}, "https://api.example.com/a"},
		{"forwarding headers ignored by default", dpop.Config{},
			req{target: "http://internal:8080/a", remote: "10.1.1.1:1234", headers: map[string][]string{
				"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.example"}, "Forwarded": {"proto=https;host=evil.example"}}},
			"http://internal:8080/a"},
		{"X-Forwarded-* from an untrusted peer ignored", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal:8080/a", remote: "192.0.2.1:1234", headers: map[string][]string{
				"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.example"}}},
			"http://internal:8080/a"},
		{"X-Forwarded-* from a trusted proxy", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal:8080/a", remote: "10.1.1.1:1234", headers: map[string][]string{
				"X-Forwarded-Proto": {"HTTPS"}, "X-Forwarded-Host": {"API.example.com"}}},
			"https://api.example.com/a"},
		{"X-Forwarded-* rightmost value (the peer's)", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal:8080/a", remote: "10.1.1.1:1234", headers: map[string][]string{
				"X-Forwarded-Proto": {"http, https"}, "X-Forwarded-Host": {"evil.example", "api.example.com"}}},
			"https://api.example.com/a"},
		{"X-Forwarded-Proto only", dpop.Config{TrustedProxies: proxies},
			req{target: "http://api.example.com/a", remote: "10.1.1.1:1234", headers: map[string][]string{"X-Forwarded-Proto": {"https"}}},
			"https://api.example.com/a"},
		{"trusted IPv6 proxy", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal/a", remote: "[fd00::1]:1234", headers: map[string][]string{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example.com"}}},
			"https://api.example.com/a"},
		{"X-Forwarded-Proto not http(s)", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal/a", remote: "10.1.1.1:1234", headers: map[string][]string{"X-Forwarded-Proto": {"ftp"}}},
			""},
		{"X-Forwarded-Host with a path", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal/a", remote: "10.1.1.1:1234", headers: map[string][]string{"X-Forwarded-Host": {"api.example.com/evil"}}},
			""},
		{"Forwarded from a trusted proxy", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal/a", remote: "10.1.1.1:1234", headers: map[string][]string{
				"Forwarded": {`for=192.0.2.60;proto=https;host="api.example.com:443"`}, "X-Forwarded-Host": {"ignored.example"}}},
			"https://api.example.com/a"},
		{"Forwarded: an element the client forged is skipped", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal/a", remote: "10.1.1.1:1234", headers: map[string][]string{
				"Forwarded": {"for=1.2.3.4;proto=http;host=evil.example", "for=192.0.2.60;proto=https;host=api.example.com"}}},
			"https://api.example.com/a"},
		{"Forwarded: a chain of trusted proxies", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal/a", remote: "10.1.1.1:1234", headers: map[string][]string{
				"Forwarded": {`for=1.2.3.4;host=evil.example, for=192.0.2.60;proto=https;host=api.example.com, for="[fd00::2]:9";proto=http;host=internal`}}},
			"https://api.example.com/a"},
		{"Forwarded: quoted values with separators", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal/a", remote: "10.1.1.1:1234", headers: map[string][]string{
				"Forwarded": {`for="_hidden;x,y";proto="https";host="api.example.com"`}}},
			"https://api.example.com/a"},
		{"Forwarded malformed", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal/a", remote: "10.1.1.1:1234", headers: map[string][]string{"Forwarded": {`for="unterminated`}}},
			""},
		{"Forwarded with a repeated parameter", dpop.Config{TrustedProxies: proxies},
			req{target: "http://internal/a", remote: "10.1.1.1:1234", headers: map[string][]string{"Forwarded": {`host=a;host=b`}}},
			""},
		{"public base URL", dpop.Config{PublicBaseURL: "https://API.example.com"},
			req{target: "http://internal:8080/a%7e?x", remote: "10.1.1.1:1234", headers: map[string][]string{"X-Forwarded-Host": {"evil.example"}}},
			"https://api.example.com/a~"},
		{"public base URL with a path prefix", dpop.Config{PublicBaseURL: "https://gw.example.com:8443/contacts/"},
			req{target: "http://internal/api/private"},
			"https://gw.example.com:8443/contacts/api/private"},
		{"host missing", dpop.Config{}, req{target: "/a"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := dpop.NewVerifier(tc.cfg)
			require.NoError(t, err)
			r := httptest.NewRequest("GET", tc.req.target, nil)
			if tc.req.target[0] == '/' {
				r.Host = ""
			}
			if tc.req.remote != "" {
				r.RemoteAddr = tc.req.remote
			}
			if !tc.req.tls {
				r.TLS = nil
			}
			for k, vs := range tc.req.headers {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			got, err := v.RequestURL(r)
			if tc.want == "" {
				assert.Error(t, err)
				_, err := v.Verify(context.Background(), r, token, "jkt")
				var e *dpop.Error
				require.True(t, errors.As(err, &e))
				assert.Equal(t, "request URL cannot be determined", e.Reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestRequestPathAsSent: the path is the one the client sent, even when a
// router stripped a prefix from r.URL before the check.
func TestRequestPathAsSent(t *testing.T) {
	f := newFixture(t, dpop.Config{})
	var got error
	h := http.StripPrefix("/v1", http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, got = f.verify(r)
	}))
	r := request("GET", "http://api.example.com/v1/api/private",
		f.key.Proof("GET", "http://api.example.com/v1/api/private", dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token)))
	h.ServeHTTP(httptest.NewRecorder(), r)
	require.NoError(t, got)
}

// TestVerifyOverHTTPS runs the check in a real HTTPS server: r.TLS makes
// the scheme https, and a proof naming http is refused.
func TestVerifyOverHTTPS(t *testing.T) {
	f := newFixture(t, dpop.Config{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := f.verify(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	client := srv.Client()

	call := func(htu string) (int, string) {
		r, err := http.NewRequest("GET", srv.URL+"/api/private?page=2", nil)
		require.NoError(t, err)
		r.Header.Set("Authorization", "DPoP "+token)
		r.Header.Set("DPoP", f.key.Proof("GET", htu, dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token)))
		resp, err := client.Do(r)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	status, body := call(srv.URL + "/api/private")
	assert.Equal(t, http.StatusOK, status, body)
	status, body = call("http" + srv.URL[len("https"):] + "/api/private")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "proof htu does not match the request URL")
}
