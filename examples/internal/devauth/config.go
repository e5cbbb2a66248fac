// Package devauth is a development-only OAuth 2.0 / OpenID Connect
// authorization server shaped like an Auth0 tenant.
//
// It implements just enough of Auth0's behaviour to exercise apiguard end to
// end without an internet connection: the Authorization Code Flow with PKCE
// (/authorize with a login form and a consent step), the token endpoint
// (authorization_code and refresh_token grants with refresh token rotation),
// /userinfo, OpenID discovery and a JWKS. Access tokens are RS256 JWTs with
// the claims an Auth0 API receives (iss, sub, aud, azp, scope, permissions,
// org_id and namespaced custom claims), signed with a throwaway RSA key made
// at start-up.
//
// Everything is kept in memory. It is not a secure server: never expose it on
// a network, never use it in production.
package devauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/apiguard/apiguard/examples/internal/loopback"
)

// Client is a registered application, like Auth0's Applications > Regular Web
// Application (confidential, with a secret) or Single Page Application
// (public, no secret).
type Client struct {
	// ID is the client_id.
	ID string
	// Name is shown on the consent page.
	Name string
	// Secret is the client_secret. An empty Secret makes a public client,
	// which must use PKCE and cannot authenticate at the token endpoint.
	Secret string
	// Callbacks are the "Allowed Callback URLs": redirect_uri must match one
	// of them exactly.
	Callbacks []string
	// LogoutURLs are the "Allowed Logout URLs" accepted as returnTo by
	// /v2/logout.
	LogoutURLs []string
}

// API is a resource server, like Auth0's APIs section.
type API struct {
	// Identifier is the API's audience, for example
	// "https://contacts.example.com".
	Identifier string
	// Name is shown on the consent page.
	Name string
	// Scopes are the permissions the API defines. Requested scopes that are
	// not defined here are left out of access tokens.
	Scopes []string
	// RBAC mirrors "Enable RBAC": API scopes are limited to the user's
	// permissions.
	RBAC bool
	// PermissionsInToken mirrors "Add Permissions in the Access Token": the
	// permissions claim is added when RBAC is on.
	PermissionsInToken bool
	// AllowOfflineAccess mirrors "Allow Offline Access": refresh tokens are
	// issued only when it is on and offline_access is requested.
	AllowOfflineAccess bool
}

// User is a demo user of the tenant's database connection.
type User struct {
	// ID is the user_id and the sub claim, such as "auth0|alice".
	ID string
	// Username is typed into the login form.
	Username string
	// Password is typed into the login form; stored in clear text because
	// this is a development server.
	Password string
	// Name and Email fill the profile and email claims.
	Name  string
	Email string // also checked against invitations
	// Permissions lists, per API identifier, the permissions assigned to the
	// user (directly or through roles).
	Permissions map[string][]string
	// Organizations lists the IDs of the organizations the user is a member
	// of.
	Organizations []string
	// Hint describes the user on the login page when
	// Config.ShowUsersOnLogin is set, such as "holds read:contacts".
	Hint string
}

// Organization is an Auth0 Organization.
type Organization struct {
	// ID is the org_id, such as "org_acme".
	ID string
	// Name is the organization's name; /authorize accepts either.
	Name string
	// Invitations maps an invitation ticket ID to the invited e-mail address.
	// Logging in with a valid invitation makes the user a member.
	Invitations map[string]string
}

