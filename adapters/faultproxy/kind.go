package faultproxy

import (
	"fmt"
	"net/http"
)

// Kind is one sort of fault the Proxy injects.
type Kind string

// The fault kinds. Each applies only to the requests it makes sense for (see Kind.Applies), so a rate of 10%
// means one request in ten meets some fault it can meet.
const (
	// Precondition answers a conditional write (If-Match or If-None-Match) with 412, as when another client
	// wrote first. Half the time the race is real: the proxy applies the same write to the server itself and
	// then forwards the request, so the server answers 412 (or 404 for a delete); otherwise the proxy answers
	// 412 without forwarding.
	Precondition Kind = "412-race"
	// Unavailable answers 500, 502 or 503 with Retry-After, without forwarding.
	Unavailable Kind = "5xx"
	// RateLimited answers 429 with Retry-After, without forwarding.
	RateLimited Kind = "429"
	// ResetBefore resets the connection before the request reaches the server.
	ResetBefore Kind = "reset-before"
	// ResetAfter forwards a write, lets the server apply it, and resets the connection instead of answering.
	ResetAfter Kind = "reset-after-write"
	// Timeout holds the request without forwarding it until the client gives up, or answers 504 after the
	// proxy's hold time.
	Timeout Kind = "timeout"
	// Truncated forwards a read and sends only part of the body the server answered, then closes the
	// connection (the Content-Length announces the whole body).
	Truncated Kind = "truncated"
	// Garbled forwards a listing or report and breaks the XML of the body the server answered (same status,
	// headers and length), so the client cannot parse it. A vCard body is never garbled: bytes changed inside a
	// card cannot be told from a card the server really holds, which is what Hostile covers.
	Garbled Kind = "garbled"
	// Slow forwards the request and sends the answer in small pieces spread over the proxy's slow time.
	Slow Kind = "slow"
)

// Kinds lists every fault kind, in the order reports show them.
func Kinds() []Kind {
	return []Kind{Precondition, Unavailable, RateLimited, ResetBefore, ResetAfter, Timeout, Truncated, Garbled, Slow}
}

func (k Kind) valid() error {
	for _, known := range Kinds() {
		if k == known {
			return nil
		}
	}
	return fmt.Errorf("%w: unknown fault kind %q", ErrInvalid, string(k))
}

// Applies reports whether the kind can be injected into a request with this method and header.
func (k Kind) Applies(method string, h http.Header) bool {
	switch k {
	case Precondition:
		return isWrite(method) && method != "MKCOL" && (h.Get("If-Match") != "" || h.Get("If-None-Match") != "")
	case ResetAfter:
		return isWrite(method)
	case Truncated, Slow:
		return hasBody(method)
	case Garbled:
		return method == "PROPFIND" || method == "REPORT"
	}
	return true
}

// isWrite reports a method that changes the server's state.
func isWrite(method string) bool {
	switch method {
	case http.MethodPut, http.MethodDelete, http.MethodPost, "MKCOL", "PROPPATCH", "MOVE", "COPY":
		return true
	}
	return false
}

// hasBody reports a method whose success answer carries a body worth cutting.
func hasBody(method string) bool {
	return method == http.MethodGet || method == "PROPFIND" || method == "REPORT"
}
