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
// variants of them. Other members are skipped. c must be zero.
func parseClaims(data []byte, c *proofClaims) error {
	if parseCommonClaims(data, c) {
		return nil
	}
	*c = proofClaims{}
	return parseClaimsStrict(data, c)
}

// parseClaimsStrict is parseClaims with the general, strict decoder.
func parseClaimsStrict(data []byte, c *proofClaims) error {
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

// parseCommonClaims decodes the claims nearly every proof has without the
// general decoder: a JSON object of the members jti, htm, htu, iat, ath
// and nonce, each at most once, whose string values are printable ASCII
// without escapes and whose iat is an integer of at most 12 digits without
// leading zeros, no later than maxNumericDate, with JSON whitespace
// anywhere between tokens. It reports false for anything else (another
// member, a case variant, a duplicate, a float...), leaving c partly
// filled, and the strict decoder then decides: on what it accepts it
// decides exactly as the strict decoder (FuzzProofClaimsFast), and it
// refuses nothing itself. The values alias data, as the strict decoder's
// do.
func parseCommonClaims(data []byte, c *proofClaims) bool {
	i := strictjson.SkipSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return false
	}
	i = strictjson.SkipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return strictjson.SkipSpace(data, i+1) == len(data)
	}
	var seen uint8
	for {
		name, next, ok := strictjson.PlainASCII(data, i)
		if !ok {
			return false
		}
		if i = strictjson.SkipSpace(data, next); i == len(data) || data[i] != ':' {
			return false
		}
		i = strictjson.SkipSpace(data, i+1)
		var bit uint8
		var dst *[]byte
		switch string(name) {
		case "jti":
			bit, dst = 1<<0, &c.jti
		case "htm":
			bit, dst = 1<<1, &c.htm
		case "htu":
			bit, dst = 1<<2, &c.htu
		case "ath":
			bit, dst, c.hasATH = 1<<3, &c.ath, true
		case "nonce":
			bit, dst, c.hasNonce = 1<<4, &c.nonce, true
		case "iat":
			bit = 1 << 5
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if dst != nil {
			if *dst, i, ok = strictjson.PlainASCII(data, i); !ok {
				return false
			}
		} else {
			var sec int64
			if sec, i, ok = plainNumericDate(data, i); !ok {
				return false
			}
			c.iat, c.hasIAT = time.Unix(sec, 0), true
		}
		if i = strictjson.SkipSpace(data, i); i == len(data) {
			return false
		}
		switch data[i] {
		case '}':
			return strictjson.SkipSpace(data, i+1) == len(data)
		case ',':
			i = strictjson.SkipSpace(data, i+1)
		default:
			return false
		}
	}
}

// plainNumericDate returns the value of the JSON number at data[i] and the
// index after its digits, when it is an integer of 1 to 12 digits without
// a leading zero (or "0") and at most maxNumericDate. A fraction or an
// exponent after the digits is left to the caller, which sees neither a
// ',' nor a '}' there and gives up.
func plainNumericDate(data []byte, i int) (sec int64, next int, ok bool) {
	j := i
	for ; j < len(data) && j-i <= 12 && '0' <= data[j] && data[j] <= '9'; j++ {
		sec = sec*10 + int64(data[j]-'0')
	}
	switch n := j - i; {
	case n == 0 || n > 12, n > 1 && data[i] == '0', sec > maxNumericDate:
		return 0, 0, false
	}
	return sec, j, true
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
