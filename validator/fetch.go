package validator

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// newFetchClient returns the client that fetches discovery documents and
// key sets. Without a client of the caller's, it is a dedicated one: a
// connect and TLS handshake timeout, TLS 1.2 or later, the proxy of the
// environment, and no keep-alive (a refresh every few minutes gains
// nothing from an idle connection, and none outlives Close). A client of
// the caller's is copied, keeping its transport, so that the redirect
// policy and the timeout below apply without changing it.
func newFetchClient(given *http.Client, timeout time.Duration) *http.Client {
	var c http.Client
	if given != nil {
		c = *given
	} else {
		dialer := &net.Dialer{Timeout: min(connectTimeout, timeout)}
		c.Transport = &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            dialer.DialContext,
			TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:    min(connectTimeout, timeout),
			ResponseHeaderTimeout:  timeout,
			DisableKeepAlives:      true,
			MaxResponseHeaderBytes: 64 << 10,
		}
	}
	if c.Timeout == 0 || c.Timeout > timeout {
		c.Timeout = timeout
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkRedirect(req, via); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

// checkRedirect allows a few redirects within the host of the first
// request, never to plain http (except on loopback).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("validator: more than %d redirects", maxRedirects)
	}
	if from := via[0].URL; !strings.EqualFold(req.URL.Host, from.Host) {
		return fmt.Errorf("validator: redirect from %s to another host (%s) refused", from.Host, req.URL.Host)
	}
	if err := checkFetchURL(req.URL.String()); err != nil {
		return fmt.Errorf("validator: redirect refused: %w", err)
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errors.New("validator: redirect from https to http refused")
	}
	return nil
}

// checkFetchURL refuses plain HTTP except on loopback, where tests and
// development servers live.
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a valid URL; want an absolute https URL such as \"https://tenant.us.auth0.com/\"", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q carries credentials; want an https URL without them", u.Redacted())
	}
	if u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL; want scheme and host, such as \"https://%s/\"", raw, strings.TrimSuffix(strings.TrimPrefix(raw, "//"), "/"))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") {
			return nil
		}
	}
	return fmt.Errorf("%q must use https (plain http only on loopback)", u.Redacted())
}

// fetchResult is what one GET returned, for the refresh log.
type fetchResult struct {
	url    string
	status int
	header http.Header
	body   []byte
}

// get fetches u with the body cap. A non-2xx status is an error.
func get(ctx context.Context, client *http.Client, u string) (*fetchResult, error) {
	res := &fetchResult{url: u}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return res, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	req.Header.Set("User-Agent", "apiguard-validator")
	resp, err := client.Do(req)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	res.status, res.header = resp.StatusCode, resp.Header
	// Transport errors name the URL already (*url.Error); these say it too,
	// so that a failed start tells the operator where it looked.
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	if resp.ContentLength > MaxJWKSBytes {
		return res, fmt.Errorf("GET %s: body of %d bytes is larger than %d", u, resp.ContentLength, MaxJWKSBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return res, fmt.Errorf("GET %s: reading the body: %w", u, err)
	}
	if len(body) > MaxJWKSBytes {
		return res, fmt.Errorf("GET %s: body larger than %d bytes", u, MaxJWKSBytes)
	}
	res.body = body
	return res, nil
}

// discoveryURL is where OpenID Connect Discovery 1.0 (section 4) puts the
// configuration of issuer.
func discoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// auth0JWKSURL is Auth0's conventional JWKS location.
func auth0JWKSURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/jwks.json"
}

// discover reads issuer's OpenID configuration and returns its jwks_uri.
// The document must name issuer exactly (OpenID Connect Discovery 1.0,
// section 4.3), or another issuer's keys could be trusted.
func discover(ctx context.Context, client *http.Client, issuer string) (*fetchResult, string, error) {
	res, err := get(ctx, client, discoveryURL(issuer))
	if err != nil {
		return res, "", fmt.Errorf("discovery: %w", err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(res.body, &doc); err != nil {
		return res, "", errors.New("discovery: the document is not a JSON object")
	}
	if doc.Issuer != issuer {
		return res, "", fmt.Errorf("discovery: the document names issuer %q, not %q", doc.Issuer, issuer)
	}
	if doc.JWKSURI == "" {
		return res, "", errors.New("discovery: the document has no jwks_uri")
	}
	if err := checkFetchURL(doc.JWKSURI); err != nil {
		return res, "", fmt.Errorf("discovery: jwks_uri: %w", err)
	}
	// The keys are worth what the channel that brings them is: an https
	// issuer's keys never come over plain http, loopback included.
	if isHTTPS(issuer) && !isHTTPS(doc.JWKSURI) {
		return res, "", fmt.Errorf("discovery: jwks_uri %q is not https although the issuer is: a downgrade, refused", doc.JWKSURI)
	}
	return res, doc.JWKSURI, nil
}

// isHTTPS reports whether raw is an https URL.
func isHTTPS(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https"
}

// cacheMaxAge returns the max-age of a Cache-Control header; no-cache and
// no-store count as zero. ok is false when neither is present.
func cacheMaxAge(h http.Header) (age time.Duration, ok bool) {
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-cache", "no-store":
				return 0, true
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
				if err != nil || n < 0 {
					continue
				}
				return time.Duration(min(n, int64(365*24*time.Hour/time.Second))) * time.Second, true
			}
		}
	}
	return 0, false
}

// refreshAfter is the time until the next scheduled refresh after a
// successful one, before jitter: interval, shortened by a smaller max-age
// down to MinCacheControlInterval (or interval, if that is smaller). A
// larger max-age is ignored: interval is the operator's bound on how long
// a removed key keeps verifying.
func refreshAfter(h http.Header, interval time.Duration) time.Duration {
	if age, ok := cacheMaxAge(h); ok && age < interval {
		return max(age, min(MinCacheControlInterval, interval))
	}
	return interval
}

// jitter spreads d uniformly over ±10%, so that instances started
// together do not refresh together.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - d/10 + rand.N(d/5+1)
}
