package claims

import (
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/apiguard/apiguard/internal/strictjson"
)

// registered lists the claims that have a field in Claims. A member whose
// name differs from one of these only in letter case is refused: other
// parsers (encoding/json among them) match names case-insensitively and
// would read "EXP" as "exp".
var registered = [...]string{
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
	"azp", "client_id", "scope", "permissions", "org_id", "org_name", "gty", "cnf",
}

var (
	errCaseVariant  = &parseError{"a member name is a letter-case variant of a registered claim"}
	errNotObject    = &parseError{"not a JSON object"}
	errDuplicate    = &parseError{"duplicate member name"}
	errBadUTF8      = &parseError{"invalid UTF-8"}
	errSyntax       = &parseError{"malformed JSON"}
	errWrongType    = &parseError{"a registered claim has the wrong type"}
	errDateType     = &parseError{"a numeric date is not a JSON number"}
	errDateRange    = &parseError{"a numeric date is out of range"}
	errAudienceType = &parseError{"aud is neither a string nor an array of strings"}
	errCnf          = &parseError{"cnf is not a JSON object, or its jkt is not a non-empty string"}
)

// parseError is a fixed, input-free reason that unwraps to ErrInvalid.
type parseError struct{ reason string }

func (e *parseError) Error() string { return "claims: invalid claims set: " + e.reason }
func (e *parseError) Unwrap() error { return ErrInvalid }

// Parse decodes a JWT claims set strictly: it must be one JSON object in
// valid UTF-8 with unique member names, registered claims must have their
// registered types (numeric dates are JSON numbers from 0 to the year 9999;
// null is not accepted for them), and no member name may be a letter-case
// variant of a registered one. Errors wrap [ErrInvalid] and never quote the
// input.
//
// Parse keeps no reference to data.
//
// Parse does not validate anything about the token: use the validator
// package for that.
func Parse(data []byte) (*Claims, error) {
	return ParseString(string(data))
}

// ParseString is [Parse] for a claims set held in a string. The Claims
// shares the string's memory rather than copying it (every string claim
// without escapes, and every custom claim's JSON text, is a substring of
// src), so it costs one allocation: the Claims, whose arrays back its
// slices.
func ParseString(src string) (*Claims, error) {
	c := new(Claims)
	p := parser{src: src, room: c.strBuf[:]}
	c.custom = c.customBuf[:0]
	if !p.fast(c) {
		// Anything the fast path does not take: the strict decoder
		// decides, from scratch.
		*c = Claims{}
		p.room = c.strBuf[:]
		c.custom = c.customBuf[:0]
		if err := p.strict(c); err != nil {
			return nil, classify(err)
		}
	}
	if len(c.custom) == 0 {
		c.custom = nil
	}
	return c, nil
}

// strict decodes p.src into c with the strict jsontext decoder.
func (p *parser) strict(c *Claims) error {
	d := strictjson.NewDecoder(p.src)
	p.dec = &d.Decoder
	err := p.claims(c)
	p.dec = nil
	d.Release()
	return err
}

// parser decodes one claims set.
type parser struct {
	dec  *jsontext.Decoder
	src  string   // the input
	room []string // the unused part of the Claims' strBuf
}

