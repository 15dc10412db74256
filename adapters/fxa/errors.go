package fxa

import (
	"errors"
	"fmt"
)

// Code names the check a token failed, in a form a server may return to its client (the check, never the
// token).
type Code string

// The codes of Error, one per check, in the order Verify makes them.
const (
	// CodeMalformed: not a compact JWS of three base64url parts with JSON header and claims, or larger than
	// MaxTokenSize.
	CodeMalformed Code = "malformed"
	// CodeBadType: the typ header is not at+jwt (RFC 9068 section 2.1).
	CodeBadType Code = "bad_type"
	// CodeBadAlg: the alg header is not one of the configured algorithms (none and HMAC never are), or does
	// not fit the key its kid names (an RS256 token naming an EC key).
	CodeBadAlg Code = "bad_alg"
	// CodeUnknownKID: the kid header is missing, or names no key in the issuer's key set even after a refetch.
	CodeUnknownKID Code = "unknown_kid"
	// CodeJWKSUnavailable: the issuer's key set could not be loaded and none is cached. Temporary.
	CodeJWKSUnavailable Code = "jwks_unavailable"
	// CodeBadSignature: the signature does not verify with the key the kid names.
	CodeBadSignature Code = "bad_signature"
	// CodeBadIssuer: iss is not exactly the configured issuer.
	CodeBadIssuer Code = "bad_issuer"
	// CodeBadAudience: an audience is configured and none of its values is in aud.
	CodeBadAudience Code = "bad_audience"
	// CodeExpired: exp is past, beyond the leeway.
	CodeExpired Code = "expired"
	// CodeNotYetValid: nbf is in the future beyond the leeway.
	CodeNotYetValid Code = "not_yet_valid"
	// CodeIssuedInFuture: iat is in the future beyond the leeway.
	CodeIssuedInFuture Code = "issued_in_future"
	// CodeBadSubject: sub is missing or is not an FxA uid (lowercase hex).
	CodeBadSubject Code = "bad_subject"
	// CodeMissingScope: scope does not contain the required scope.
	CodeMissingScope Code = "missing_scope"
	// CodeBadClaim: exp or iat is missing, or a claim has the wrong type or value (fxa-generation, email,
	// client_id, jti, a time that is not a number).
	CodeBadClaim Code = "bad_claim"
)

// Sentinels, one per Code: errors.Is(err, ErrExpired) holds for an *Error with CodeExpired.
var (
	ErrMalformed       = errors.New("malformed token")
	ErrBadType         = errors.New("token type is not at+jwt")
	ErrBadAlg          = errors.New("signing algorithm not allowed")
	ErrUnknownKID      = errors.New("unknown signing key")
	ErrJWKSUnavailable = errors.New("issuer key set unavailable")
	ErrBadSignature    = errors.New("bad signature")
	ErrBadIssuer       = errors.New("wrong issuer")
	ErrBadAudience     = errors.New("wrong audience")
	ErrExpired         = errors.New("token expired")
	ErrNotYetValid     = errors.New("token not yet valid")
	ErrIssuedInFuture  = errors.New("token issued in the future")
	ErrBadSubject      = errors.New("bad subject")
	ErrMissingScope    = errors.New("required scope missing")
	ErrBadClaim        = errors.New("bad claim")
)

var sentinels = map[Code]error{
	CodeMalformed:       ErrMalformed,
	CodeBadType:         ErrBadType,
	CodeBadAlg:          ErrBadAlg,
	CodeUnknownKID:      ErrUnknownKID,
	CodeJWKSUnavailable: ErrJWKSUnavailable,
	CodeBadSignature:    ErrBadSignature,
	CodeBadIssuer:       ErrBadIssuer,
	CodeBadAudience:     ErrBadAudience,
	CodeExpired:         ErrExpired,
	CodeNotYetValid:     ErrNotYetValid,
	CodeIssuedInFuture:  ErrIssuedInFuture,
	CodeBadSubject:      ErrBadSubject,
	CodeMissingScope:    ErrMissingScope,
	CodeBadClaim:        ErrBadClaim,
}

// Error is every refusal of Verify. Its message names the check and, for claims of a token whose signature
// verified, the offending value; it never holds the token or a part of it that is not a header or claim.
type Error struct {
	Code   Code
	Detail string // what exactly failed, for logs
	Err    error  // the cause, when the check failed for a reason below it (a JWKS fetch)
}

func refuse(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	msg := "fxa: token refused: " + string(e.Code)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap gives the Code's sentinel and the cause.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if s, ok := sentinels[e.Code]; ok {
		errs = append(errs, s)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Temporary reports whether the same token may verify later without changing: only when the key set could
// not be loaded. A server answers that with 503, every other refusal with 401.
func (e *Error) Temporary() bool { return e.Code == CodeJWKSUnavailable }

// CodeOf returns the Code of the *Error in err's chain, or "" when there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// clip bounds a header or claim value quoted in an error message, so a hostile token cannot fill a log.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
