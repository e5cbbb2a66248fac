package validator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/claims"
	"github.com/apiguard/apiguard/internal/testkit"
	"github.com/apiguard/apiguard/validator"
)

// Helpers of the key source tests (jwks_*_test.go, keys_*_test.go).

// keysWait is how long a polling assertion waits for something the code
// under test does in the background: generous, since -race on two cores
// is slow, and never reached when the code is right.
const keysWait = 10 * time.Second

// newES256Issuer starts an issuer with a fresh ES256 key (cheap to
// generate, unlike RSA) and closes it when the test ends.
func newES256Issuer(t *testing.T, kid string) *testkit.Issuer {
	t.Helper()
	iss := testkit.NewIssuer(testkit.GenerateKey(kid, "ES256"))
	t.Cleanup(iss.Close)
	return iss
}

// keysCfg configures a Validator whose keys come from RemoteKeySets that
// the test makes: the first issuer's from RemoteConfig, and one per Extra
// issuer with the same tunables (and the Auth0 JWKS location).
type keysCfg struct {
	validator.RemoteConfig
	Algorithms []string
	Extra      []string
	// ExtraIssuers are passed to the Validator as they are: those without
	// Keys get a RemoteKeySet that the Validator makes and owns.
	ExtraIssuers []validator.IssuerConfig
	audience     string
}

// keysConfig is the RemoteConfig of iss with short key cache timings for
// tests: every behaviour a test waits for takes well under a second.
// Tests shorten what they exercise further.
func keysConfig(iss *testkit.Issuer, logs *keysLog) keysCfg {
	rc := iss.RemoteConfig()
	rc.FetchTimeout = 2 * time.Second
	rc.RefreshInterval = time.Hour
	rc.RetryInterval = 20 * time.Millisecond
	rc.UnknownKIDCooldown = time.Hour
	rc.MaxKeyWait = 2 * time.Second
	if logs != nil {
		rc.Logger = slog.New(logs)
	}
	return keysCfg{RemoteConfig: rc, Algorithms: []string{iss.SigningKey().Algorithm}, audience: iss.Audience()}
}

// keysValidator is a Validator with the RemoteKeySets made for it, which
// its Close closes too.
type keysValidator struct {
	*validator.Validator
	sets []*validator.RemoteKeySet
}

func (kv *keysValidator) Close() error {
	var err error
	if kv.Validator != nil {
		err = kv.Validator.Close()
	}
	for _, s := range kv.sets {
		s.Close()
	}
	return err
}

// newKeys makes the key sets of cfg, then the Validator on them.
func newKeys(ctx context.Context, cfg keysCfg) (*keysValidator, error) {
	kv := &keysValidator{}
	vc := validator.Config{Issuer: cfg.Issuer, Audiences: []string{cfg.audience}, Algorithms: cfg.Algorithms,
		Logger: cfg.Logger, ExtraIssuers: cfg.ExtraIssuers}
	for n, iss := range append([]string{cfg.Issuer}, cfg.Extra...) {
		rc := cfg.RemoteConfig
		if n > 0 {
			rc.Issuer, rc.JWKSURL, rc.Discovery = iss, "", false
		}
		set, err := validator.NewRemoteKeySet(ctx, rc)
		if err != nil {
			kv.Close()
			return nil, err
		}
		kv.sets = append(kv.sets, set)
		if n == 0 {
			vc.Keys = set
		} else {
			vc.ExtraIssuers = append(vc.ExtraIssuers, validator.IssuerConfig{Issuer: iss, Keys: set})
		}
	}
	v, err := validator.New(ctx, vc)
	if err != nil {
		kv.Close()
		return nil, err
	}
	kv.Validator = v
	return kv, nil
}

// newKeysValidator is newKeys, closed when the test ends (before the
// issuers registered earlier are closed).
func newKeysValidator(t *testing.T, cfg keysCfg) *keysValidator {
	t.Helper()
	kv, err := newKeys(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { kv.Close() })
	return kv
}

// newValidator is validator.New, closed when the test ends.
func newValidator(t *testing.T, cfg validator.Config) *validator.Validator {
	t.Helper()
	v, err := validator.New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	return v
}

// tokenWithKid returns a well-formed token of iss whose header names kid,
// with a garbage signature: it reaches the key lookup, and no further.
// Minting it costs no signature, so floods are cheap.
func tokenWithKid(iss *testkit.Issuer, alg, kid string) string {
	h, _ := json.Marshal(map[string]any{"alg": alg, "typ": "JWT", "kid": kid})
	c, _ := json.Marshal(testkit.DefaultClaims(iss.URL))
	return testkit.SignRaw(nil, h, c, []byte(strings.Repeat("x", 64)))
}

// randomKids returns n distinct kids.
func randomKids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("random-%d-%016x", i, rand.Uint64())
	}
	return out
}

// validateConcurrently validates every token with up to workers goroutines and
// returns the errors in order.
func validateConcurrently(v interface {
	Validate(context.Context, string) (*claims.Claims, error)
}, tokens []string, workers int) []error {
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				_, errs[i] = v.Validate(context.Background(), tokens[i])
			}
		})
	}
	for i := range tokens {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

// keysLog is a slog.Handler that keeps every record, for tests that
// assert what is logged.
type keysLog struct {
	mu      sync.Mutex
	records []keysLogRecord
}

type keysLogRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func (r *keysLogRecord) String() string {
	return fmt.Sprintf("%s %q %v", r.Level, r.Msg, r.Attrs)
}

func (r *keysLog) Enabled(context.Context, slog.Level) bool { return true }

func (r *keysLog) Handle(_ context.Context, rec slog.Record) error {
	return (&keysLogHandler{r: r}).Handle(context.Background(), rec)
}

func (r *keysLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &keysLogHandler{r: r, attrs: as}
}

func (r *keysLog) WithGroup(string) slog.Handler { return r }

// count returns how many records at level have a message containing msg.
func (r *keysLog) count(level slog.Level, msg string) int {
	n := 0
	for _, rec := range r.all() {
		if rec.Level == level && strings.Contains(rec.Msg, msg) {
			n++
		}
	}
	return n
}

func (r *keysLog) all() []keysLogRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.records)
}

type keysLogHandler struct {
	r     *keysLog
	attrs []slog.Attr
}

func (h *keysLogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *keysLogHandler) Handle(_ context.Context, rec slog.Record) error {
	lr := keysLogRecord{Level: rec.Level, Msg: rec.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		lr.Attrs[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool {
		lr.Attrs[a.Key] = a.Value.String()
		return true
	})
	h.r.mu.Lock()
	h.r.records = append(h.r.records, lr)
	h.r.mu.Unlock()
	return nil
}

func (h *keysLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &keysLogHandler{r: h.r, attrs: append(slices.Clone(h.attrs), as...)}
}

func (h *keysLogHandler) WithGroup(string) slog.Handler { return h }

func keysJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
