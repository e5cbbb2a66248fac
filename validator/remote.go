package validator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fetch limits for remote key sets.
const (
	fetchTimeout     = 5 * time.Second
	maxJWKSBody      = 1 << 20
	unknownKidPeriod = 30 * time.Second
)

// remoteKeys is the issuer's JWKS fetched over HTTP.
type remoteKeys struct {
	url    string
	client *http.Client

	set atomic.Pointer[KeySet]

	mu        sync.Mutex // serializes fetches
	lastFetch time.Time
}

func newRemoteKeys(ctx context.Context, cfg Config) (*remoteKeys, error) {
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout}
	}
	u := cfg.JWKSURL
	if u == "" {
		u = strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/jwks.json"
	}
	if err := checkFetchURL(u); err != nil {
		return nil, err
	}
	r := &remoteKeys{url: u, client: client}
	if err := r.refresh(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// checkFetchURL refuses plain HTTP except on loopback, where tests and
// development servers live.
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("validator: %q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
	}
	return fmt.Errorf("validator: %q must use https", raw)
}

func (r *remoteKeys) Key(ctx context.Context, kid, alg string) (*Key, error) {
	set := r.set.Load()
	k, err := set.lookup(kid, alg)
	if err != errKid {
		return k, err
	}
	if !r.mayRefresh() {
		if set == nil {
			return nil, &Error{Class: ErrKeysUnavailable, Reason: "key set not loaded"}
		}
		return nil, err
	}
	if ferr := r.refresh(ctx); ferr != nil && r.set.Load() == nil {
		return nil, &Error{Class: ErrKeysUnavailable, Reason: "key set not loaded", Err: ferr}
	}
	return r.set.Load().lookup(kid, alg)
}

func (r *remoteKeys) mayRefresh() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Since(r.lastFetch) >= unknownKidPeriod
}

func (r *remoteKeys) refresh(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastFetch = time.Now()
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("validator: fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("validator: fetching JWKS: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBody+1))
	if err != nil {
		return fmt.Errorf("validator: reading JWKS: %w", err)
	}
	if len(body) > maxJWKSBody {
		return errors.New("validator: JWKS larger than 1 MiB")
	}
	set, _, err := ParseJWKS(body)
	if err != nil {
		return err
	}
	r.set.Store(set)
	return nil
}
