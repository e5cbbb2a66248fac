package dpop

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

var errNotHTTPURL = errors.New("not an absolute http or https URL")

// NormalizeURL returns the form of an http or https URL that htu is
// compared in (RFC 9449 section 4.3 and RFC 3986 section 6.2.2): query and
// fragment dropped, scheme and host in lower case, the default port (80,
// 443) dropped, percent-encodings of unreserved characters decoded and the
// others in upper case, characters that must be encoded encoded, dot
// segments removed, and an empty path made "/". It fails for anything
// but an absolute http or https URL with a host and no user information.
func NormalizeURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", errNotHTTPURL
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", errNotHTTPURL
	}
	host, ok := normalizeHost(scheme, u.Host)
	if !ok {
		return "", errNotHTTPURL
	}
	path, ok := normalizePath(u.EscapedPath())
	if !ok {
		return "", errNotHTTPURL
	}
	return scheme + "://" + host + path, nil
}

// normalizeHost lowercases host and drops an empty or default port. It
// refuses characters that have no place in a host.
func normalizeHost(scheme, host string) (string, bool) {
	if host == "" {
		return "", false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(isUnreserved(c) || c == ':' || c == '[' || c == ']' || c == '%' || isSubDelim(c)) {
			return "", false
		}
	}
	h := host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		port := host[i+1:]
		for j := 0; j < len(port); j++ {
			if port[j] < '0' || port[j] > '9' {
				return "", false
			}
		}
		if port == "" || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
			h = host[:i]
		}
	}
	if h == "" {
		return "", false
	}
	return lower(h), true
}

// lower is strings.ToLower for ASCII, without allocating when s is
// already lower case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool {
	return strings.IndexByte("!$&'()*+,;=", c) >= 0
}

// isPathChar reports whether c may appear unencoded in a path (RFC 3986
// section 3.3: pchar and "/").
func isPathChar(c byte) bool {
	return isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@' || c == '/'
}

const upperHex = "0123456789ABCDEF"

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// normalizePath applies RFC 3986 section 6.2.2 to an escaped path. It
// returns p itself, without allocating, when p is already normal.
func normalizePath(p string) (string, bool) {
	if p == "" {
		return "/", true
	}
	if p[0] != '/' {
		return "", false
	}
	if isNormalPath(p) {
		return p, true
	}
	b := make([]byte, 0, len(p)+8)
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 >= len(p) {
				return "", false
			}
			hi, ok1 := unhex(p[i+1])
			lo, ok2 := unhex(p[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			if d := hi<<4 | lo; isUnreserved(d) {
				b = append(b, d)
			} else {
				b = append(b, '%', upperHex[hi], upperHex[lo])
			}
			i += 2
		case isPathChar(c):
			b = append(b, c)
		default:
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return removeDotSegments(string(b)), true
}

// isNormalPath reports whether p needs none of normalizePath's changes:
// only path characters and upper-case encodings of reserved octets, and
// no dot segment.
func isNormalPath(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 >= len(p) {
				return false
			}
			hi, lo := p[i+1], p[i+2]
			if !('0' <= hi && hi <= '9' || 'A' <= hi && hi <= 'F') || !('0' <= lo && lo <= '9' || 'A' <= lo && lo <= 'F') {
				return false
			}
			d, _ := unhex(hi)
			e, _ := unhex(lo)
			if isUnreserved(d<<4 | e) {
				return false
			}
			i += 2
		case c == '.':
			// A dot segment is "." or ".." between slashes or at the end.
			start := i == 0 || p[i-1] == '/'
			j := i + 1
			if j < len(p) && p[j] == '.' {
				j++
			}
			if start && (j == len(p) || p[j] == '/') {
				return false
			}
		case !isPathChar(c):
			return false
		}
	}
	return true
}

// removeDotSegments is RFC 3986 section 5.2.4 for an absolute path.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	var out []string
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// urlSource determines the URL a request was sent to.
type urlSource struct {
	// base, when set, gives scheme, host and a path prefix.
	baseScheme, baseHost, basePath string
	trusted                        []netip.Prefix
}

// requestURL returns the normalized URL r was sent to, without query.
func (s *urlSource) requestURL(r *http.Request) (string, error) {
	u, err := s.requestURLParts(r)
	return u.String(), err
}

// urlParts is a normalized URL as the concatenation of its parts, so that
// a request's URL is compared and hashed without building it.
type urlParts struct{ prefix, host, path string }

func (u urlParts) String() string { return u.prefix + u.host + u.path }

// equal reports whether s is u.
func (u urlParts) equal(s string) bool {
	p, h := len(u.prefix), len(u.prefix)+len(u.host)
	return len(s) == h+len(u.path) && s[:p] == u.prefix && s[p:h] == u.host && s[h:] == u.path
}

// equalBytes is equal for the bytes of a proof's htu, without copying
// them into a string.
func (u urlParts) equalBytes(b []byte) bool {
	p, h := len(u.prefix), len(u.prefix)+len(u.host)
	return len(b) == h+len(u.path) && string(b[:p]) == u.prefix && string(b[p:h]) == u.host && string(b[h:]) == u.path
}

