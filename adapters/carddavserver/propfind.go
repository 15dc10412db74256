package carddavserver

import (
	"net/http"
	"net/url"
)

// propfind answers PROPFIND (RFC 4918 section 9.1) with Depth 0 or 1; Depth infinity is refused with
// DAV:propfind-finite-depth, as section 9.1 allows, since it could list every contact of every book at once.
func (h *handler) propfind(req *request) error {
	d, err := depth(req.r, "infinity")
	if err != nil {
		return err
	}
	if d == "infinity" {
		return precondition(http.StatusForbidden, nsDAV, "propfind-finite-depth", "use Depth 0 or 1")
	}
	pr, err := parsePropfind(h.xmlBody(req), h.s.cfg.limits)
	if err != nil {
		return err
	}
	ctx := req.r.Context()
	t, user := req.t, req.user
	ms := newMultistatus(req.w)
	self := &collection{kind: t.kind, user: user, owner: t.user}
	switch t.kind {
	case kindRoot:
		if err := ms.props(t.href(), pr, self); err != nil {
			return err
		}
		if d == "1" {
			for _, k := range []target{{kind: kindPrincipals}, {kind: kindHomes}} {
				if err := ms.props(k.href(), pr, &collection{kind: k.kind, user: user}); err != nil {
					return err
				}
			}
		}
	case kindPrincipals, kindHomes:
		if err := ms.props(t.href(), pr, self); err != nil {
			return err
		}
		if d == "1" {
			child := target{kind: kindPrincipal, user: user}
			if t.kind == kindHomes {
				child.kind = kindHome
			}
			if err := ms.props(child.href(), pr, &collection{kind: child.kind, user: user, owner: user}); err != nil {
				return err
			}
		}
	case kindPrincipal:
		if err := ms.props(t.href(), pr, self); err != nil {
			return err
		}
	case kindHome:
		// List the books before writing anything, so a failure is still a clean error status.
		books, err := h.s.acc.books(ctx, user)
		if err != nil {
			return err
		}
		if err := ms.props(t.href(), pr, self); err != nil {
			return err
		}
		if d == "1" {
			for _, info := range books {
				b, err := h.s.book(ctx, info)
				if err != nil {
					return err
				}
				c, err := h.bookCollection(req, b, info)
				if err != nil {
					return err
				}
				if err := ms.props(bookHref(user, info.name), pr, c); err != nil {
					return err
				}
			}
		}
	case kindBook:
		b, info, err := h.openBook(req)
		if err != nil {
			return err
		}
		c, err := h.bookCollection(req, b, info)
		if err != nil {
			return err
		}
		if err := ms.props(t.href(), pr, c); err != nil {
			return err
		}
		if d == "1" {
			base := t.href()
			err := b.members(ctx, func(m *member) error {
				return h.memberProps(req, ms, b, base+url.PathEscape(m.name), m, pr)
			})
			if err != nil {
				return err
			}
		}
	case kindObject:
		b, _, err := h.openBook(req)
		if err != nil {
			return err
		}
		m, ok, err := b.member(ctx, t.object)
		if err != nil {
			return err
		}
		if !ok {
			return failf(http.StatusNotFound, "no such resource")
		}
		if err := h.memberProps(req, ms, b, t.href(), &m, pr); err != nil {
			return err
		}
	default:
		return methodNotAllowed()
	}
	return ms.end("")
}

// bookCollection describes an address book for its properties.
func (h *handler) bookCollection(req *request, b *book, info bookInfo) (*collection, error) {
	tok, err := b.token(req.r.Context())
	if err != nil {
		return nil, err
	}
	return &collection{kind: kindBook, user: req.user, owner: info.owner, book: info, token: tok, maxSize: h.s.cfg.maxResourceSize}, nil
}

// memberProps writes one vCard's response. Its body is read only when address-data is asked for; it is then
// read afresh, and its ETag computed from the bytes sent, so the two always agree even when the member
// changed since its row was listed. A member deleted in between is reported as 404.
func (h *handler) memberProps(req *request, ms *multistatus, b *book, href string, m *member, pr propRequest) error {
	o := object{m: m, user: req.user}
	if pr.addressData {
		c, err := b.store.Get(req.r.Context(), m.name)
		if err != nil {
			if isNotFound(err) {
				return ms.status(href, http.StatusNotFound)
			}
			return err
		}
		o.data = c.Data
		m.etag, m.size, m.modified = etagOf(c.Data), int64(len(c.Data)), c.Updated
	}
	return ms.props(href, pr, &o)
}
