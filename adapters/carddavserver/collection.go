package carddavserver

import (
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// mkcol creates an address book (RFC 5689 extended MKCOL; a plain MKCOL too, since an address book is the
// only collection a home holds). A property it cannot set fails the whole request with 403 and a
// DAV:mkcol-response naming it, and nothing is created.
func (h *handler) mkcol(req *request) error {
	t := req.t
	switch t.kind {
	case kindBook:
	case kindObject:
		return failf(http.StatusForbidden, "address books hold no collections (RFC 6352 section 5.2)")
	default:
		return failf(http.StatusMethodNotAllowed, "collection exists")
	}
	mk, err := parseMkcol(h.xmlBody(req))
	if err != nil {
		return err
	}
	ctx := req.r.Context()
	if _, err := h.s.acc.book(ctx, t.user, t.book); err == nil {
		return failf(http.StatusMethodNotAllowed, "address book exists")
	}
	var displayName, description string
	byStatus := map[int][]xml.Name{}
	failed := false
	for _, p := range mk.set {
		ok := true
		switch p.name {
		case davxml.ResourceType:
			ok = p.child(nsDAV, "collection") != nil && p.child(nsCardDAV, "addressbook") != nil
		case davxml.DisplayName:
			displayName = p.trimmed()
		case davxml.Description:
			description = p.trimmed()
		default:
			ok = false
		}
		if ok {
			byStatus[http.StatusFailedDependency] = append(byStatus[http.StatusFailedDependency], p.name)
		} else {
			failed = true
			byStatus[http.StatusForbidden] = append(byStatus[http.StatusForbidden], p.name)
		}
	}
	if failed {
		req.w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
		req.w.WriteHeader(http.StatusForbidden)
		x := newXMLWriter(req.w)
		x.raw(xml.Header + "<d:mkcol-response" + rootNamespaces + ">")
		x.propstats(byStatus)
		x.raw("</d:mkcol-response>")
		return x.flush()
	}
	err = h.s.CreateAddressBook(ctx, t.user, t.book, displayName, description)
	switch {
	case errors.Is(err, errBookExists):
		return failf(http.StatusMethodNotAllowed, "address book exists")
	case errors.Is(err, ErrInvalidName):
		return &statusError{status: http.StatusForbidden, msg: err.Error()}
	case err != nil:
		return err
	}
	req.w.WriteHeader(http.StatusCreated)
	return nil
}

// proppatch sets or removes an address book's display name and description (RFC 4918 section 9.2). Every
// other property is protected or unknown: it gets 403, the rest 424, and nothing changes, since a PROPPATCH
// is all or nothing.
func (h *handler) proppatch(req *request) error {
	patches, err := parseProppatch(h.xmlBody(req))
	if err != nil {
		return err
	}
	t := req.t
	var info bookInfo
	if t.kind == kindBook {
		if _, info, err = h.openBook(req); err != nil {
			return err
		}
	} else if t.kind == kindObject {
		b, _, err := h.openBook(req)
		if err != nil {
			return err
		}
		if _, ok, err := b.member(req.r.Context(), t.object); err != nil {
			return err
		} else if !ok {
			return failf(http.StatusNotFound, "no such resource")
		}
	}
	var displayName, description *string
	byStatus := map[int][]xml.Name{}
	failed := false
	for _, p := range patches {
		value := ""
		if !p.remove {
			value = p.prop.trimmed()
		}
		switch {
		case t.kind == kindBook && p.prop.name == davxml.DisplayName:
			displayName = &value
		case t.kind == kindBook && p.prop.name == davxml.Description:
			description = &value
		default:
			failed = true
			byStatus[http.StatusForbidden] = append(byStatus[http.StatusForbidden], p.prop.name)
			continue
		}
		byStatus[http.StatusOK] = append(byStatus[http.StatusOK], p.prop.name)
	}
	if failed {
		byStatus[http.StatusFailedDependency] = byStatus[http.StatusOK]
		delete(byStatus, http.StatusOK)
	} else if err := h.s.acc.setBookProps(req.r.Context(), info.owner, info.name, displayName, description); err != nil {
		return err
	}
	ms := newMultistatus(req.w)
	ms.begin()
	ms.x.raw("<d:response>")
	ms.x.element(davxml.Href, t.href())
	ms.x.propstats(byStatus)
	ms.x.raw("</d:response>")
	return ms.end("")
}