func (p *parser) claims(c *Claims) error {
	dec := p.dec
	if dec.PeekKind() != '{' {
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		return errNotObject
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := p.member(c, name, dec.InputOffset()); err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if _, err := dec.ReadValue(); err != io.EOF {
		if err == nil {
			return errSyntax // a second top-level value
		}
		return err
	}
	return nil
}

// member decodes the value of the member whose raw (quoted) name is raw,
// which ends at offset end of the input.
func (p *parser) member(c *Claims, raw jsontext.Value, end int64) error {
	var err error
	// Names with escapes are never registered ones in their plain spelling:
	// addCustom unquotes them and refuses case variants.
	switch string(strictjson.Plain(raw)) {
	case "iss":
		c.Issuer, err = p.readString()
	case "sub":
		c.Subject, err = p.readString()
	case "aud":
		c.Audience, err = p.readStrings(true)
		if err == errWrongType {
			err = errAudienceType
		}
	case "exp":
		c.ExpiresAt, err = readDate(p.dec)
	case "nbf":
		c.NotBefore, err = readDate(p.dec)
	case "iat":
		c.IssuedAt, err = readDate(p.dec)
	case "jti":
		c.ID, err = p.readString()
	case "azp":
		c.AuthorizedParty, err = p.readString()
	case "client_id":
		c.ClientID, err = p.readString()
	case "scope":
		var s string
		s, err = p.readString()
		c.Scopes = p.splitScope(s)
	case "permissions":
		c.Permissions, err = p.readStrings(false)
	case "org_id":
		c.OrgID, err = p.readString()
	case "org_name":
		c.OrgName, err = p.readString()
	case "gty":
		c.GrantType, err = p.readString()
	case "cnf":
		c.Confirmation, err = p.readConfirmation()
	default:
		return p.addCustom(c, raw, end)
	}
	return err
}

func (p *parser) addCustom(c *Claims, raw jsontext.Value, end int64) error {
	name, err := p.string(raw, end)
	if err != nil {
		return err
	}
	if strictjson.FoldsToAny(name, registered[:]) {
		return errCaseVariant
	}
	v, err := p.dec.ReadValue()
	if err != nil {
		return err
	}
	off := int(p.dec.InputOffset())
	c.custom = append(c.custom, customClaim{name: name, value: p.src[off-len(v) : off]})
	return nil
}

// string returns the value of the JSON string raw, which the decoder
// validated and which ends at offset end of the input: a substring of the
// input when it has no escapes.
func (p *parser) string(raw jsontext.Value, end int64) (string, error) {
	if strictjson.Plain(raw) == nil {
		return strictjson.Unquote(raw)
	}
	return p.src[int(end)-len(raw)+1 : int(end)-1], nil
}

func (p *parser) readString() (string, error) {
	if p.dec.PeekKind() != '"' {
		if _, err := p.dec.ReadValue(); err != nil {
			return "", err
		}
		return "", errWrongType
	}
	raw, err := p.dec.ReadValue()
	if err != nil {
		return "", err
	}
	return p.string(raw, p.dec.InputOffset())
}

// begin starts a slice in the Claims' strBuf; append spills to the heap
// when it is full.
func (p *parser) begin() []string { return p.room[:0] }

// keep ends a slice begun by begin: it takes its elements out of the
// room when they are there, and cuts its capacity so that a later append
// copies.
func (p *parser) keep(s []string) []string {
	if len(s) <= len(p.room) && len(s) > 0 && &s[0] == &p.room[0] {
		p.room = p.room[len(s):]
	}
	return s[:len(s):len(s)]
}

// readStrings reads an array of strings, or a lone string when single is
// set (aud may be either, RFC 7519 section 4.1.3).
func (p *parser) readStrings(single bool) ([]string, error) {
	dec := p.dec
	switch dec.PeekKind() {
	case '"':
		if single {
			s, err := p.readString()
			return p.keep(append(p.begin(), s)), err
		}
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		out := p.begin()
		for dec.PeekKind() != ']' {
			s, err := p.readString()
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		_, err := dec.ReadToken()
		return p.keep(out), err
	}
	if _, err := dec.ReadValue(); err != nil {
		return nil, err
	}
	return nil, errWrongType
}

// readConfirmation reads cnf (RFC 7800 section 3.1): a JSON object whose
// jkt, if present, is a non-empty string, so that a bound token never
// passes for an unbound one. Other confirmation methods (x5t#S256, jwk,
// ...) are skipped; a case variant of jkt is refused.
func (p *parser) readConfirmation() (Confirmation, error) {
	cnf := Confirmation{Present: true}
	dec := p.dec
	if dec.PeekKind() != '{' {
		if _, err := dec.ReadValue(); err != nil {
			return cnf, err
		}
		return cnf, errCnf
	}
	if _, err := dec.ReadToken(); err != nil {
		return cnf, err
	}
	for dec.PeekKind() != '}' {
		raw, err := dec.ReadValue()
		if err != nil {
			return cnf, err
		}
		end := dec.InputOffset()
		if string(strictjson.Plain(raw)) == "jkt" {
			if dec.PeekKind() != '"' {
				if _, err := dec.ReadValue(); err != nil {
					return cnf, err
				}
				return cnf, errCnf
			}
			if cnf.JKT, err = p.readString(); err != nil {
				return cnf, err
			}
			if cnf.JKT == "" {
				return cnf, errCnf
			}
			continue
		}
		name, err := p.string(raw, end)
		if err != nil {
			return cnf, err
		}
		if strings.EqualFold(name, "jkt") {
			return cnf, errCaseVariant
		}
		if _, err := dec.ReadValue(); err != nil {
			return cnf, err
		}
	}
	_, err := dec.ReadToken()
	return cnf, err
}

// maxNumericDate is 9999-12-31T23:59:59Z: later values are refused rather
// than overflowing time arithmetic.
const maxNumericDate = 253402300799

// readDate reads a NumericDate (RFC 7519 section 2): a JSON number of
// seconds, possibly fractional.
func readDate(dec *jsontext.Decoder) (time.Time, error) {
	if dec.PeekKind() != '0' {
		if _, err := dec.ReadValue(); err != nil {
			return time.Time{}, err
		}
		return time.Time{}, errDateType
	}
	raw, err := dec.ReadValue()
	if err != nil {
		return time.Time{}, err
	}
	if sec, ok := smallInt(raw); ok {
		return time.Unix(sec, 0).UTC(), nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f < 0 || f > maxNumericDate {
		return time.Time{}, errDateRange
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// smallInt parses the common case, a plain non-negative integer in range,
// without allocating.
func smallInt(raw []byte) (int64, bool) {
	if len(raw) == 0 || len(raw) > 12 {
		return 0, false
	}
	var n int64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n <= maxNumericDate
}

func (p *parser) splitScope(s string) []string {
	if s == "" {
		return nil
	}
	// RFC 6749 section 3.3: scope tokens are separated by single spaces;
	// tolerate runs of spaces, nothing else.
	out := p.begin()
	for s != "" {
		tok, rest, _ := strings.Cut(s, " ")
		if tok != "" {
			out = append(out, tok)
		}
		s = rest
	}
	return p.keep(out)
}

// classify maps a decoder error to a reason that does not echo the input.
func classify(err error) error {
	var pe *parseError
	if errors.As(err, &pe) {
		return pe
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		switch {
		case errors.Is(se.Err, jsontext.ErrDuplicateName):
			return errDuplicate
		case strings.Contains(se.Err.Error(), "UTF-8"), strings.Contains(se.Err.Error(), "surrogate"):
			return errBadUTF8
		}
	}
	return errSyntax
}
