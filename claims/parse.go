package claims

import (
	"errors"
	"math"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// registered lists the claims that have a field in Claims. A member whose
// name differs from one of these only in letter case is refused: other
// parsers (encoding/json among them) match names case-insensitively and
// would read "EXP" as "exp".
var registered = [...]string{
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
	"azp", "client_id", "scope", "permissions", "org_id", "org_name", "gty",
}

// wire is the JSON shape of a claims set. go-json-experiment matches names
// exactly and rejects duplicate names and invalid UTF-8 by default.
type wire struct {
	Iss         string      `json:"iss"`
	Sub         string      `json:"sub"`
	Aud         audience    `json:"aud"`
	Exp         numericDate `json:"exp"`
	Nbf         numericDate `json:"nbf"`
	Iat         numericDate `json:"iat"`
	Jti         string      `json:"jti"`
	Azp         string      `json:"azp"`
	ClientID    string      `json:"client_id"`
	Scope       string      `json:"scope"`
	Permissions []string    `json:"permissions"`
	OrgID       string      `json:"org_id"`
	OrgName     string      `json:"org_name"`
	Gty         string      `json:"gty"`

	Custom map[string]jsontext.Value `json:",embed,unknown"`
}

// Parse decodes a JWT claims set strictly: it must be a JSON object in valid
// UTF-8 with unique member names, registered claims must have their
// registered types (numeric dates are JSON numbers from 0 to the year 9999),
// and no member name may be a letter-case variant of a registered one.
// Errors wrap [ErrInvalid] and never quote the input.
//
// Parse does not validate anything about the token: use the validator
// package for that.
func Parse(data []byte) (*Claims, error) {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, invalid(err)
	}
	for name := range w.Custom {
		for _, r := range registered {
			if strings.EqualFold(name, r) {
				return nil, errCaseVariant
			}
		}
	}
	return &Claims{
		Issuer:          w.Iss,
		Subject:         w.Sub,
		Audience:        w.Aud,
		ExpiresAt:       w.Exp.t,
		NotBefore:       w.Nbf.t,
		IssuedAt:        w.Iat.t,
		ID:              w.Jti,
		AuthorizedParty: w.Azp,
		ClientID:        w.ClientID,
		Scopes:          splitScope(w.Scope),
		Permissions:     w.Permissions,
		OrgID:           w.OrgID,
		OrgName:         w.OrgName,
		GrantType:       w.Gty,
		custom:          w.Custom,
	}, nil
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
)

// parseError is a fixed, input-free reason that unwraps to ErrInvalid.
type parseError struct{ reason string }

func (e *parseError) Error() string { return "claims: invalid claims set: " + e.reason }
func (e *parseError) Unwrap() error { return ErrInvalid }

// invalid maps a decoder error to a reason that does not echo the input.
func invalid(err error) error {
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
		return errSyntax
	}
	var me *json.SemanticError
	if errors.As(err, &me) {
		if me.JSONPointer == "" {
			return errNotObject
		}
		return errWrongType
	}
	return errSyntax
}

func splitScope(s string) []string {
	if s == "" {
		return nil
	}
	// RFC 6749 section 3.3: scope tokens are separated by single spaces;
	// tolerate runs of spaces, nothing else.
	out := make([]string, 0, strings.Count(s, " ")+1)
	for tok := range strings.SplitSeq(s, " ") {
		if tok != "" {
			out = append(out, tok)
		}
	}
	return out
}

// maxNumericDate is 9999-12-31T23:59:59Z: later values are refused rather
// than overflowing time arithmetic.
const maxNumericDate = 253402300799

type numericDate struct{ t time.Time }

func (d *numericDate) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '0' {
		return errDateType
	}
	f, err := tok.Float()
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return errDateRange
	}
	sec, frac := math.Modf(f)
	d.t = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

type audience []string

func (a *audience) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case '"':
		*a = audience{tok.String()}
		return nil
	case '[':
		out := audience{}
		for dec.PeekKind() != ']' {
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			if tok.Kind() != '"' {
				return errAudienceType
			}
			out = append(out, tok.String())
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		*a = out
		return nil
	}
	return errAudienceType
}
