package carddav

import "errors"

// Sentinels for the status codes a caller reacts to. An *HTTPError unwraps to the one matching its status,
// so errors.Is(err, ErrPreconditionFailed) works on anything a Client method returns.
var (
	ErrUnauthorized        = errors.New("unauthorized (401)")
	ErrForbidden           = errors.New("forbidden (403)")
	ErrNotFound            = errors.New("not found (404/410)")
	ErrMethodNotAllowed    = errors.New("method not allowed (405)")
	ErrConflict            = errors.New("conflict (409)")
	ErrPreconditionFailed  = errors.New("precondition failed (412)")
	ErrTooLarge            = errors.New("request too large (413)")
	ErrRateLimited         = errors.New("rate limited (429)")
	ErrServer              = errors.New("server error (5xx)")
	ErrInsufficientStorage = errors.New("insufficient storage (507)")
)

// Sentinels for conditions that are not one status code.
var (
	// ErrInvalidSyncToken means the server no longer accepts the sync token: the caller lists the whole
	// collection again (sync with an empty token) and reconciles.
	ErrInvalidSyncToken = errors.New("sync token no longer valid")
	// ErrNotSupported means the server does not implement a report (sync-collection, addressbook-multiget).
	ErrNotSupported = errors.New("not supported by the server")
	// ErrInsecureAuth refuses to send a password in clear text to a host that is not this machine.
	ErrInsecureAuth = errors.New("basic auth over plain http is refused except to loopback hosts")
	// ErrBadHref marks an href that is malformed or outside the collection it was listed in.
	ErrBadHref = errors.New("href outside the collection")
	// ErrResponseTooLarge means a response body went past the client's limit and was not read further.
	ErrResponseTooLarge = errors.New("response body over the size limit")
	// ErrMalformedResponse means the server answered something this client cannot interpret.
	ErrMalformedResponse = errors.New("malformed response")
	// ErrIncompleteResponse means a multiget answer left out a member that was asked for.
	ErrIncompleteResponse = errors.New("member missing from the server's response")
	// ErrNoAddressBook means discovery found no address book, or none matching the caller's choice.
	ErrNoAddressBook = errors.New("no matching address book")
)
