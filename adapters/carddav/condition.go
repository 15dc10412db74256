package carddav

import "net/http"

// Condition says when a write may go ahead. The zero Condition is unconditional.
type Condition struct {
	// IfNoneMatch creates only: the write fails with ErrPreconditionFailed if the href exists.
	IfNoneMatch bool
	// IfMatch replaces only this version: the write fails with ErrPreconditionFailed if someone else wrote
	// the member since (or deleted it).
	IfMatch ETag
}

// CreateOnly is the condition for a new contact: If-None-Match: *.
func CreateOnly() Condition { return Condition{IfNoneMatch: true} }

// IfMatch is the condition for replacing the version with this ETag.
func IfMatch(etag ETag) Condition { return Condition{IfMatch: etag} }

func (c Condition) header(h http.Header) {
	if c.IfNoneMatch {
		h.Set("If-None-Match", "*")
	}
	if c.IfMatch != "" {
		h.Set("If-Match", c.IfMatch.ifMatch())
	}
}
