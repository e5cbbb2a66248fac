package claims

import "slices"

// Clone returns a copy of c that shares nothing writable with it: a
// handler that changes the copy's slices cannot change what another
// request sees. The validator's token cache hands each request a clone.
// Custom claims need no copy: they are read only through Get,
// DecodeCustom and Raw, which return copies.
func (c *Claims) Clone() *Claims {
	d := *c
	d.Audience = slices.Clone(c.Audience)
	d.Scopes = slices.Clone(c.Scopes)
	d.Permissions = slices.Clone(c.Permissions)
	return &d
}
