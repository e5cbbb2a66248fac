package webapp

import (
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// steppedUp marks the call made again after a step-up sign-in, so that a
// second insufficient_user_authentication is shown instead of looping.
const steppedUp = "stepped-up"

// stepUp is what an RFC 9470 challenge asks of the next sign-in.
type stepUp struct {
	acrValues string // space-separated; "" for none
	maxAge    string // seconds; "" for none
}

// authParams are the /authorize parameters that ask for it.
func (s stepUp) authParams() []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	if s.acrValues != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", s.acrValues))
	}
	if s.maxAge != "" {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", s.maxAge))
	}
	return opts
}

// stepUpChallenge reports whether the API refused the call with
// error="insufficient_user_authentication" (RFC 9470 section 3) and returns
// the acr_values and max_age of its challenge. Only a call that carried a
// token counts: without one, the user has to sign in at all.
func stepUpChallenge(res APIResult) (stepUp, bool) {
	if res.Status != http.StatusUnauthorized || !res.SentToken {
		return stepUp{}, false
	}
	scheme, params, ok := parseChallenge(res.WWWAuthenticate)
	if !ok || (!strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "DPoP")) ||
		params["error"] != "insufficient_user_authentication" {
		return stepUp{}, false
	}
	su := stepUp{acrValues: strings.Join(strings.Fields(params["acr_values"]), " ")}
	if n, err := strconv.ParseUint(params["max_age"], 10, 31); err == nil {
		su.maxAge = strconv.FormatUint(n, 10)
	}
	return su, true
}

// parseChallenge parses one challenge of a WWW-Authenticate header (RFC
// 7235 section 2.1): the scheme and its auth-params, names in lower case,
// values unquoted. It reports false for anything it cannot parse fully,
// including a header with a second challenge after the first.
func parseChallenge(h string) (scheme string, params map[string]string, ok bool) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	if scheme == "" || !isToken(scheme) {
		return "", nil, false
	}
	params = map[string]string{}
	rest = strings.TrimLeft(rest, " \t")
	for rest != "" {
		var name string
		i := strings.IndexAny(rest, "= \t")
		if i <= 0 || !isToken(rest[:i]) {
			return "", nil, false
		}
		name, rest = strings.ToLower(rest[:i]), strings.TrimLeft(rest[i:], " \t")
		if !strings.HasPrefix(rest, "=") {
			return "", nil, false // a second challenge, or token68
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		var value string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			j := 1
			for ; j < len(rest) && rest[j] != '"'; j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
				}
				b.WriteByte(rest[j])
			}
			if j >= len(rest) {
				return "", nil, false // unterminated
			}
			value, rest = b.String(), rest[j+1:]
		} else {
			j := strings.IndexAny(rest, ", \t")
			if j < 0 {
				j = len(rest)
			}
			value, rest = rest[:j], rest[j:]
			if !isToken(value) {
				return "", nil, false
			}
		}
		if _, dup := params[name]; dup {
			return "", nil, false // RFC 7235: each parameter once
		}
		params[name] = value
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		if !strings.HasPrefix(rest, ",") {
			return "", nil, false
		}
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	return scheme, params, true
}

// isToken reports whether s is an RFC 7230 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
