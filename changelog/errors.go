package changelog

import "errors"

var (
	// ErrNotFound reports a contact or cursor that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists reports an add of a contact ID that is already in the store.
	ErrExists = errors.New("already exists")
	// ErrFutureRevision reports a revision above the store's last one: a cursor that belongs to another store,
	// or to this store before it was replaced.
	ErrFutureRevision = errors.New("revision is newer than the store")
	// ErrInvalid reports an argument the store refuses: an empty contact ID or vCard, a malformed origin, a bad
	// option or migration file.
	ErrInvalid = errors.New("invalid argument")
	// ErrReadOnly reports a change attempted through the Tx of [Store.View].
	ErrReadOnly = errors.New("read-only transaction")
	// ErrClosed reports a call on a closed store.
	ErrClosed = errors.New("store is closed")
	// ErrSchemaTooNew reports a database written by a newer version of the program, whose schema this code does
	// not know; opening it anyway could corrupt it.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
	// ErrCorrupt reports a database whose contents break the store's invariants (for example a contact whose
	// revision is missing from the log).
	ErrCorrupt = errors.New("database is inconsistent")
)
