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

	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

// Helpers of the key source tests (jwks_*_test.go, keys_*_test.go).

// waitFor is how long a polling assertion waits for something the code
// under test does in the background: generous, since -race on two cores
// is slow, and never reached when the code is right.
const waitFor = 10 * time.Second

// newES256Issuer starts an issuer with a fresh ES256 key (cheap to
// generate, unlike RSA) and closes it when the test ends.
func newES256Issuer(t *testing.T, kid string) *validatortest.Issuer {
	t.Helper()
	iss := validatortest.NewIssuer(validatortest.GenerateKey(kid, "ES256"))
	t.Cleanup(iss.Close)
	return iss
}

// keysConfig is iss.Config with short key cache timings for tests: every
// behaviour a test waits for takes well under a second. Tests shorten
// what they exercise further.
func keysConfig(iss *validatortest.Issuer, logs *logRecorder) validator.Config {
	cfg := iss.Config()
	cfg.FetchTimeout = 2 * time.Second
	cfg.RefreshInterval = time.Hour
	cfg.RetryInterval = 20 * time.Millisecond
	cfg.UnknownKIDCooldown = time.Hour
	cfg.MaxKeyWait = 2 * time.Second
	if logs != nil {
		cfg.Logger = slog.New(logs)
	}
	return cfg
}

// newValidator builds a Validator and closes it when the test ends
// (before the issuers registered earlier are closed).
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
func tokenWithKid(iss *validatortest.Issuer, alg, kid string) string {
	h, _ := json.Marshal(map[string]any{"alg": alg, "typ": "JWT", "kid": kid})
	c, _ := json.Marshal(validatortest.DefaultClaims(iss.URL))
	return validatortest.SignRaw(nil, h, c, []byte(strings.Repeat("x", 64)))
}

// randomKids returns n distinct kids.
func randomKids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("random-%d-%016x", i, rand.Uint64())
	}
	return out
}

// validateAll validates every token with up to workers goroutines and
// returns the errors in order.
func validateAll(v *validator.Validator, tokens []string, workers int) []error {
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

// logRecorder is a slog.Handler that keeps every record, for tests that
// assert what is logged.
type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
}

type logRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func (r *logRecord) String() string {
	return fmt.Sprintf("%s %q %v", r.Level, r.Msg, r.Attrs)
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	return (&recHandler{r: r}).Handle(context.Background(), rec)
}

func (r *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &recHandler{r: r, attrs: as}
}

func (r *logRecorder) WithGroup(string) slog.Handler { return r }

// count returns how many records at level have a message containing msg.
func (r *logRecorder) count(level slog.Level, msg string) int {
	n := 0
	for _, rec := range r.all() {
		if rec.Level == level && strings.Contains(rec.Msg, msg) {
			n++
		}
	}
	return n
}

func (r *logRecorder) all() []logRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.records)
}

type recHandler struct {
	r     *logRecorder
	attrs []slog.Attr
}

func (h *recHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recHandler) Handle(_ context.Context, rec slog.Record) error {
	lr := logRecord{Level: rec.Level, Msg: rec.Message, Attrs: map[string]string{}}
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

func (h *recHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &recHandler{r: h.r, attrs: append(slices.Clone(h.attrs), as...)}
}

func (h *recHandler) WithGroup(string) slog.Handler { return h }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
