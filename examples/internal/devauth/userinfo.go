package devauth

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// userinfo answers GET or POST /userinfo for an access token that was
// granted the openid scope: a JWT whose audience includes {issuer}userinfo,
// or an opaque token.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeOAuthError(w, errorf(http.StatusMethodNotAllowed, "invalid_request", "Use GET or POST"))
		return
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="devauth"`)
		writeOAuthError(w, errorf(http.StatusUnauthorized, "invalid_request", "Missing bearer token"))
		return
	}
	userID, scopes, orgID, ok := s.introspect(token)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="devauth", error="invalid_token"`)
		writeOAuthError(w, errorf(http.StatusUnauthorized, "invalid_token", "Invalid or expired access token"))
		return
	}
	if !slices.Contains(scopes, "openid") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="devauth", error="insufficient_scope", scope="openid"`)
		writeOAuthError(w, errorf(http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope"))
		return
	}
	user := s.cfg.userByID(userID)
	if user == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="devauth", error="invalid_token"`)
		writeOAuthError(w, errorf(http.StatusUnauthorized, "invalid_token", "Unknown user"))
		return
	}
	out := map[string]any{"sub": user.ID}
	addProfile(out, user, scopes)
	if orgID != "" {
		out["org_id"] = orgID
	}
	writeJSON(w, http.StatusOK, out)
}

// introspect validates an access token this server issued.
func (s *Server) introspect(token string) (userID string, scopes []string, orgID string, ok bool) {
	now := s.now()
	s.mu.Lock()
	o := s.opaque[token]
	s.mu.Unlock()
	if o != nil {
		if now.After(o.expires) {
			return "", nil, "", false
		}
		return o.grant.userID, o.grant.scopes, o.grant.orgID, true
	}
	claims, err := s.key.verify(token)
	if err != nil {
		return "", nil, "", false
	}
	exp, _ := claims["exp"].(float64)
	iss, _ := claims["iss"].(string)
	if iss != s.cfg.Issuer || time.Unix(int64(exp), 0).Before(now) || !hasAudience(claims["aud"], s.url("userinfo")) {
		return "", nil, "", false
	}
	sub, _ := claims["sub"].(string)
	scope, _ := claims["scope"].(string)
	org, _ := claims["org_id"].(string)
	return sub, strings.Fields(scope), org, sub != ""
}

func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, v := range a {
			if v == want {
				return true
			}
		}
	}
	return false
}
