package dpop

import (
	"io"
	"math"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/apiguard/apiguard/internal/strictjson"
)

// proofClaims are the claims of a DPoP proof (RFC 9449 section 4.2). The
// byte slices alias the decoded payload unless a value had escapes.
type proofClaims struct {
	jti, htm, htu, ath, nonce []byte
	hasATH, hasNonce          bool
	iat                       time.Time
	hasIAT                    bool
}

// claimNames are the claims read here; a letter-case variant of one is
// refused, as in access tokens.
var claimNames = [...]string{"jti", "htm", "htu", "iat", "ath", "nonce"}

// maxNumericDate is 9999-12-31T23:59:59Z, as in package claims.
const maxNumericDate = 253402300799

// parseClaims decodes a proof's claims strictly: one JSON object in valid
// UTF-8 with unique member names, the DPoP claims of their types, no case
// variants of them. Other members are skipped.
func parseClaims(data []byte, c *proofClaims) error {
	d := strictjson.NewBytesDecoder(data)
	err := c.decode(&d.Decoder)
	d.Release()
	return err
}

func (c *proofClaims) decode(dec *jsontext.Decoder) error {
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return errPayloadJSON
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return errPayloadJSON
		}
		var dst *[]byte
		var typeErr *Error
		switch string(name) {
		case `"jti"`:
			dst, typeErr = &c.jti, errJTI
		case `"htm"`:
			dst, typeErr = &c.htm, errHTM
		case `"htu"`:
			dst, typeErr = &c.htu, errHTU
		case `"ath"`:
			dst, typeErr, c.hasATH = &c.ath, errATHType, true
		case `"nonce"`:
			dst, typeErr, c.hasNonce = &c.nonce, errNonceType, true
		case `"iat"`:
			if err := c.readIAT(dec); err != nil {
				return err
			}
			continue
		default:
			n, err := strictjson.Unquote(name)
			if err != nil {
				return errPayloadJSON
			}
			if strictjson.FoldsToAny(n, claimNames[:]) {
				return errCaseVariant
			}
			if _, err := dec.ReadValue(); err != nil {
				return errPayloadJSON
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil {
			return errPayloadJSON
		}
		if v.Kind() != '"' {
			return typeErr
		}
		if p := strictjson.Plain(v); p != nil {
			*dst = p
		} else if *dst, err = jsontext.AppendUnquote(nil, v); err != nil {
			return errPayloadJSON
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return errPayloadJSON
	}
	if _, err := dec.ReadValue(); err != io.EOF {
		return errPayloadJSON
	}
	return nil
}

// readIAT reads iat, a NumericDate (RFC 7519 section 2).
func (c *proofClaims) readIAT(dec *jsontext.Decoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return errPayloadJSON
	}
	if v.Kind() != '0' {
		return errIAT
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f < 0 || f > maxNumericDate {
		return errIAT
	}
	sec, frac := math.Modf(f)
	c.iat = time.Unix(int64(sec), int64(frac*1e9))
	c.hasIAT = true
	return nil
}
