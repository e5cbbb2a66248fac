package webapp

import (
	"crypto/subtle"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// sessionCookie holds only a random session ID; tokens stay on the server.
const sessionCookie = "webapp_session"

// sessionIdle is how long an unused session is kept.
const sessionIdle = 8 * time.Hour

// Profile holds the ID token claims the application shows.
type Profile struct {
	Subject string `json:"sub"`    // the user ID
	Name    string `json:"name"`   // display name (profile scope)
	Email   string `json:"email"`  // e-mail (email scope)
	OrgID   string `json:"org_id"` // organization, if one was chosen
}

// pendingLogin is what a sign-in needs to remember between /login and the
// callback.
type pendingLogin struct {
	state    string
	verifier string
	nonce    string
	org      string
	stepUp   stepUp // acr_values and max_age of an RFC 9470 challenge
	returnTo string // a path of this app to go to after the sign-in; "" means /
}

// afterSignIn is where the browser goes once signed in.
func (p *pendingLogin) afterSignIn() string {
	if p.returnTo == "" {
		return "/"
	}
	return p.returnTo
}

func (p *pendingLogin) stateMatches(state string) bool {
	return state != "" && subtle.ConstantTimeCompare([]byte(state), []byte(p.state)) == 1
}

// session is one browser's state.
type session struct {
	id       string       // guarded by the store's mu
	lastUsed atomic.Int64 // unix nanoseconds; atomic so that the store never waits for mu

	dpop dpopKey // the session's DPoP key (dpop.go)

	mu      sync.Mutex // held during a refresh: rotation allows one at a time
	pending *pendingLogin
	profile *Profile
	token   *oauth2.Token
}

func (s *session) signedIn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token != nil
}

// sessionStore keeps sessions in memory.
type sessionStore struct {
	secure bool

	mu   sync.Mutex
	byID map[string]*session
}

func newSessionStore(secure bool) *sessionStore {
	return &sessionStore{secure: secure, byID: map[string]*session{}}
}

// get returns the request's session, or nil.
func (st *sessionStore) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.byID[c.Value]
	if s == nil {
		return nil
	}
	s.lastUsed.Store(time.Now().UnixNano())
	return s
}

// getOrCreate returns the request's session, creating one (and its cookie)
// if needed.
func (st *sessionStore) getOrCreate(w http.ResponseWriter, r *http.Request) *session {
	if s := st.get(r); s != nil {
		return s
	}
	s := &session{id: oauth2.GenerateVerifier()}
	s.lastUsed.Store(time.Now().UnixNano())
	st.mu.Lock()
	st.sweepLocked()
	st.byID[s.id] = s
	st.mu.Unlock()
	st.setCookie(w, s.id, 0)
	return s
}

// signIn stores the user's tokens under a new session ID.
func (st *sessionStore) signIn(w http.ResponseWriter, s *session, p *Profile, t *oauth2.Token) {
	s.mu.Lock()
	s.profile, s.token = p, t
	s.mu.Unlock()
	st.mu.Lock()
	delete(st.byID, s.id)
	s.id = oauth2.GenerateVerifier()
	st.byID[s.id] = s
	id := s.id
	st.mu.Unlock()
	s.lastUsed.Store(time.Now().UnixNano())
	st.setCookie(w, id, 0)
}

// signOut forgets the session and its tokens.
func (st *sessionStore) signOut(w http.ResponseWriter, s *session) {
	st.mu.Lock()
	delete(st.byID, s.id)
	st.mu.Unlock()
	s.mu.Lock()
	s.profile, s.token, s.pending = nil, nil, nil
	s.mu.Unlock()
	st.setCookie(w, "", -1)
}

func (st *sessionStore) setCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: st.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (st *sessionStore) sweepLocked() {
	for id, s := range st.byID {
		if time.Since(time.Unix(0, s.lastUsed.Load())) > sessionIdle {
			delete(st.byID, id)
		}
	}
}
