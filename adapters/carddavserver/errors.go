package carddavserver

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// Sentinel errors of the Server's Go API. Errors returned by the Server wrap one of them where one applies.
var (
	// ErrInvalidName reports a user or address-book name the server refuses (see docs/server.md for the rules).
	ErrInvalidName = errors.New("invalid name")
	// ErrUserExists reports an AddUser for a name that is taken.
	ErrUserExists = errors.New("user already exists")
	// ErrNoUser reports a user that does not exist.
	ErrNoUser = errors.New("no such user")
	// ErrNoAddressBook reports an address book that does not exist.
	ErrNoAddressBook = errors.New("no such address book")
	// ErrEmptyPassword refuses an empty password.
	ErrEmptyPassword = errors.New("empty password")
	// ErrInvalidVCard reports address data the server does not store: not exactly one vCard, no UID, not
	// UTF-8, or bytes XML cannot carry.
	ErrInvalidVCard = errors.New("invalid address data")
	// ErrUIDConflict reports a vCard whose UID another resource of the address book already has.
	ErrUIDConflict = errors.New("UID already used by another resource")
	// ErrClosed reports a call on a closed Server.
	ErrClosed = errors.New("server is closed")
	// ErrSchemaTooNew reports a data directory written by a newer version of the program.
	ErrSchemaTooNew = errors.New("data directory written by a newer program")
)

// XML namespaces of the properties and conditions the server speaks.
const (
	nsDAV     = davxml.NSDAV
	nsCardDAV = davxml.NSCardDAV
	nsCS      = davxml.NSCS
	// nsLimits is the namespace of the server's own DAV:error conditions: the request limits it enforces.
	nsLimits = "http://contactsync.invalid/ns/"
)

// statusError is a request that fails with an HTTP status, optionally naming the precondition it broke
// (RFC 4918 section 16) and, for no-uid-conflict, the href it clashed with.
type statusError struct {
	status int
	// cond is the precondition element of the DAV:error body; empty for a plain-text error.
	cond xml.Name
	// href goes inside the condition element (no-uid-conflict names the clashing resource).
	href string
	msg  string
	err  error
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("%d %s", e.status, http.StatusText(e.status))
	if e.cond.Local != "" {
		s += " (" + e.cond.Local + ")"
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *statusError) Unwrap() error { return e.err }

// Status is the classifier: the HTTP status the request fails with.
func (e *statusError) Status() int { return e.status }

// failf makes a plain status error.
func failf(status int, format string, args ...any) *statusError {
	return &statusError{status: status, msg: fmt.Sprintf(format, args...)}
}

// precondition makes a status error that names a broken precondition.
func precondition(status int, space, local, format string, args ...any) *statusError {
	return &statusError{status: status, cond: xml.Name{Space: space, Local: local}, msg: fmt.Sprintf(format, args...)}
}

// statusOf maps an error from the storage layer to the status error a client sees: its own status when it
// has one, 404 for what does not exist, 503 once the server is closing, and 500 for everything else.
func statusOf(err error) *statusError {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, ErrNoAddressBook), errors.Is(err, ErrNoUser):
		return &statusError{status: http.StatusNotFound, err: err}
	case errors.Is(err, ErrClosed):
		return &statusError{status: http.StatusServiceUnavailable, err: err}
	}
	return &statusError{status: http.StatusInternalServerError, err: err}
}
