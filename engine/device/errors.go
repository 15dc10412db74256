package device

import (
	"errors"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// Errors a front end tells apart, to answer in its own terms (a CLI hint, a service's error code).
var (
	// ErrNotFound reports an unknown contact ID. It is changelog.ErrNotFound, so either matches.
	ErrNotFound = changelog.ErrNotFound
	// ErrExists reports an Add of an ID the store already holds. It is changelog.ErrExists.
	ErrExists = changelog.ErrExists
	// ErrUnknownRemote reports a remote name that is not configured. It is engine.ErrUnknownRemote.
	ErrUnknownRemote = engine.ErrUnknownRemote
	// ErrInvalid reports an argument the device refuses (a bad option, a remote config its kind cannot use).
	ErrInvalid = errors.New("invalid argument")
	// ErrEmptyInput reports an Add or Update given no contact at all.
	ErrEmptyInput = errors.New("the input is empty")
	// ErrNoConflict reports a conflict ID that matches no open conflict.
	ErrNoConflict = errors.New("no open conflict with that ID")
	// ErrAmbiguous reports a conflict ID prefix that several open conflicts share.
	ErrAmbiguous = errors.New("ambiguous conflict ID")
	// ErrContactGone reports a conflict whose contact was removed since the merge: there is nothing to put the
	// other value back into.
	ErrContactGone = errors.New("no longer exists")
	// ErrStale reports a conflict whose contact was edited since the merge, so taking the other value back
	// would overwrite the newer edit.
	ErrStale = errors.New("edited since the merge; it no longer holds the kept value")
	// ErrNoRemotes reports a sync asked of a device with no remote configured.
	ErrNoRemotes = errors.New("no remote configured")
	// ErrUnknownKind reports a remote of a kind this build cannot open.
	ErrUnknownKind = errors.New("unknown kind of remote")
	// ErrChooseCollection reports an account with several collections (address books) where none was named.
	ErrChooseCollection = errors.New("choose which address book to sync")
	// ErrDuplicate reports a collection that another remote of this device already syncs.
	ErrDuplicate = errors.New("already synced")
	// ErrUntrustedCertificate reports a server whose TLS certificate the device does not trust (a self-hosted
	// server with its own certificate authority needs that authority named: CardDAV's SettingCAFile).
	ErrUntrustedCertificate = errors.New("the server's certificate is not trusted")
	// ErrPasswordRefused reports a password the storage refused; nothing was saved.
	ErrPasswordRefused = errors.New("the server refused the password")
	// ErrNotChecked reports a password that could not be checked with the storage (it did not answer).
	ErrNotChecked = errors.New("could not check the password with the server")
	// ErrNoUsername reports a password given for a remote that has no user name.
	ErrNoUsername = errors.New("the remote has no user name, so no password")
)

// InputError reports a contact given to Add or Update that cannot be read: not one vCard, malformed mozContact
// JSON, or a UID that would change. Its message says what is wrong with the input and not where the input came
// from, which only the front end knows ("stdin: …", a request's field).
type InputError struct {
	Err error
}

func (e *InputError) Error() string { return e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }
