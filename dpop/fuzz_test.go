package dpop_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apiguard/apiguard/dpop"
	"github.com/apiguard/apiguard/dpop/dpoptest"
)

// FuzzVerify checks that no proof makes Verify panic, that every refusal
// is an *Error whose message fits a quoted-string and quotes nothing of
// the proof, and that anything accepted names the request.
func FuzzVerify(f *testing.F) {
	k := dpoptest.GenerateKey("ES256")
	base := []dpoptest.Option{dpoptest.WithIssuedAt(now), dpoptest.WithAccessToken(token)}
	for _, p := range []string{
		k.Proof("GET", target, base...),
		k.Proof("GET", target+"?a=1", append(base, dpoptest.WithClaim("htu", target+"?a=1#f"))...),
		k.Proof("GET", target, append(base, dpoptest.WithPrivateJWK())...),
		k.Proof("GET", target, append(base, dpoptest.WithHeader("crit", []string{"x"}))...),
		k.Proof("GET", "HTTP://API.EXAMPLE.COM:80/api/%70rivate", base...),
		"", ".", "..", "a.b.c", "e30.e30.", strings.Repeat("A", 9000),
	} {
		f.Add(p)
	}
	v, err := dpop.NewVerifier(dpop.Config{Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	jkt := k.Thumbprint()
	f.Fuzz(func(t *testing.T, proof string) {
		p, err := v.Verify(context.Background(), request("GET", target, proof), token, jkt)
		if err == nil {
			if p.Thumbprint != jkt || p.JTI == "" {
				t.Fatalf("accepted %+v", p)
			}
			return
		}
		var e *dpop.Error
		if !errors.As(err, &e) {
			t.Fatalf("not an *Error: %v", err)
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\"\\") {
			t.Fatalf("message does not fit a quoted-string: %q", msg)
		}
		for _, seg := range strings.Split(proof, ".") {
			if len(seg) >= 12 && strings.Contains(msg, seg) {
				t.Fatalf("message quotes the proof: %q", msg)
			}
		}
	})
}
