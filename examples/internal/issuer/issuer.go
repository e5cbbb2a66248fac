// Package issuer holds the examples' one rule for the -issuer flag: take it
// exactly as given (an issuer is compared byte for byte with a token's iss),
// and warn, without refusing, when it looks like an Auth0 tenant that lost
// its trailing slash.
package issuer

import (
	"fmt"
	"net/url"
	"strings"
)

// FromDomain returns the issuer of the Auth0 domain d ("tenant.us.auth0.com",
// also accepted with "https://" and a trailing slash): "https://d/", the
// form Auth0 writes in iss.
func FromDomain(d string) (string, error) {
	d = strings.TrimSuffix(strings.TrimPrefix(d, "https://"), "/")
	if strings.Contains(d, "://") || strings.Contains(d, "/") {
		return "", fmt.Errorf("AUTH0_DOMAIN %q: want a domain such as tenant.us.auth0.com (or https://tenant.us.auth0.com)", d)
	}
	if d == "" {
		return "", nil
	}
	return "https://" + d + "/", nil
}

// Warning returns a warning for an issuer that is probably mistyped, or "".
// Auth0 always writes iss with a trailing slash, so an Auth0 issuer without
// one would refuse every token; other providers commonly omit the slash, so
// only Auth0 hosts are warned about.
func Warning(iss string) string {
	u, err := url.Parse(iss)
	if err != nil || strings.HasSuffix(iss, "/") {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if host == "auth0.com" || strings.HasSuffix(host, ".auth0.com") {
		return fmt.Sprintf("issuer %q has no trailing slash, but Auth0 writes iss as %q: tokens will be refused as from another issuer unless -issuer matches iss exactly", iss, iss+"/")
	}
	return ""
}
