package conflict

import "errors"

var (
	// ErrUIDMismatch: the versions given to Merge are not the same contact.
	ErrUIDMismatch = errors.New("uid mismatch")
	// ErrStale: Resolve was given a card that no longer holds the conflict's
	// winning value (it changed since the merge), so swapping in the loser
	// could overwrite a newer edit.
	ErrStale = errors.New("card no longer holds the winner")
	// ErrBadConflict: Resolve was given a Conflict whose lines do not parse.
	ErrBadConflict = errors.New("conflict lines do not parse")
)
