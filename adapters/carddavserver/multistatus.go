package carddavserver

import (
	"encoding/xml"
	"net/http"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// propSource is a resource whose properties a multistatus reports.
type propSource interface {
	// prop reports whether the resource has the property and, when x is not nil, writes it (the whole
	// element).
	prop(x *xmlWriter, name xml.Name) bool
	// allProps lists what DAV:allprop and DAV:propname report.
	allProps() []xml.Name
}

// multistatus streams a 207 response (RFC 4918 section 13): the status line goes out with the first
// response, and nothing is held back but a 64 KiB buffer.
type multistatus struct {
	rw      http.ResponseWriter
	x       *xmlWriter
	started bool
	found   []xml.Name
	missing []xml.Name
}

func newMultistatus(rw http.ResponseWriter) *multistatus {
	return &multistatus{rw: rw, x: newXMLWriter(rw)}
}

func (m *multistatus) begin() {
	if m.started {
		return
	}
	m.started = true
	m.rw.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	m.rw.WriteHeader(http.StatusMultiStatus)
	m.x.raw(xml.Header + "<d:multistatus" + rootNamespaces + ">")
}

// props writes the response for one resource: the properties it has under 200, the ones it lacks under 404.
func (m *multistatus) props(href string, req propRequest, src propSource) error {
	m.begin()
	x := m.x
	x.raw("<d:response>")
	x.element(davxml.Href, href)
	switch {
	case req.names:
		x.raw("<d:propstat><d:prop>")
		for _, n := range src.allProps() {
			x.empty(n)
		}
		x.raw("</d:prop>")
		x.status(http.StatusOK)
		x.raw("</d:propstat>")
	default:
		m.found, m.missing = m.found[:0], m.missing[:0]
		names := req.props
		if req.all {
			names = src.allProps()
		}
		for _, n := range names {
			if src.prop(nil, n) {
				m.found = append(m.found, n)
			} else {
				m.missing = append(m.missing, n)
			}
		}
		if len(m.found) > 0 {
			x.raw("<d:propstat><d:prop>")
			for _, n := range m.found {
				src.prop(x, n)
			}
			x.raw("</d:prop>")
			x.status(http.StatusOK)
			x.raw("</d:propstat>")
		}
		if len(m.missing) > 0 {
			x.raw("<d:propstat><d:prop>")
			for _, n := range m.missing {
				x.empty(n)
			}
			x.raw("</d:prop>")
			x.status(http.StatusNotFound)
			x.raw("</d:propstat>")
		}
	}
	x.raw("</d:response>")
	return x.err
}

// status writes a response that is only a status for href (a member gone, a multiget href not found).
func (m *multistatus) status(href string, code int) error {
	m.begin()
	m.x.raw("<d:response>")
	m.x.element(davxml.Href, href)
	m.x.status(code)
	m.x.raw("</d:response>")
	return m.x.err
}

// truncated writes the RFC 6578 section 3.6 response that says the listing was cut short by a limit: 507 on
// the request URI with DAV:number-of-matches-within-limits.
func (m *multistatus) truncated(href string) error {
	m.begin()
	m.x.raw("<d:response>")
	m.x.element(davxml.Href, href)
	m.x.status(http.StatusInsufficientStorage)
	m.x.raw("<d:error><d:number-of-matches-within-limits/></d:error>")
	m.x.raw("</d:response>")
	return m.x.err
}

// end closes the body, after the sync token when there is one, and flushes it.
func (m *multistatus) end(token string) error {
	m.begin()
	if token != "" {
		m.x.element(davxml.SyncToken, token)
	}
	m.x.raw("</d:multistatus>")
	return m.x.flush()
}
