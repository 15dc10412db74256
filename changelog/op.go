package changelog

import "fmt"

// Op is the kind of a change in the log or of a task yielded by [Store.Sync]. The numbers are stored in the
// database and never change.
type Op uint8

const (
	// OpAdd creates a contact.
	OpAdd Op = 1
	// OpUpdate replaces the vCard (and source) of an existing contact.
	OpUpdate Op = 2
	// OpRemove deletes a contact.
	OpRemove Op = 3
	// OpClear deletes every contact.
	OpClear Op = 4
	// OpDone ends a [Store.Sync]; it is never stored.
	OpDone Op = 5
)

// String gives the DataStore name of the operation: "add", "update", "remove", "clear" or "done".
func (o Op) String() string {
	switch o {
	case OpAdd:
		return "add"
	case OpUpdate:
		return "update"
	case OpRemove:
		return "remove"
	case OpClear:
		return "clear"
	case OpDone:
		return "done"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}
