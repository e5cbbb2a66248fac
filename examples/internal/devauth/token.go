package devauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// verifierRE is RFC 7636's code_verifier syntax.
var verifierRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// tokenResponse is the token endpoint's success answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, errorf(http.StatusMethodNotAllowed, "invalid_request", "The token endpoint only accepts POST"))
		return
	}
	w.Header().Set("Pragma", "no-cache")
	form, oerr := readTokenForm(w, r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	client, oerr := s.authenticateClient(w, r, form)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	jkt, oerr := s.tokenProof(r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	var resp *tokenResponse
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		resp, oerr = s.codeGrant(client, form, jkt)
	case "refresh_token":
		resp, oerr = s.refreshGrant(client, form, jkt)
	case "":
		oerr = errorf(http.StatusBadRequest, "invalid_request", "Missing required parameter: grant_type")
	case "client_credentials", "password", "http://auth0.com/oauth/grant-type/password-realm",
		"urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer":
		oerr = errorf(http.StatusForbidden, "unauthorized_client", "Grant type '%s' not allowed for the client.", gt)
	default:
		oerr = errorf(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: %s", gt)
	}
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// readTokenForm reads an application/x-www-form-urlencoded body, or a JSON
// object of strings as Auth0 also accepts. Repeated parameters are refused.
func readTokenForm(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	form := url.Values{}
	switch mt {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid_request", "The request body could not be parsed")
		}
		form = r.PostForm
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid_request", "The request body could not be parsed")
		}
		for k, v := range m {
			str, ok := v.(string)
			if !ok {
				return nil, errorf(http.StatusBadRequest, "invalid_request", "Parameter %q must be a string", k)
			}
			form.Set(k, str)
		}
	default:
		return nil, errorf(http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded or application/json")
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, errorf(http.StatusBadRequest, "invalid_request", "Parameter %q must not be repeated", k)
		}
	}
	return form, nil
}

// authenticateClient identifies the client by HTTP Basic or by client_id and
// client_secret in the body. Confidential clients must present their secret;
// public clients present none.
func (s *Server) authenticateClient(w http.ResponseWriter, r *http.Request, form url.Values) (*Client, *oauthError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 2.3.1: Basic credentials are form-urlencoded first.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, invalidClient(w, true)
		}
		if form.Has("client_secret") || (form.Has("client_id") && form.Get("client_id") != id) {
			return nil, errorf(http.StatusBadRequest, "invalid_request", "Use only one client authentication method")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" {
		return nil, errorf(http.StatusUnauthorized, "invalid_client", "Missing required parameter: client_id")
	}
	client := s.cfg.client(id)
	if client == nil {
		return nil, invalidClient(w, basic)
	}
	if client.Secret == "" {
		if secret != "" {
			return nil, invalidClient(w, basic)
		}
		return client, nil
	}
	if subtle.ConstantTimeCompare([]byte(client.Secret), []byte(secret)) != 1 {
		return nil, invalidClient(w, basic)
	}
	return client, nil
}

