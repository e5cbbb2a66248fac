// Package loopback opens TCP listeners that are reachable from this machine
// only. The example servers are development tools and must never be exposed
// on a network interface.
package loopback

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Listen listens on addr ("host:port") after checking that host is a loopback
// address. "localhost" is bound to 127.0.0.1 so that it cannot resolve to
// anything else; an empty host (all interfaces) is refused. Port 0 picks a
// free port.
func Listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("loopback: %w", err)
	}
	ip, err := hostIP(host)
	if err != nil {
		return nil, err
	}
	return net.Listen("tcp", net.JoinHostPort(ip.String(), port))
}

// hostIP returns the loopback IP for host or an error when host is not a
// loopback address.
func hostIP(host string) (net.IP, error) {
	if strings.EqualFold(host, "localhost") {
		return net.IPv4(127, 0, 0, 1), nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("loopback: refusing to listen on %q: only loopback addresses (127.0.0.1, [::1], localhost) are allowed", host)
	}
	return ip, nil
}

// IsLoopbackURL reports whether u is an http or https URL whose host is a
// loopback address or "localhost".
func IsLoopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") {
		return false
	}
	_, err = hostIP(p.Hostname())
	return err == nil
}

// BaseURL returns "http://" plus the listener's address, without a trailing
// slash.
func BaseURL(l net.Listener) string {
	return "http://" + l.Addr().String()
}