// Config configures a Server.
type Config struct {
	// Issuer is the issuer URL with a trailing slash, such as
	// "http://127.0.0.1:9000/". Its host must be a loopback address.
	Issuer string
	// Clients, APIs, Users and Organizations are the tenant's contents.
	Clients       []Client       // Applications
	APIs          []API          // APIs (resource servers)
	Users         []User         // the database connection's users
	Organizations []Organization // Organizations
	// DefaultAudience is used when /authorize has no audience parameter,
	// like the tenant setting "Default Audience". Empty means opaque access
	// tokens that only /userinfo accepts.
	DefaultAudience string
	// AccessTokenLifetime defaults to 24 hours (Auth0's default).
	AccessTokenLifetime time.Duration
	// IDTokenLifetime defaults to 10 hours.
	IDTokenLifetime time.Duration
	// CodeLifetime defaults to 60 seconds.
	CodeLifetime time.Duration
	// RefreshTokenLifetime is the absolute lifetime of a refresh token
	// family; it defaults to 30 days.
	RefreshTokenLifetime time.Duration
	// ShowUsersOnLogin lists every user with its password (and Hint) on
	// the login page, so that someone trying a demo tenant knows whom to
	// log in as. The users of a demo tenant are public anyway.
	ShowUsersOnLogin bool
	// Actions run after each successful login, in order, like an Auth0
	// post-login flow.
	Actions []PostLoginAction
	// Now returns the current time; it defaults to time.Now. Tests use it to
	// mint tokens that are already expired.
	Now func() time.Time
}

// PostLoginAction is a post-login hook mirroring an Auth0 Action's
// onExecutePostLogin(event, api). It may add claims and scopes through api or
// deny the login with api.Access.Deny. A returned error also denies the login.
type PostLoginAction func(ctx context.Context, event *PostLoginEvent, api *PostLoginAPI) error

// check validates the configuration and fills defaults.
func (c *Config) check() error {
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.HasSuffix(c.Issuer, "/") {
		return fmt.Errorf("devauth: issuer %q must be an absolute http(s) URL ending in /", c.Issuer)
	}
	if !loopback.IsLoopbackURL(c.Issuer) {
		return fmt.Errorf("devauth: issuer %q is not on a loopback address: this server is for development only", c.Issuer)
	}
	if len(c.Clients) == 0 {
		return errors.New("devauth: no clients configured")
	}
	seen := map[string]bool{}
	for _, cl := range c.Clients {
		if cl.ID == "" || seen[cl.ID] {
			return fmt.Errorf("devauth: client ID %q empty or duplicated", cl.ID)
		}
		seen[cl.ID] = true
		for _, cb := range cl.Callbacks {
			if p, err := url.Parse(cb); err != nil || !p.IsAbs() || p.Fragment != "" {
				return fmt.Errorf("devauth: client %q: callback %q must be an absolute URL without fragment", cl.ID, cb)
			}
		}
	}
	for _, a := range c.APIs {
		if a.Identifier == "" {
			return errors.New("devauth: API with empty identifier")
		}
	}
	for _, usr := range c.Users {
		if usr.ID == "" || usr.Username == "" {
			return errors.New("devauth: user with empty ID or username")
		}
	}
	if c.DefaultAudience != "" && c.api(c.DefaultAudience) == nil {
		return fmt.Errorf("devauth: default audience %q is not a configured API", c.DefaultAudience)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AccessTokenLifetime, 24*time.Hour)
	def(&c.IDTokenLifetime, 10*time.Hour)
	def(&c.CodeLifetime, time.Minute)
	def(&c.RefreshTokenLifetime, 30*24*time.Hour)
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

func (c *Config) client(id string) *Client {
	for i := range c.Clients {
		if c.Clients[i].ID == id {
			return &c.Clients[i]
		}
	}
	return nil
}

func (c *Config) api(identifier string) *API {
	for i := range c.APIs {
		if c.APIs[i].Identifier == identifier {
			return &c.APIs[i]
		}
	}
	return nil
}

func (c *Config) userByID(id string) *User {
	for i := range c.Users {
		if c.Users[i].ID == id {
			return &c.Users[i]
		}
	}
	return nil
}

func (c *Config) userByName(name string) *User {
	for i := range c.Users {
		if strings.EqualFold(c.Users[i].Username, name) {
			return &c.Users[i]
		}
	}
	return nil
}

// organization finds an organization by ID or by name, as /authorize does.
func (c *Config) organization(idOrName string) *Organization {
	for i := range c.Organizations {
		if c.Organizations[i].ID == idOrName || strings.EqualFold(c.Organizations[i].Name, idOrName) {
			return &c.Organizations[i]
		}
	}
	return nil
}

// isMember reports whether the user belongs to the organization.
func (u *User) isMember(orgID string) bool {
	return slices.Contains(u.Organizations, orgID)
}
