package carddavserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// get answers GET and HEAD: a vCard, or a whole address book as one text/vcard stream (an export).
func (h *handler) get(req *request) error {
	switch req.t.kind {
	case kindObject:
		return h.getObject(req)
	case kindBook:
		return h.exportBook(req)
	}
	return methodNotAllowed()
}

func (h *handler) getObject(req *request) error {
	cond, err := parseConditions(req.r.Header)
	if err != nil {
		return err
	}
	b, _, err := h.openBook(req)
	if err != nil {
		return err
	}
	c, err := b.get(req.r.Context(), req.t.object)
	if err != nil {
		return err
	}
	tag := etagOf(c.Data)
	hdr := req.w.Header()
	hdr.Set("ETag", tag)
	hdr.Set("Last-Modified", c.Updated.Format(http.TimeFormat))
	if err := cond.check(req.r.Method, true, tag); err != nil {
		return err
	}
	hdr.Set("Content-Type", vcardContentType)
	hdr.Set("Content-Length", strconv.Itoa(len(c.Data)))
	req.w.WriteHeader(http.StatusOK)
	if req.r.Method == http.MethodHead {
		return nil
	}
	_, err = req.w.Write(c.Data)
	return err
}

// exportBook streams every vCard of the address book, one after the other.
func (h *handler) exportBook(req *request) error {
	b, info, err := h.openBook(req)
	if err != nil {
		return err
	}
	hdr := req.w.Header()
	hdr.Set("Content-Type", vcardContentType)
	hdr.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", sanitizeFilename(info.name)+".vcf"))
	if req.r.Method == http.MethodHead {
		req.w.WriteHeader(http.StatusOK)
		return nil
	}
	x := newXMLWriter(req.w) // only for its buffering
	for c, err := range b.store.All(req.r.Context()) {
		if err != nil {
			return err
		}
		if req.w.status == 0 {
			req.w.WriteHeader(http.StatusOK)
		}
		x.bytes(c.Data)
		if x.err != nil {
			return x.err
		}
	}
	if req.w.status == 0 {
		req.w.WriteHeader(http.StatusOK)
	}
	return x.flush()
}

func sanitizeFilename(s string) string {
	out := []rune{}
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' || r == 0x7f {
			r = '_'
		}
		out = append(out, r)
	}
	return string(out)
}

// put stores a vCard (RFC 6352 section 6.3.2): a vCard media type (else 415 supported-address-data), at most
// max-resource-size bytes (else 413), valid address data with a UID (else 400 valid-address-data), a UID no
// other resource has (else 409 no-uid-conflict naming it), and the If-Match / If-None-Match conditions
// (else 412). The body is stored byte for byte, so the ETag sent back is the ETag of exactly what was sent.
func (h *handler) put(req *request) error {
	if req.t.kind != kindObject {
		return methodNotAllowed()
	}
	r := req.r
	if !isVCardType(r.Header.Get("Content-Type")) {
		return precondition(http.StatusUnsupportedMediaType, nsCardDAV, "supported-address-data", "Content-Type must be text/vcard")
	}
	if err := validSegment("resource", req.t.object, maxObjectName); err != nil {
		return &statusError{status: http.StatusForbidden, msg: err.Error()}
	}
	cond, err := parseConditions(r.Header)
	if err != nil {
		return err
	}
	limit := h.s.cfg.maxResourceSize
	tooLarge := precondition(http.StatusRequestEntityTooLarge, nsCardDAV, "max-resource-size", "vCards are limited to %d bytes", limit)
	if r.ContentLength > limit {
		return tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(req.w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge
	}
	var se *statusError
	if errors.As(err, &se) {
		return se // the body stalled
	}
	if err != nil {
		return failf(http.StatusBadRequest, "reading the body: %v", err)
	}
	uid, err := h.s.checkVCard(body)
	if err != nil {
		e := precondition(http.StatusBadRequest, nsCardDAV, "valid-address-data", "%v", err)
		e.err = err
		return e
	}
	b, _, err := h.openBook(req)
	if errors.Is(err, ErrNoAddressBook) {
		// RFC 4918 section 9.7.1: a PUT whose parent collection does not exist is a conflict.
		return failf(http.StatusConflict, "address book %s does not exist", clip(req.t.book))
	}
	if err != nil {
		return err
	}
	res, err := b.put(r.Context(), req.t.object, uid, body, cond)
	if err != nil {
		return err
	}
	req.w.Header().Set("ETag", res.etag)
	if res.created {
		req.w.Header().Set("Location", req.t.href())
		req.w.WriteHeader(http.StatusCreated)
	} else {
		req.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// delete removes a vCard (if its conditions hold) or a whole address book.
func (h *handler) delete(req *request) error {
	switch req.t.kind {
	case kindObject:
		cond, err := parseConditions(req.r.Header)
		if err != nil {
			return err
		}
		b, _, err := h.openBook(req)
		if err != nil {
			return err
		}
		if err := b.remove(req.r.Context(), req.t.object, cond); err != nil {
			return err
		}
	case kindBook:
		if err := h.s.DeleteAddressBook(req.r.Context(), req.t.user, req.t.book); err != nil {
			return err
		}
	default:
		return methodNotAllowed()
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}
