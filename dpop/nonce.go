package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"sync/atomic"
	"time"
)

// MinNonceKeySize is the shortest nonce key accepted.
const MinNonceKeySize = 32

// nonceLabel separates these MACs from any other use of the keys.
const nonceLabel = "apiguard DPoP-Nonce v1\x00"

// nonces issues and checks server nonces (RFC 9449 section 9) without
// state shared between replicas: a nonce is a time window's number and an
// HMAC of it. Every replica configured with the same keys issues the same
// nonce in a window and accepts the others'. A nonce is accepted in the
// window it was issued in and the next, so for between one and two
// windows. The first key makes new nonces, every key is accepted, so keys
// rotate by adding the new key first, then dropping the old one after two
// windows.
type nonces struct {
	keys   [][]byte
	window time.Duration
	cur    atomic.Pointer[nonceWindow]
}

// nonceWindow caches the nonces of one window.
type nonceWindow struct {
	n        int64
	issued   string
	accepted []string // this window's and the previous one's, for every key
}

func (ns *nonces) at(now time.Time) *nonceWindow {
	n := now.UnixNano() / int64(ns.window)
	if w := ns.cur.Load(); w != nil && w.n == n {
		return w
	}
	w := &nonceWindow{n: n, issued: ns.mac(ns.keys[0], n)}
	for _, k := range ns.keys {
		w.accepted = append(w.accepted, ns.mac(k, n), ns.mac(k, n-1))
	}
	ns.cur.Store(w)
	return w
}

func (ns *nonces) mac(key []byte, n int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(nonceLabel))
	m.Write(b[:])
	out := append(b[:], m.Sum(nil)[:16]...)
	return base64.RawURLEncoding.EncodeToString(out)
}

func (ns *nonces) issue(now time.Time) string { return ns.at(now).issued }

func (ns *nonces) valid(nonce []byte, now time.Time) bool {
	ok := false
	for _, a := range ns.at(now).accepted {
		// Constant time, though a nonce is no secret: it is sent to
		// every client.
		if hmac.Equal([]byte(a), nonce) {
			ok = true
		}
	}
	return ok
}