func invalidClient(w http.ResponseWriter, basic bool) *oauthError {
	if basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="devauth"`)
	}
	return errorf(http.StatusUnauthorized, "invalid_client", "Client authentication failed")
}

func (s *Server) codeGrant(client *Client, form url.Values, jkt string) (*tokenResponse, *oauthError) {
	code := form.Get("code")
	if code == "" {
		return nil, errorf(http.StatusBadRequest, "invalid_request", "Missing required parameter: code")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.codes[code]
	switch {
	case ac == nil, s.now().After(ac.expires):
		return nil, errorf(http.StatusForbidden, "invalid_grant", "Invalid authorization code")
	case ac.used:
		// RFC 6749 4.1.2: a reused code revokes what it issued.
		if ac.family != nil {
			ac.family.revoked = true
		}
		return nil, errorf(http.StatusForbidden, "invalid_grant", "Invalid authorization code")
	case ac.grant.clientID != client.ID:
		return nil, errorf(http.StatusForbidden, "invalid_grant", "Invalid authorization code")
	case form.Get("redirect_uri") != ac.redirectURI:
		return nil, errorf(http.StatusForbidden, "invalid_grant", "The redirect_uri must match the one of the authorization request")
	case checkKeyBinding(ac.dpopJKT, jkt) != nil:
		return nil, checkKeyBinding(ac.dpopJKT, jkt)
	}
	verifier := form.Get("code_verifier")
	if ac.challenge != "" || verifier != "" {
		if ac.challenge == "" || !verifierRE.MatchString(verifier) {
			return nil, errorf(http.StatusForbidden, "invalid_grant", "Failed to verify code verifier")
		}
		sum := sha256.Sum256([]byte(verifier))
		if subtle.ConstantTimeCompare([]byte(b64.EncodeToString(sum[:])), []byte(ac.challenge)) != 1 {
			return nil, errorf(http.StatusForbidden, "invalid_grant", "Failed to verify code verifier")
		}
	}
	if oerr := s.checkTokenResource(form, ac.grant); oerr != nil {
		return nil, oerr
	}
	// Used only once the request is known good, so that a typo in the
	// verifier does not burn the code.
	ac.used = true
	resp, fam, oerr := s.issueLocked(ac.grant, ac.grant.scopes, nil, jkt)
	ac.family = fam
	return resp, oerr
}

func (s *Server) refreshGrant(client *Client, form url.Values, jkt string) (*tokenResponse, *oauthError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, errorf(http.StatusBadRequest, "invalid_request", "Missing required parameter: refresh_token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.refresh[rt]
	if e == nil || e.family.revoked || s.now().After(e.family.expires) || e.family.grant.clientID != client.ID {
		return nil, errorf(http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
	}
	if e.used {
		// Reuse of a rotated token: someone holds a stolen copy. Revoke the
		// whole family, as Auth0's reuse detection does.
		e.family.revoked = true
		return nil, errorf(http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
	}
	if oerr := checkKeyBinding(e.family.jkt, jkt); oerr != nil {
		return nil, oerr
	}
	g := e.family.grant
	scopes := g.scopes
	if form.Has("scope") {
		scopes = strings.Fields(form.Get("scope"))
		for _, sc := range scopes {
			if !slices.Contains(g.scopes, sc) {
				return nil, errorf(http.StatusForbidden, "access_denied", "The requested scope %q was not granted; a refresh can only narrow the scope", sc)
			}
		}
	}
	if oerr := s.checkTokenResource(form, g); oerr != nil {
		return nil, oerr
	}
	e.used = true
	resp, _, oerr := s.issueLocked(g, scopes, e.family, jkt)
	return resp, oerr
}

// issueLocked mints the tokens of one token response. scopes is the
// access token's scope (narrower than g.scopes after a narrowing refresh).
// fam is the refresh token family to continue, nil for a new one. jkt is
// the thumbprint of the request's DPoP key, "" for none: the access token
// and a new family are bound to it. s.mu must be held.
func (s *Server) issueLocked(g *grant, scopes []string, fam *family, jkt string) (*tokenResponse, *family, *oauthError) {
	now := s.now()
	user := s.cfg.userByID(g.userID)
	if user == nil {
		return nil, nil, errorf(http.StatusForbidden, "invalid_grant", "The user no longer exists")
	}
	resp := &tokenResponse{
		TokenType: "Bearer",
		ExpiresIn: int64(s.cfg.AccessTokenLifetime / time.Second),
		Scope:     strings.Join(scopes, " "),
	}
	openid := slices.Contains(scopes, "openid")

	if g.audience == "" {
		// No API: an opaque token that only /userinfo accepts, as Auth0
		// issues.
		resp.AccessToken = randomToken()
		s.opaque[resp.AccessToken] = &opaqueToken{grant: g, expires: now.Add(s.cfg.AccessTokenLifetime)}
	} else {
		at := map[string]any{}
		for k, v := range g.atClaims {
			at[k] = v
		}
		at["iss"] = s.cfg.Issuer
		at["sub"] = g.userID
		if openid {
			at["aud"] = []string{g.audience, s.url("userinfo")}
		} else {
			at["aud"] = g.audience
		}
		at["iat"] = now.Unix()
		at["exp"] = now.Add(s.cfg.AccessTokenLifetime).Unix()
		at["scope"] = resp.Scope
		at["azp"] = g.clientID
		bindAccessToken(resp, at, jkt)
		if api := s.cfg.api(g.audience); api != nil && api.RBAC && api.PermissionsInToken {
			perms := user.Permissions[g.audience]
			if perms == nil {
				perms = []string{}
			}
			at["permissions"] = perms
		}
		if g.orgID != "" {
			at["org_id"] = g.orgID
		}
		addAuthentication(at, g)
		var err error
		if resp.AccessToken, err = s.key.sign(at); err != nil {
			return nil, nil, errorf(http.StatusForbidden, "access_denied", "Could not sign the access token")
		}
	}

	if openid {
		id := map[string]any{}
		for k, v := range g.idClaims {
			id[k] = v
		}
		id["iss"] = s.cfg.Issuer
		id["sub"] = g.userID
		id["aud"] = g.clientID
		id["iat"] = now.Unix()
		id["exp"] = now.Add(s.cfg.IDTokenLifetime).Unix()
		addAuthentication(id, g)
		if g.nonce != "" && fam == nil {
			id["nonce"] = g.nonce
		}
		if g.orgID != "" {
			id["org_id"] = g.orgID
		}
		addProfile(id, user, scopes)
		var err error
		if resp.IDToken, err = s.key.sign(id); err != nil {
			return nil, nil, errorf(http.StatusForbidden, "access_denied", "Could not sign the ID token")
		}
	}

	// A refresh token needs offline_access in the grant (kept there only
	// when the API allows offline access). A narrowing refresh still
	// rotates: the family keeps the original grant.
	if slices.Contains(g.scopes, "offline_access") {
		if fam == nil {
			fam = &family{grant: g, expires: now.Add(s.cfg.RefreshTokenLifetime), jkt: jkt}
		}
		resp.RefreshToken = randomToken()
		s.refresh[resp.RefreshToken] = &refreshEntry{family: fam}
		s.sweepLocked()
	}
	return resp, fam, nil
}

// addProfile adds the standard claims the scopes ask for.
func addProfile(m map[string]any, u *User, scopes []string) {
	if slices.Contains(scopes, "profile") {
		m["name"] = u.Name
		m["nickname"] = u.Username
	}
	if slices.Contains(scopes, "email") {
		m["email"] = u.Email
		m["email_verified"] = u.Email != ""
	}
}
