package carddav

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// HTTPError is a response whose status says the request did not succeed. It unwraps to the sentinel for its
// status (ErrPreconditionFailed for 412 …) and, where the body names one, to a condition sentinel such as
// ErrInvalidSyncToken.
type HTTPError struct {
	Method string
	// Href is the request path (never a URL with credentials).
	Href   string
	Status int
	// RetryAfter is the server's Retry-After, zero when it sent none.
	RetryAfter time.Duration
	// Condition names the precondition or postcondition element of a DAV:error body, as "namespace local"
	// (for example "DAV: valid-sync-token"); empty when the body had none.
	Condition string
	// Location is the redirect target of a 3xx the client did not follow.
	Location string
	// Detail is the start of a plain-text error body, sanitised, for the message only.
	Detail string

	// cause is an extra sentinel the status alone does not say (ErrInvalidSyncToken, ErrNotSupported).
	cause error
}

func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "carddav: %s %s: %d %s", e.Method, e.Href, e.Status, http.StatusText(e.Status))
	if e.Condition != "" {
		fmt.Fprintf(&b, " (%s)", e.Condition)
	}
	if e.cause != nil {
		fmt.Fprintf(&b, ": %v", e.cause)
	}
	if e.Location != "" {
		fmt.Fprintf(&b, " -> %s", e.Location)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if d := e.detailBeyondStatus(); d != "" {
		fmt.Fprintf(&b, ": %q", d)
	}
	return b.String()
}

// detailBeyondStatus is Detail without the status line that many servers begin their error bodies with
// ("401 Unauthorized: wrong password"), which the message already gives.
func (e *HTTPError) detailBeyondStatus() string {
	d := strings.TrimPrefix(e.Detail, strconv.Itoa(e.Status)+" ")
	if rest, ok := strings.CutPrefix(d, http.StatusText(e.Status)); ok {
		return strings.TrimLeft(rest, ":.- ")
	}
	return e.Detail
}

// Unwrap returns the status sentinel and the condition sentinel, when there are any.
func (e *HTTPError) Unwrap() []error {
	var errs []error
	if s := statusSentinel(e.Status); s != nil {
		errs = append(errs, s)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// Retryable reports whether the same request may succeed later without the caller changing anything:
// 408, 425, 429 and 5xx other than 501 and 507 (which do not heal by waiting). An invalid sync token is not
// retryable even when a server reports it as a 500: the caller has to resync.
func (e *HTTPError) Retryable() bool {
	if errors.Is(e.cause, ErrInvalidSyncToken) || errors.Is(e.cause, ErrNotSupported) {
		return false
	}
	switch e.Status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented, http.StatusInsufficientStorage, http.StatusHTTPVersionNotSupported:
		return false
	}
	return e.Status >= 500 && e.Status <= 599
}

// Retryable reports whether err, from any Client method, may go away by trying again later: an
// *HTTPError that says so, or a network failure (refused, reset, timed out, cut short). Cancellation and
// everything else are not.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Retryable()
	}
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, context.DeadlineExceeded)
}

// conditionCause is the sentinel an error response says beyond its status: ErrInvalidSyncToken for
// DAV:valid-sync-token (RFC 6578 section 3.2), ErrNotSupported for a REPORT the server does not implement.
func conditionCause(method string, e *HTTPError) error {
	switch {
	case e.Condition == nsDAV+" valid-sync-token":
		return ErrInvalidSyncToken
	case e.Condition == nsDAV+" supported-report":
		return ErrNotSupported
	case method == "REPORT" && reportNotSupported(e):
		return ErrNotSupported
	}
	return nil
}

// unsupportedReport matches the messages servers give for a report they do not implement ("The
// {DAV:}sync-collection REPORT is not supported on this url.", "Unsupported report", "unknown report" …).
var unsupportedReport = regexp.MustCompile(`(?i)(\breport|sync-collection|multiget|addressbook-query)\b.*\b(not (supported|implemented|allowed)|unsupported|unknown)\b|\b(unsupported|unknown|unimplemented) (report|sync-collection)`)

// reportNotSupported reports the ways servers answer a REPORT they lack besides DAV:supported-report (RFC
// 3253 section 3.6): 501, 405 (the method is not allowed on the resource), or a 400 or 403 without a DAV or
// CardDAV condition whose message says the report is not supported (the form of SabreDAV's exceptions
// thrown with a message and no condition).
func reportNotSupported(e *HTTPError) bool {
	switch e.Status {
	case http.StatusNotImplemented, http.StatusMethodNotAllowed:
		return true
	case http.StatusBadRequest, http.StatusForbidden:
		standard := strings.HasPrefix(e.Condition, nsDAV+" ") || strings.HasPrefix(e.Condition, nsCardDAV+" ")
		return !standard && unsupportedReport.MatchString(e.Detail)
	}
	return false
}

// memberError is the error for one member of a multistatus that reported a failure status.
func memberError(method, href string, status int) *HTTPError {
	return &HTTPError{Method: method, Href: href, Status: status}
}

func statusSentinel(status int) error {
	switch status {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound, http.StatusGone:
		return ErrNotFound
	case http.StatusMethodNotAllowed:
		return ErrMethodNotAllowed
	case http.StatusConflict:
		return ErrConflict
	case http.StatusPreconditionFailed:
		return ErrPreconditionFailed
	case http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case http.StatusTooManyRequests:
		return ErrRateLimited
	case http.StatusInsufficientStorage:
		return ErrInsufficientStorage
	}
	if status >= 500 && status <= 599 {
		return ErrServer
	}
	return nil
}

// maxRetryAfter caps what a server can ask for, so a hostile or broken value cannot park a worker for years.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value, delay-seconds or an HTTP-date (RFC 9110 section 10.2.3).
// Unparsable or past values give zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
