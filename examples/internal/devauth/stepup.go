package devauth

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Authentication context classes and methods devauth writes into tokens
// (acr, amr) and understands in acr_values.
const (
	// ACRMultiFactor is the acr of a sign-in with the second factor, the
	// value Auth0 sends and accepts in acr_values (OpenID PAPE).
	ACRMultiFactor = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
	// ACRPassword is the acr of a sign-in with the password alone (the
	// PAPE "no policy" value).
	ACRPassword = "http://schemas.openid.net/pape/policies/2007/06/none"
	// AMRPassword and AMRMultiFactor are the RFC 8176 amr values of the
	// password and of the second factor.
	AMRPassword    = "pwd"
	AMRMultiFactor = "mfa"
)

// maxOTPTries is how many wrong one-time codes end a sign-in.
const maxOTPTries = 5

// stepUpRequest is what /authorize asked of the user's authentication
// (OpenID Connect Core 3.1.2.1, as RFC 9470 section 4 uses it).
type stepUpRequest struct {
	// mfa: acr_values holds ACRMultiFactor. Other acr values are
	// voluntary and ignored: the acr claim says what was done.
	mfa bool
	// maxAge is max_age in seconds; -1 when absent.
	maxAge int64
}

// maxMaxAge bounds max_age: ten years is "any" for a development server,
// and the bound keeps the arithmetic far from overflow.
const maxMaxAge = 10 * 365 * 24 * 3600

// parseStepUp reads acr_values and max_age from an authorization request.
func parseStepUp(acrValues, maxAge string) (stepUpRequest, error) {
	req := stepUpRequest{maxAge: -1}
	req.mfa = slices.Contains(strings.Fields(acrValues), ACRMultiFactor)
	if maxAge != "" {
		n, err := strconv.ParseInt(maxAge, 10, 64)
		if err != nil || n < 0 || n > maxMaxAge || strconv.FormatInt(n, 10) != maxAge {
			return req, fmt.Errorf("max_age must be a non-negative whole number of seconds, not %q", maxAge)
		}
		req.maxAge = n
	}
	return req, nil
}

// tooOld reports whether a sign-in at authTime is older than max_age
// allows, so that the user must sign in again; max_age=0 always asks
// again, like prompt=login (OpenID Connect Core 3.1.2.1).
func (r stepUpRequest) tooOld(authTime, now time.Time) bool {
	return r.maxAge == 0 || (r.maxAge > 0 && now.Sub(authTime) > time.Duration(r.maxAge)*time.Second)
}

// acr returns the acr claim of an authentication with methods amr.
func acr(amr []string) string {
	if slices.Contains(amr, AMRMultiFactor) {
		return ACRMultiFactor
	}
	return ACRPassword
}

// needsSecondFactor reports whether the transaction must pass the second
// factor before it goes on.
func (tx *transaction) needsSecondFactor() bool {
	return tx.stepUp.mfa && !slices.Contains(tx.amr, AMRMultiFactor)
}

// secondFactor shows the second-factor page. This development server has
// no authenticator app: the one-time code is printed on the page and the
// user types it, which exercises the same redirects as a real second
// factor.
func (s *Server) secondFactor(w http.ResponseWriter, tx *transaction, status int, errMsg string) {
	if tx.otp == "" {
		tx.otp = oneTimeCode()
	}
	s.putTx(tx)
	s.render(w, status, "mfa", mfaView{Tx: tx.id, Client: tx.client.displayName(), Code: tx.otp, Error: errMsg})
}

// mfa checks the one-time code; on success the user's sign-in (and the
// browser's session) counts as multi-factor from now on.
func (s *Server) mfa(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	tx := s.takeTx(r, r.PostForm.Get("tx"))
	if tx != nil && (tx.userID == "" || tx.otp == "") {
		s.putTx(tx) // not at this step: the form that holds it goes on
		tx = nil
	}
	if tx == nil {
		s.errorPage(w, http.StatusBadRequest, "Login expired", "This verification form is no longer valid. Go back to the application and sign in again.")
		return
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if subtle.ConstantTimeCompare([]byte(code), []byte(tx.otp)) != 1 {
		tx.otpTries++
		if tx.otpTries >= maxOTPTries {
			s.errorPage(w, http.StatusUnauthorized, "Too many attempts", "The code was wrong too many times. Go back to the application and sign in again.")
			return
		}
		s.secondFactor(w, tx, http.StatusUnauthorized, "Wrong code.")
		return
	}
	now := s.now()
	tx.otp = ""
	if !slices.Contains(tx.amr, AMRMultiFactor) {
		tx.amr = append(slices.Clone(tx.amr), AMRMultiFactor)
	}
	tx.authTime = now
	s.mu.Lock()
	if sess := s.sessions[tx.browser]; sess != nil && sess.userID == tx.userID {
		sess.amr, sess.authTime = slices.Clone(tx.amr), now
	}
	s.mu.Unlock()
	s.afterLogin(w, r, tx)
}

// oneTimeCode returns six random digits.
func oneTimeCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000)) // crypto/rand never fails
	return fmt.Sprintf("%06d", n.Int64())
}

type mfaView struct {
	Tx, Client, Code, Error string
}

// addAuthentication adds how and when the user signed in: auth_time, acr
// and amr, to the ID token as OpenID Connect defines them and to the
// access token, where an API's step-up guard (RFC 9470) reads them. On a
// refresh they stay those of the sign-in: refreshing is not
// authenticating.
func addAuthentication(m map[string]any, g *grant) {
	m["auth_time"] = g.authTime.Unix()
	amr := g.amr
	if len(amr) == 0 {
		amr = []string{AMRPassword}
	}
	m["amr"] = slices.Clone(amr)
	m["acr"] = acr(amr)
}

var _ = template.Must(pages.New("mfa").Parse(`{{template "head" "Verify"}}
<h1>Verify it is you</h1>
<p><strong>{{.Client}}</strong> asks for a second factor.</p>
<p>Development second factor: your one-time code is <strong id="otp-code">{{.Code}}</strong>. Type it below.</p>
{{if .Error}}<p class="error" id="error">{{.Error}}</p>{{end}}
<form id="mfa-form" method="post" action="/u/mfa">
<input type="hidden" name="tx" value="{{.Tx}}">
<label>One-time code <input id="otp" name="code" inputmode="numeric" autocomplete="one-time-code" required></label>
<button id="verify" type="submit">Verify</button>
</form></body></html>
`))
