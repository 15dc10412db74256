package faultproxy

import "errors"

// ErrInvalid reports an option or argument the package refuses (a rate outside [0, 1], an unknown fault kind,
// a target that is not an absolute http URL).
var ErrInvalid = errors.New("faultproxy: invalid argument")

// errTooLarge reports a body over the proxy's buffering limit.
var errTooLarge = errors.New("body over the proxy's limit")
