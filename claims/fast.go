package claims

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apiguard/apiguard/internal/strictjson"
)

// The fast path of Parse: a hand-written decoder for the claims sets
// nearly every access token has, in a fraction of the time of the general
// strict decoder, which was the largest cost of a validation after the
// signature check. It accepts a JSON object whose member names are
// printable ASCII without escapes, whose registered claims have their
// plain shapes (strings without escapes, NumericDates that are integers),
// and whose custom claims are strings without escapes, arrays of them,
// numbers or literals. It refuses nothing itself: on anything else, a
// nested object among them, it gives up and Parse runs the strict
// decoder, which then decides. On what it accepts it decides exactly as
// the strict decoder (FuzzParseFast).

// fast decodes p.src into c, or reports false, leaving c to be reset.
func (p *parser) fast(c *Claims) bool {
	s := p.src
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '{' {
		return false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return skipSpace(s, i+1) == len(s)
	}
	// Member names for the duplicate check: a token has about a dozen,
	// and a linear scan over them costs less than a set. A 64-bit filter
	// of their lengths and end bytes skips the scan for nearly every name.
	var seen [16]string
	names := seen[:0]
	var filter uint64
	for {
		name, j, ok := plainName(s, i)
		if !ok {
			return false
		}
		bit := uint64(1) << (nameHash(name) & 63)
		if filter&bit != 0 {
			for _, n := range names {
				if n == name {
					return false // the strict decoder reports the duplicate
				}
			}
		}
		filter |= bit
		names = append(names, name)
		if j = skipSpace(s, j); j == len(s) || s[j] != ':' {
			return false
		}
		if j, ok = p.fastMember(c, name, skipSpace(s, j+1)); !ok {
			return false
		}
		if j = skipSpace(s, j); j == len(s) {
			return false
		}
		switch s[j] {
		case '}':
			return skipSpace(s, j+1) == len(s)
		case ',':
			i = skipSpace(s, j+1)
		default:
			return false
		}
	}
}

// nameHash mixes a member name's length and end bytes: names that share
// them (the duplicate filter's false positives) are few in a token.
func nameHash(name string) uint {
	if name == "" {
		return 0
	}
	return uint(len(name))*7 + uint(name[0])*3 + uint(name[len(name)-1])
}

// fastMember decodes the value at s[i] of the member name, as member does,
// and returns the index after it.
func (p *parser) fastMember(c *Claims, name string, i int) (int, bool) {
	s := p.src
	var ok bool
	switch name {
	case "iss":
		c.Issuer, i, ok = jsonString(s, i)
	case "sub":
		c.Subject, i, ok = jsonString(s, i)
	case "aud":
		if i < len(s) && s[i] == '"' {
			var aud string
			aud, i, ok = jsonString(s, i)
			c.Audience = p.keep(append(p.begin(), aud))
		} else {
			c.Audience, i, ok = p.jsonStrings(i)
		}
	case "exp":
		c.ExpiresAt, i, ok = intDate(s, i)
	case "nbf":
		c.NotBefore, i, ok = intDate(s, i)
	case "iat":
		c.IssuedAt, i, ok = intDate(s, i)
	case "jti":
		c.ID, i, ok = jsonString(s, i)
	case "azp":
		c.AuthorizedParty, i, ok = jsonString(s, i)
	case "client_id":
		c.ClientID, i, ok = jsonString(s, i)
	case "scope":
		var scope string
		if scope, i, ok = jsonString(s, i); ok {
			c.Scopes = p.splitScope(scope)
		}
	case "permissions":
		c.Permissions, i, ok = p.jsonStrings(i)
	case "org_id":
		c.OrgID, i, ok = jsonString(s, i)
	case "org_name":
		c.OrgName, i, ok = jsonString(s, i)
	case "gty":
		c.GrantType, i, ok = jsonString(s, i)
	case "cnf":
		c.Confirmation, i, ok = confirmation(s, i)
	default:
		if foldsToRegistered(name) {
			return 0, false // the strict decoder refuses the case variant
		}
		start := i
		if i, ok = simpleValue(s, i); ok {
			c.custom = append(c.custom, customClaim{name: name, value: s[start:i]})
		}
	}
	return i, ok
}

