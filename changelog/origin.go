package changelog

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Origin says where a change came from: [Local] for an edit made on the device, or "remote:<name>" (see
// [FromRemote]) for a change pulled from that remote. A sync worker uses it to avoid sending a remote its own
// changes back.
type Origin string

// Local is the origin of edits made on the device.
const Local Origin = "local"

const remotePrefix = "remote:"

// FromRemote is the origin of changes pulled from the remote called name.
func FromRemote(name string) Origin { return Origin(remotePrefix + name) }

// RemoteName gives the remote's name for a remote origin, and false for any other origin.
func (o Origin) RemoteName() (string, bool) {
	name, ok := strings.CutPrefix(string(o), remotePrefix)
	if !ok || name == "" {
		return "", false
	}
	return name, true
}

// Validate reports whether o is [Local] or a remote origin with a non-empty UTF-8 name.
func (o Origin) Validate() error {
	if o == Local {
		return nil
	}
	if name, ok := o.RemoteName(); ok && utf8.ValidString(name) {
		return nil
	}
	return fmt.Errorf("%w: origin %q is neither %q nor %q", ErrInvalid, string(o), Local, remotePrefix+"<name>")
}
