package claims

import "slices"

// Clone returns a copy of c that shares nothing writable with it: a
// handler that changes the copy's slices cannot change what another
// request sees. The validator's token cache hands each request a clone.
// Custom claims need no copy: they are read only through Get,
// DecodeCustom and Raw, which return copies or immutable strings.
//
// The copy's slices are backed by its own arrays when they fit, so a
// clone is one allocation.
func (c *Claims) Clone() *Claims {
	d := new(Claims)
	*d = *c
	room := d.strBuf[:]
	d.Audience = cloneInto(&room, c.Audience)
	d.Scopes = cloneInto(&room, c.Scopes)
	d.Permissions = cloneInto(&room, c.Permissions)
	if len(c.custom) <= len(d.customBuf) && c.custom != nil {
		// Not to keep c's arrays alive through d.
		d.custom = d.customBuf[:copy(d.customBuf[:], c.custom)]
	}
	return d
}

// cloneInto copies s into *room when it fits, and takes that part out of
// *room; a nil s stays nil.
func cloneInto(room *[]string, s []string) []string {
	if s == nil {
		return nil
	}
	if len(s) > len(*room) {
		return slices.Clone(s)
	}
	out := (*room)[:len(s):len(s)]
	copy(out, s)
	*room = (*room)[len(s):]
	return out
}
