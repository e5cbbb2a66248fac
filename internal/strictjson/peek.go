package strictjson

import (
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// PeekString returns the value of the first top-level member of the JSON
// object p named name (unquoted, without escapes) without decoding the
// rest. ok is false when the member is absent, not a string, or p is not
// a JSON object. The bytes may alias p.
//
// It only finds the member and skips the others, without checking what it
// skips: the caller's strict parse checks everything afterwards. For every
// payload that claims.Parse accepts, PeekString(p, "iss") returns the
// Issuer that Parse returns (a fuzz test in package validator holds it to
// that), so a caller can refuse early on it but never accept.
func PeekString(p []byte, name string) (val []byte, ok bool) {
	i := SkipSpace(p, 0)
	if i == len(p) || p[i] != '{' {
		return nil, false
	}
	for i++; ; i++ { // i++: past '{' or ','
		i = SkipSpace(p, i)
		start0 := i
		if i, ok = skipString(p, i); !ok {
			return nil, false
		}
		nameEnd := i
		match := nameEnd-start0 == len(name)+2 && string(p[start0+1:nameEnd-1]) == name
		if i = SkipSpace(p, i); i == len(p) || p[i] != ':' {
			return nil, false
		}
		start := SkipSpace(p, i+1)
		if i, ok = skipValue(p, start); !ok {
			return nil, false
		}
		if match {
			v := jsontext.Value(p[start:i])
			if v.Kind() != '"' {
				return nil, false
			}
			if plain := Plain(v); plain != nil {
				if !utf8.Valid(plain) {
					return nil, false
				}
				return plain, true
			}
			u, err := jsontext.AppendUnquote(nil, v)
			return u, err == nil
		}
		if i = SkipSpace(p, i); i == len(p) || p[i] != ',' {
			return nil, false
		}
	}
}

// skipString returns the index after the JSON string at p[i]. Strings
// without escapes, nearly all of them, take scanString's word-at-a-time
// path.
func skipString(p []byte, i int) (int, bool) {
	if i == len(p) || p[i] != '"' {
		return i, false
	}
	if end, _, ok := scanString(p, i); ok {
		return end + 1, true
	}
	for i++; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return i, false
}

func skipValue(p []byte, i int) (int, bool) {
	if i == len(p) {
		return i, false
	}
	switch p[i] {
	case '"':
		return skipString(p, i)
	case '{', '[':
		depth := 0
		for i < len(p) {
			switch p[i] {
			case '"':
				var ok bool
				if i, ok = skipString(p, i); !ok {
					return i, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	}
	start := i
	for i < len(p) && p[i] != ',' && p[i] != '}' && p[i] != ']' && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' {
		i++
	}
	return i, i > start
}
