package storage

import (
	"errors"
	"time"
)

// The outcomes the engine branches on. A Remote's errors wrap the matching one (errors.Is), and keep the
// storage's own error for the message.
var (
	// ErrPreconditionFailed: the write's condition did not hold; someone else wrote first.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrGone: no object at that href (never was, or deleted).
	ErrGone = errors.New("object gone")
	// ErrCredentialsRejected: the storage refuses these credentials; the same request cannot succeed until
	// they are replaced.
	ErrCredentialsRejected = errors.New("credentials rejected")
	// ErrRejected: the storage's final "no" to one object (too large, not acceptable, forbidden): retrying
	// cannot help, and the rest of a push should not wait for it.
	ErrRejected = errors.New("refused by the storage")
	// ErrInvalidToken: the storage no longer accepts the sync token; list everything and reconcile.
	ErrInvalidToken = errors.New("sync token no longer valid")
	// ErrNotSupported: the storage cannot tell changes since a token; list the collection instead.
	ErrNotSupported = errors.New("not supported by the storage")
	// ErrUnavailable: the same request may succeed later, unchanged (a timeout, a reset connection, a busy
	// or failing server). [RetryAfter] tells how long the storage asked to wait.
	ErrUnavailable = errors.New("temporarily unavailable")
)

// Error is a storage's error classified for the engine: it matches Kind (one of the sentinels above) and Err,
// and reads as Err, so classifying adds nothing to the message.
type Error struct {
	Kind error
	// Wait is how long the storage asked to wait before trying again (zero when it did not say).
	Wait time.Duration
	Err  error
}

func (e *Error) Error() string   { return e.Err.Error() }
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Classify wraps err as being of kind (wait is the storage's requested delay, if any); nil stays nil.
func Classify(err, kind error, wait time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Wait: wait, Err: err}
}

// Retryable reports whether err says the same request may succeed later.
func Retryable(err error) bool { return errors.Is(err, ErrUnavailable) }

// RetryAfter is how long the storage asked to wait before trying again, zero when err does not say.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.Wait
	}
	return 0
}
