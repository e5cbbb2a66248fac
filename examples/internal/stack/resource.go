package stack

import (
	"maps"
	"slices"

	"github.com/apiguard/apiguard/examples/internal/devauth"
)

// AddResource registers another API of the demo tenant, such as the MCP
// server's canonical URL, with the scopes and settings of the contacts API,
// and gives every user the same permissions for it as for the contacts API:
// a token for it is then obtained exactly like one for the contacts API,
// with audience or resource (RFC 8707) set to identifier.
func AddResource(cfg *devauth.Config, identifier, name string) {
	for _, a := range cfg.APIs {
		if a.Identifier == identifier {
			return // registered already
		}
	}
	for _, a := range cfg.APIs {
		if a.Identifier != Audience {
			continue
		}
		a.Identifier, a.Name, a.Scopes = identifier, name, slices.Clone(a.Scopes)
		cfg.APIs = append(cfg.APIs, a)
		break
	}
	for i := range cfg.Users {
		u := &cfg.Users[i]
		if p, ok := u.Permissions[Audience]; ok {
			u.Permissions = maps.Clone(u.Permissions)
			u.Permissions[identifier] = slices.Clone(p)
		}
	}
}
