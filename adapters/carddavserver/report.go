package carddavserver

import (
	"net/http"
	"net/url"

	"github.com/contactsync/contactsync/adapters/vcard"
)

// report answers the REPORTs of an address book: sync-collection, addressbook-multiget, addressbook-query.
func (h *handler) report(req *request) error {
	if req.t.kind != kindBook {
		return precondition(http.StatusForbidden, nsDAV, "supported-report", "reports are served on address books")
	}
	rep, err := parseReport(h.xmlBody(req), h.s.cfg.limits)
	if err != nil {
		return err
	}
	b, _, err := h.openBook(req)
	if err != nil {
		return err
	}
	switch rep := rep.(type) {
	case *syncRequest:
		return h.syncCollection(req, b, rep)
	case *multigetRequest:
		return h.multiget(req, b, rep)
	case *queryRequest:
		return h.query(req, b, rep)
	}
	panic("carddavserver: parseReport returned an unknown report")
}

// syncCollection answers RFC 6578's report: the members changed since the token, each with the properties
// asked, and the members removed since as 404s; at most limit of them, with a 507 response for the
// collection and the token of what was sent when there is more (section 3.6). The listing streams.
func (h *handler) syncCollection(req *request, b *book, rep *syncRequest) error {
	d, err := depth(req.r, "0")
	if err != nil {
		return err
	}
	if d != "0" {
		return failf(http.StatusBadRequest, "sync-collection takes Depth 0 (RFC 6578 section 3.2)")
	}
	from, err := parseSyncToken(b.id, rep.token)
	if err != nil {
		return err
	}
	ctx := req.r.Context()
	// Everything up to this revision is listed; a change committed meanwhile waits for the next sync.
	last, err := b.store.LastRevision(ctx)
	if err != nil {
		return err
	}
	if from > last {
		return invalidToken()
	}
	ms := newMultistatus(req.w)
	base := req.t.href()
	seen, more, err := b.changes(ctx, from, last, rep.limit, func(m *member) error {
		href := base + url.PathEscape(m.name)
		if m.deleted {
			return ms.status(href, http.StatusNotFound)
		}
		return h.memberProps(req, ms, b, href, m, rep.props)
	})
	if err != nil {
		return err
	}
	if more {
		if err := ms.truncated(base); err != nil {
			return err
		}
	}
	return ms.end(syncToken(b.id, seen))
}

// multiget answers addressbook-multiget (RFC 6352 section 8.7): each href asked, once, with its properties,
// or 404 when it is not a vCard of this address book.
func (h *handler) multiget(req *request, b *book, rep *multigetRequest) error {
	ctx := req.r.Context()
	ms := newMultistatus(req.w)
	seen := make(map[string]bool, len(rep.hrefs))
	for _, raw := range rep.hrefs {
		name, href, ok := h.memberName(req, raw)
		if !ok {
			if err := ms.status(raw, http.StatusNotFound); err != nil {
				return err
			}
			continue
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		c, err := b.store.Get(ctx, name)
		if isNotFound(err) {
			if err := ms.status(href, http.StatusNotFound); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		m := member{name: name, etag: etagOf(c.Data), size: int64(len(c.Data)), modified: c.Updated}
		o := object{m: &m, user: req.user}
		if rep.props.addressData {
			o.data = c.Data
		}
		if err := ms.props(href, rep.props, &o); err != nil {
			return err
		}
	}
	return ms.end("")
}

// memberName resolves an href of a multiget (a path or an absolute URL) to the name of a member of the
// request's address book, and gives its canonical href.
func (h *handler) memberName(req *request, raw string) (name, href string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", false
	}
	t, err := parseTarget(u.EscapedPath())
	if err != nil || t.kind != kindObject || t.user != req.t.user || t.book != req.t.book {
		return "", "", false
	}
	return t.object, t.href(), true
}

// query answers addressbook-query (RFC 6352 section 8.6). A filter on the UID alone is answered from the
// members table (an exact i;octet match from its index); any other filter reads and parses each vCard. With a
// limit, the matches past it are left out and the collection gets a 507 response (section 8.6.1).
func (h *handler) query(req *request, b *book, rep *queryRequest) error {
	// Clients omit Depth on this report; its members are what it is for, so absent means 1.
	d, err := depth(req.r, "1")
	if err != nil {
		return err
	}
	ctx := req.r.Context()
	base := req.t.href()
	ms := newMultistatus(req.w)
	if d == "0" {
		return ms.end("")
	}
	if uid, ok := rep.filter.uidLookup(); ok {
		m, found, err := b.byUID(ctx, uid)
		if err != nil {
			return err
		}
		if found {
			if err := h.memberProps(req, ms, b, base+url.PathEscape(m.name), &m, rep.props); err != nil {
				return err
			}
		}
		return ms.end("")
	}
	matched := 0
	errLimit := &statusError{status: http.StatusInsufficientStorage}
	err = b.members(ctx, func(m *member) error {
		href := base + url.PathEscape(m.name)
		var data []byte
		if !rep.filter.uidOnly() {
			c, err := b.store.Get(ctx, m.name)
			if isNotFound(err) {
				return nil // deleted since the row was listed
			}
			if err != nil {
				return err
			}
			cards, _ := vcard.Parse(c.Data) // stored cards passed the same parser on PUT
			if len(cards) != 1 || !rep.filter.matchCard(cards[0]) {
				return nil
			}
			data = c.Data
			m.etag, m.size, m.modified = etagOf(data), int64(len(data)), c.Updated
		} else if !rep.filter.matchUID(m.uid) {
			return nil
		}
		if rep.limit > 0 && matched == rep.limit {
			return errLimit
		}
		matched++
		o := object{m: m, user: req.user}
		if rep.props.addressData {
			if data == nil {
				return h.memberProps(req, ms, b, href, m, rep.props)
			}
			o.data = data
		}
		return ms.props(href, rep.props, &o)
	})
	switch {
	case err == errLimit:
		if err := ms.truncated(base); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	return ms.end("")
}