// confirmation decodes the cnf of a DPoP-bound token, {"jkt":"..."} with a
// plain non-empty string, or {}; any other shape (other confirmation
// methods, escapes, case variants) goes to the strict decoder, which must
// never miss a binding: a bound token is never a bearer token.
func confirmation(s string, i int) (Confirmation, int, bool) {
	cnf := Confirmation{Present: true}
	if i == len(s) || s[i] != '{' {
		return cnf, 0, false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return cnf, i + 1, true
	}
	name, i, ok := plainName(s, i)
	if !ok || name != "jkt" {
		return cnf, 0, false
	}
	if i = skipSpace(s, i); i == len(s) || s[i] != ':' {
		return cnf, 0, false
	}
	if cnf.JKT, i, ok = jsonString(s, skipSpace(s, i+1)); !ok || cnf.JKT == "" {
		return cnf, 0, false
	}
	if i = skipSpace(s, i); i == len(s) || s[i] != '}' {
		return cnf, 0, false
	}
	return cnf, i + 1, true
}

// foldsToRegistered is strictjson.FoldsToAny(name, registered) for the
// ASCII names of the fast path: a case variant of an ASCII name in ASCII
// has its length, so most names need no comparison at all.
func foldsToRegistered(name string) bool {
	if len(name) > maxRegisteredLen {
		return false // namespaced custom claims, the usual ones
	}
	for _, r := range registered {
		if len(r) == len(name) && strings.EqualFold(r, name) {
			return true
		}
	}
	return false
}

// maxRegisteredLen is the length of the longest registered name
// (TestMaxRegisteredLen).
const maxRegisteredLen = len("permissions")

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// plainName returns the JSON string at s[i] when it holds printable ASCII
// only, without escapes, and the index after it.
func plainName(s string, i int) (string, int, bool) {
	v, next, kind, ok := strictjson.ScanString(s, i)
	if !ok || kind != strictjson.Printable {
		return "", 0, false
	}
	return v, next, true
}

// jsonString returns the JSON string at s[i] when it has no escapes (it
// is then valid JSON exactly when it has no control character and is
// valid UTF-8), and the index after it.
func jsonString(s string, i int) (string, int, bool) {
	v, next, kind, ok := strictjson.ScanString(s, i)
	if !ok {
		return "", 0, false
	}
	return v, next, kind != strictjson.NonASCII || utf8.ValidString(v)
}

// jsonStrings decodes the array of plain strings at s[i] into the
// Claims' strBuf, as readStrings does.
func (p *parser) jsonStrings(i int) ([]string, int, bool) {
	s := p.src
	if i == len(s) || s[i] != '[' {
		return nil, 0, false
	}
	out := p.begin()
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return p.keep(out), i + 1, true
	}
	for {
		v, j, ok := jsonString(s, i)
		if !ok {
			return nil, 0, false
		}
		out = append(out, v)
		if j = skipSpace(s, j); j == len(s) {
			return nil, 0, false
		}
		switch s[j] {
		case ']':
			return p.keep(out), j + 1, true
		case ',':
			i = skipSpace(s, j+1)
		default:
			return nil, 0, false
		}
	}
}

// intDate decodes a NumericDate written as a non-negative integer of at
// most 12 digits without a leading zero, in range, as readDate does; the
// number must end there (a fraction or an exponent takes the strict path).
func intDate(s string, i int) (time.Time, int, bool) {
	start := i
	var n int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int64(s[i]-'0')
		if i++; i-start > 12 {
			return time.Time{}, 0, false
		}
	}
	switch {
	case i == start, s[start] == '0' && i > start+1, n > maxNumericDate:
		return time.Time{}, 0, false
	case i < len(s) && s[i] != ',' && s[i] != '}' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r':
		return time.Time{}, 0, false
	}
	return time.Unix(n, 0).UTC(), i, true
}

// simpleValue returns the index after the JSON value at s[i] when it is a
// plain string, an array of plain strings, a number or a literal.
func simpleValue(s string, i int) (int, bool) {
	if i == len(s) {
		return 0, false
	}
	switch c := s[i]; {
	case c == '"':
		_, j, ok := jsonString(s, i)
		return j, ok
	case c == '[':
		i = skipSpace(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1, true
		}
		for {
			_, j, ok := jsonString(s, i)
			if !ok {
				return 0, false
			}
			if j = skipSpace(s, j); j == len(s) {
				return 0, false
			}
			switch s[j] {
			case ']':
				return j + 1, true
			case ',':
				i = skipSpace(s, j+1)
			default:
				return 0, false
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return number(s, i)
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(s)-i >= len(lit) && s[i:i+len(lit)] == lit {
			return i + len(lit), true
		}
	}
	return 0, false
}

// number returns the index after the JSON number (RFC 8259 section 6) at
// s[i]. What follows it is the caller's to check.
func number(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	return i, true
}