// requestURLParts is requestURL without the concatenation.
func (s *urlSource) requestURLParts(r *http.Request) (urlParts, error) {
	path, ok := requestPath(r)
	if !ok {
		return urlParts{}, errRequestURL
	}
	var scheme, host string
	switch {
	case s.baseScheme != "":
		scheme, host = s.baseScheme, s.baseHost
		if s.basePath != "" {
			path = s.basePath + path
		}
	default:
		scheme, host = "http", r.Host
		if r.TLS != nil {
			scheme = "https"
		}
		if s.fromTrustedProxy(r) {
			var err error
			if scheme, host, err = forwarded(r, scheme, host, s.trusted); err != nil {
				return urlParts{}, errRequestURL
			}
		}
	}
	host, ok = normalizeHost(scheme, host)
	if !ok {
		return urlParts{}, errRequestURL
	}
	if path, ok = normalizePath(path); !ok {
		return urlParts{}, errRequestURL
	}
	var prefix string
	switch scheme {
	case "http":
		prefix = "http://"
	case "https":
		prefix = "https://"
	default:
		prefix = scheme + "://"
	}
	return urlParts{prefix: prefix, host: host, path: path}, nil
}

// requestPath returns the escaped path the client sent: the path of
// r.RequestURI (which routers that strip prefixes leave alone), or of
// r.URL when RequestURI is empty (a request built in code).
func requestPath(r *http.Request) (string, bool) {
	uri := r.RequestURI
	if uri == "" {
		if r.URL == nil {
			return "", false
		}
		return r.URL.EscapedPath(), true
	}
	if uri[0] != '/' {
		// Absolute form (RFC 9112 section 3.2.2) or "*".
		u, err := url.ParseRequestURI(uri)
		if err != nil || u.Host == "" {
			return "", false
		}
		return u.EscapedPath(), true
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return uri, true
}

func (s *urlSource) fromTrustedProxy(r *http.Request) bool {
	if len(s.trusted) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	return isTrusted(ap.Addr(), s.trusted)
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwarded returns the scheme and host a trusted proxy reports: from
// Forwarded (RFC 7239) when present, else from X-Forwarded-Proto and
// X-Forwarded-Host; what a header does not say stays as given.
//
// Forwarded is read from the right: the last element was added by the
// peer, which is trusted; an element's "for" names who sent the request
// to the proxy that added it, so while that is a trusted proxy too the
// element before it is trusted as well. The leftmost trusted element is
// the one the edge proxy added, and says what the client used.
//
// X-Forwarded-* have no such chain: the rightmost value, which the peer
// set, is used. Behind several proxies use Forwarded or a public base URL.
func forwarded(r *http.Request, scheme, host string, trusted []netip.Prefix) (string, string, error) {
	if fw := r.Header.Values("Forwarded"); len(fw) > 0 {
		elems, err := parseForwarded(strings.Join(fw, ","))
		if err != nil {
			return "", "", err
		}
		i := len(elems) - 1
		for i > 0 {
			a, ok := forwardedAddr(elems[i]["for"])
			if !ok || !isTrusted(a, trusted) {
				break
			}
			i--
		}
		e := elems[i]
		if p, ok := e["proto"]; ok {
			scheme = strings.ToLower(p)
		}
		if h, ok := e["host"]; ok {
			host = h
		}
	} else {
		if p := lastValue(r.Header.Values("X-Forwarded-Proto")); p != "" {
			scheme = strings.ToLower(p)
		}
		if h := lastValue(r.Header.Values("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	if scheme != "http" && scheme != "https" {
		return "", "", errNotHTTPURL
	}
	return scheme, host, nil
}

// lastValue returns the last comma-separated value of a header's lines.
func lastValue(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	l := lines[len(lines)-1]
	if i := strings.LastIndexByte(l, ','); i >= 0 {
		l = l[i+1:]
	}
	return strings.TrimSpace(l)
}

// forwardedAddr parses a Forwarded "for" node: an IPv4 address or a
// bracketed IPv6 address, either with an optional port.
func forwardedAddr(node string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(node); err == nil {
		return ap.Addr().Unmap(), true
	}
	node = strings.TrimSuffix(strings.TrimPrefix(node, "["), "]")
	a, err := netip.ParseAddr(node)
	return a.Unmap(), err == nil
}

// parseForwarded parses a Forwarded field value (RFC 7239 section 4):
// comma-separated elements of semicolon-separated name=value pairs, the
// values tokens or quoted strings. Names are case-insensitive; a name
// repeated within an element is an error.
func parseForwarded(v string) ([]map[string]string, error) {
	bad := errors.New("malformed Forwarded header")
	elems := []map[string]string{{}}
	i := 0
	for {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
		if i == len(v) {
			break
		}
		eq := strings.IndexByte(v[i:], '=')
		if eq <= 0 {
			return nil, bad
		}
		name := strings.ToLower(strings.TrimSpace(v[i : i+eq]))
		i += eq + 1
		var val string
		if i < len(v) && v[i] == '"' {
			var b strings.Builder
			i++
			for ; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
				}
				b.WriteByte(v[i])
			}
			if i == len(v) {
				return nil, bad
			}
			i++ // closing quote
			val = b.String()
		} else {
			j := i
			for j < len(v) && v[j] != ';' && v[j] != ',' && v[j] != ' ' && v[j] != '\t' {
				j++
			}
			val = v[i:j]
			i = j
		}
		e := elems[len(elems)-1]
		if _, dup := e[name]; dup {
			return nil, bad
		}
		e[name] = val
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
		if i == len(v) {
			break
		}
		switch v[i] {
		case ';':
		case ',':
			elems = append(elems, map[string]string{})
		default:
			return nil, bad
		}
		i++
	}
	for _, e := range elems {
		if len(e) == 0 {
			return nil, bad
		}
	}
	return elems, nil
}
