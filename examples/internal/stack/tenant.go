// Package stack wires the three example servers together: the devauth
// authorization server with the demo tenant, the protected API and the web
// application, each on its own loopback port. The demo and the end-to-end
// tests both start it.
package stack

import (
	"context"
	"strings"

	"github.com/apiguard/apiguard/examples/internal/devauth"
)

// Names of the demo tenant.
const (
	// Audience is the API identifier of the contacts API.
	Audience = "https://contacts.example.com"
	// ClientID is the confidential web application.
	ClientID = "demo-webapp"
	// PublicClientID is a public client (no secret): it must use PKCE.
	PublicClientID = "demo-spa"
	// OrgAcme is the organization alice belongs to and carol is invited to.
	OrgAcme = "org_acme"
	// OrgGlobex is an organization nobody belongs to.
	OrgGlobex = "org_globex"
	// CarolInvitation is carol's invitation ticket to OrgAcme.
	CarolInvitation = "inv_carol"
	// RolesClaim and GreetingClaim are the namespaced claims the demo's
	// post-login action adds.
	RolesClaim    = "https://example.com/roles"
	GreetingClaim = "https://foo/bar"
)

// DemoUser is a user of the demo tenant.
type DemoUser struct {
	Username, Password string // what to type into the login form
}

// Demo users. alice holds read:contacts and write:contacts and belongs to
// org_acme; bob holds no permission; carol is invited to org_acme.
var (
	Alice = DemoUser{"alice", "wonderland"}
	Bob   = DemoUser{"bob", "builder"}
	Carol = DemoUser{"carol", "singer"}
)

// demoRoles feeds the post-login action, like role assignments in Auth0.
var demoRoles = map[string][]string{
	"auth0|alice": {"admin", "editor"},
	"auth0|bob":   {"viewer"},
}

// Tenant returns the demo tenant for an authorization server at issuer.
// appBaseURLs are the web application's origins (such as
// "http://127.0.0.1:3000"): each gets base+"/callback" as an allowed
// callback and base+"/" as an allowed logout URL.
func Tenant(issuer, clientSecret string, appBaseURLs ...string) devauth.Config {
	var callbacks, logouts []string
	for _, b := range appBaseURLs {
		b = strings.TrimSuffix(b, "/")
		callbacks = append(callbacks, b+"/callback")
		logouts = append(logouts, b+"/")
	}
	return devauth.Config{
		Issuer: issuer,
		Clients: []devauth.Client{
			{ID: ClientID, Name: "Demo Web App", Secret: clientSecret, Callbacks: callbacks, LogoutURLs: logouts},
			{ID: PublicClientID, Name: "Demo SPA", Callbacks: callbacks, LogoutURLs: logouts},
		},
		APIs: []devauth.API{{
			Identifier:         Audience,
			Name:               "Contacts API",
			Scopes:             []string{"read:contacts", "write:contacts"},
			RBAC:               true,
			PermissionsInToken: true,
			AllowOfflineAccess: true,
		}},
		Users: []devauth.User{
			{
				ID: "auth0|alice", Username: Alice.Username, Password: Alice.Password,
				Name: "Alice Liddell", Email: "alice@example.com",
				Permissions:   map[string][]string{Audience: {"read:contacts", "write:contacts"}},
				Organizations: []string{OrgAcme},
				Hint:          "read:contacts and write:contacts, member of " + OrgAcme,
			},
			{
				ID: "auth0|bob", Username: Bob.Username, Password: Bob.Password,
				Name: "Bob Builder", Email: "bob@example.com",
				Hint: "no permission: /api/contacts answers 403",
			},
			{
				ID: "auth0|carol", Username: Carol.Username, Password: Carol.Password,
				Name: "Carol Singer", Email: "carol@example.com",
				Permissions: map[string][]string{Audience: {"read:contacts"}},
				Hint:        "read:contacts; invited to " + OrgAcme + " with invitation " + CarolInvitation,
			},
		},
		Organizations: []devauth.Organization{
			{ID: OrgAcme, Name: "acme", Invitations: map[string]string{CarolInvitation: "carol@example.com"}},
			{ID: OrgGlobex, Name: "globex"},
		},
		Actions:          []devauth.PostLoginAction{AddRoles},
		ShowUsersOnLogin: true, // a demo tenant's users are public
	}
}

// AddRoles is the demo's post-login action, the Go twin of:
//
//	exports.onExecutePostLogin = async (event, api) => {
//	  api.accessToken.setCustomClaim("https://example.com/roles", roles);
//	  api.idToken.setCustomClaim("https://example.com/roles", roles);
//	  api.accessToken.setCustomClaim("https://foo/bar", "...");
//	};
func AddRoles(_ context.Context, event *devauth.PostLoginEvent, api *devauth.PostLoginAPI) error {
	roles := demoRoles[event.User.ID]
	if roles == nil {
		roles = []string{}
	}
	api.AccessToken.SetCustomClaim(RolesClaim, roles)
	api.IDToken.SetCustomClaim(RolesClaim, roles)
	api.AccessToken.SetCustomClaim(GreetingClaim, "hello from a post-login action")
	return nil
}
