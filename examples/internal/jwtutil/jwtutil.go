// Package jwtutil has display helpers for tokens shown by the examples. It
// never verifies anything: only apiguard and go-oidc decide whether a token
// is valid.
package jwtutil

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Short shortens a token for display: its first 12 characters and "…".
func Short(token string) string {
	if len(token) <= 12 {
		return token
	}
	return token[:12] + "…"
}

// Claims decodes the payload of a compact JWT without verifying it.
func Claims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("jwtutil: not a compact JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("jwtutil: payload is not base64url")
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep exp and iat as written
	if err := dec.Decode(&m); err != nil {
		return nil, errors.New("jwtutil: payload is not a JSON object")
	}
	return m, nil
}

// Pretty returns the decoded payload of token as indented JSON, or a short
// explanation when token is not a JWT (an opaque token).
func Pretty(token string) string {
	m, err := Claims(token)
	if err != nil {
		return "(not a JWT)"
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "(undisplayable)"
	}
	return string(b)
}
