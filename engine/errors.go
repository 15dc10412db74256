package engine

import "errors"

var (
	// ErrUnknownRemote reports a remote name that is not configured.
	ErrUnknownRemote = errors.New("no such remote")
	// ErrRemoteExists reports an AddRemote of a name already in use.
	ErrRemoteExists = errors.New("remote already exists")
	// ErrInvalid reports an argument the engine refuses (an empty or malformed remote name, a bad option).
	ErrInvalid = errors.New("invalid argument")
	// ErrCredentialsRejected reports that the server answered 401: the remote is stopped until its
	// credentials are replaced, because retrying with the same ones cannot succeed.
	ErrCredentialsRejected = errors.New("credentials rejected")
	// ErrMassDeletion stops a pull that would delete most (or all) of the contacts synced with a remote: a
	// server that suddenly lists nothing more likely lost its data than its user deleted everything. Run the
	// sync again with AllowMassDeletion to apply it.
	ErrMassDeletion = errors.New("refusing a mass deletion")
	// ErrTooManyConflicts reports a contact that kept changing on the server while the engine merged it; the
	// next sync tries again.
	ErrTooManyConflicts = errors.New("contact keeps changing on the server")
)
