package faultproxy

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Hostile stands in front of a real server and makes one of its address books hostile: every listing of the
// collection (sync-collection, PROPFIND Depth 1) also lists the hostile members, every multiget or GET of
// them serves their hostile bodies, and a share of the listings (WithRate) is answered with a hostile document
// instead (XMLBomb, HTMLListing, GiantListing). Everything else goes to the server untouched, so a client
// can check that it syncs the real members and sets the hostile ones aside. It is an http.Handler; Start
// serves it on a loopback port. It is safe for concurrent use.
type Hostile struct {
	*tally
	up      *upstream
	cfg     config
	coll    string // the collection's path, with its trailing slash
	members []member
}

// member is one hostile member of the collection.
type member struct {
	kind Kind
	// href is what listings show; path is where a GET reaches it ("" for members outside the collection).
	href, path string
	etag       string
}

// NewHostile returns a Hostile in front of the server at target, for the address book at addressBook (a URL
// or path on that server).
func NewHostile(target, addressBook string, opts ...Option) (*Hostile, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	up, err := newUpstream(target, cfg.transport, cfg.maxBody)
	if err != nil {
		return nil, err
	}
	ab, err := url.Parse(addressBook)
	if err != nil || ab.EscapedPath() == "" {
		return nil, fmt.Errorf("%w: address book %q has no path", ErrInvalid, addressBook)
	}
	coll := strings.TrimSuffix(ab.EscapedPath(), "/") + "/"
	h := &Hostile{tally: newTally(cfg.seed, cfg.rate), up: up, cfg: cfg, coll: coll}
	inside := func(k Kind, name string) member {
		return member{kind: k, href: coll + name, path: coll + name, etag: `"hostile-` + name + `"`}
	}
	for _, k := range cfg.threats {
		switch k {
		case MalformedVCard:
			h.members = append(h.members, inside(k, "hostile-malformed.vcf"))
		case TwoCards:
			h.members = append(h.members, inside(k, "hostile-two-cards.vcf"))
		case WrongType:
			h.members = append(h.members, inside(k, "hostile-html.vcf"))
		case Gigantic:
			h.members = append(h.members, inside(k, "hostile-gigantic.vcf"))
		case HrefOutside:
			h.members = append(h.members,
				member{kind: k, href: coll + "../hostile-outside.vcf", etag: `"hostile-outside"`},
				member{kind: k, href: "/hostile-elsewhere.vcf", etag: `"hostile-elsewhere"`})
		case HrefOtherHost:
			h.members = append(h.members, member{kind: k, href: "http://other.invalid" + coll + "hostile-foreign.vcf", etag: `"hostile-foreign"`})
		}
	}
	return h, nil
}

// Hrefs lists the hrefs of the hostile members, as listings show them.
func (h *Hostile) Hrefs() []string {
	out := make([]string, len(h.members))
	for i, m := range h.members {
		out[i] = m.href
	}
	return out
}

// ServeHTTP serves the hostile members and relays everything else.
func (h *Hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	path := r.URL.EscapedPath()
	for _, m := range h.members {
		if m.path != "" && m.path == path {
			h.serveMember(w, r, m)
			return
		}
	}
	body, err := h.up.readBody(r)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	inColl := strings.TrimSuffix(path, "/")+"/" == h.coll
	switch {
	case inColl && r.Method == "REPORT" && bytes.Contains(body, []byte("addressbook-multiget")):
		h.multiget(w, r, body)
	case inColl && (r.Method == "REPORT" && bytes.Contains(body, []byte("sync-collection")) ||
		r.Method == "PROPFIND" && r.Header.Get("Depth") == "1"):
		h.listing(w, r, body)
	default:
		h.relay(w, r, body, nil)
	}
}

// relay forwards the request and sends the answer, with the responses of extra appended when it is a
// multistatus (extra == nil relays it untouched).
func (h *Hostile) relay(w http.ResponseWriter, r *http.Request, body []byte, extra []member) {
	a, err := h.up.forward(r, body)
	if err != nil {
		if r.Context().Err() == nil {
			http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		}
		return
	}
	at := bytes.LastIndex(a.body, []byte("</"))
	if len(extra) == 0 || a.status != http.StatusMultiStatus || at < 0 {
		a.write(w)
		return
	}
	h.multistatus(w, a.header, a.body[:at], a.body[at:], extra, r.Method == "REPORT" && bytes.Contains(body, []byte("addressbook-multiget")))
}

// listing answers a listing of the collection: a hostile document at the rate, else the server's listing
// with the hostile members added.
func (h *Hostile) listing(w http.ResponseWriter, r *http.Request, body []byte) {
	var enabled []Kind
	for _, k := range responseThreats() {
		if contains(h.cfg.threats, k) {
			enabled = append(enabled, k)
		}
	}
	if k, aux := h.roll(enabled); k != "" {
		h.count(k)
		h.hostileListing(w, k, aux)
		return
	}
	h.relay(w, r, body, h.members)
}

// multiget answers an addressbook-multiget: the hostile hrefs asked for are answered here, the others by
// the server.
func (h *Hostile) multiget(w http.ResponseWriter, r *http.Request, body []byte) {
	hrefs, err := multigetHrefs(body)
	if err != nil {
		h.relay(w, r, body, nil)
		return
	}
	var real []string
	var asked []member
	for _, href := range hrefs {
		if m, ok := h.member(href); ok {
			asked = append(asked, m)
		} else {
			real = append(real, href)
		}
	}
	switch {
	case len(asked) == 0:
		h.relay(w, r, body, nil)
	case len(real) > 0:
		h.relay(w, r, multigetBody(real), asked)
	default:
		hdr := http.Header{"Content-Type": {`application/xml; charset="utf-8"`}}
		h.multistatus(w, hdr, []byte(`<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<multistatus xmlns="DAV:">`),
			[]byte(`</multistatus>`), asked, true)
	}
}

// member finds the hostile member an href (as a client sends it back) names.
func (h *Hostile) member(href string) (member, bool) {
	for _, m := range h.members {
		if m.href == href || (m.path != "" && sameRef(m.path, href)) {
			return m, true
		}
	}
	return member{}, false
}

func sameRef(path, href string) bool {
	u, err := url.Parse(href)
	return err == nil && u.EscapedPath() == path
}

// multistatus sends a 207 made of head, a response per member (with its body when withData) and tail,
// streamed, since a Gigantic member does not fit in memory.
func (h *Hostile) multistatus(w http.ResponseWriter, hdr http.Header, head, tail []byte, ms []member, withData bool) {
	copyHeader(w.Header(), hdr)
	w.Header().Del("Content-Length")
	w.WriteHeader(http.StatusMultiStatus)
	w.Write(head)
	for _, m := range ms {
		h.count(m.kind)
		fmt.Fprintf(w, `<response xmlns="DAV:"><href>%s</href><propstat><prop><getetag>%s</getetag>`, escape(m.href), escape(m.etag))
		if withData && m.path != "" {
			io.WriteString(w, `<address-data xmlns="urn:ietf:params:xml:ns:carddav">`)
			if err := h.writeBody(w, m, true); err != nil {
				return
			}
			io.WriteString(w, `</address-data>`)
		}
		io.WriteString(w, `</prop><status>HTTP/1.1 200 OK</status></propstat></response>`)
	}
	w.Write(tail)
}

// serveMember answers a request for a hostile member: its body for GET, 403 for anything else.
func (h *Hostile) serveMember(w http.ResponseWriter, r *http.Request, m member) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "faultproxy: hostile member is read-only", http.StatusForbidden)
		return
	}
	h.count(m.kind)
	ct := "text/vcard; charset=utf-8"
	if m.kind == WrongType {
		ct = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("ETag", m.etag)
	if m.kind == Gigantic {
		w.Header().Set("Content-Length", strconv.FormatInt(h.cfg.giant, 10))
	}
	if r.Method == http.MethodHead {
		return
	}
	h.writeBody(w, m, false)
}

const (
	malformedBody = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:hostile-malformed\r\nFN:Hostile Malformed\r\nthis line is no property\r\n"
	twoCardsBody  = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:hostile-two-a\r\nFN:Hostile A\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:hostile-two-b\r\nFN:Hostile B\r\nEND:VCARD\r\n"
	htmlBody = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form method=post>" +
		"Password: <input type=password name=pw></form></body></html>\n"
	giantHead = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:hostile-gigantic\r\nFN:Hostile Gigantic\r\nNOTE:"
	giantTail = "\r\nEND:VCARD\r\n"
)

// writeBody writes a member's body, XML-escaped when it goes inside address-data.
func (h *Hostile) writeBody(w io.Writer, m member, inXML bool) error {
	var text string
	switch m.kind {
	case MalformedVCard:
		text = malformedBody
	case TwoCards:
		text = twoCardsBody
	case WrongType:
		text = htmlBody
	case Gigantic:
		head, tail := giantHead, giantTail
		if inXML {
			head, tail = escape(head), escape(tail)
		}
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		if err := fill(w, h.cfg.giant-int64(len(giantHead)+len(giantTail)), 'A'); err != nil {
			return err
		}
		_, err := io.WriteString(w, tail)
		return err
	}
	if inXML {
		text = escape(text)
	}
	_, err := io.WriteString(w, text)
	return err
}

// fill writes n copies of b without holding them all.
func fill(w io.Writer, n int64, b byte) error {
	chunk := bytes.Repeat([]byte{b}, 64<<10)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// hostileListing answers a listing with a hostile document of kind k.
func (h *Hostile) hostileListing(w http.ResponseWriter, k Kind, aux uint64) {
	switch k {
	case HTMLListing:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, htmlBody)
	case XMLBomb:
		w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
		w.WriteHeader(http.StatusMultiStatus)
		if aux%2 == 0 {
			io.WriteString(w, billionLaughs)
			return
		}
		const depth = 100_000
		io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<multistatus xmlns="DAV:">`)
		if fillString(w, depth, "<response>") == nil && fillString(w, depth, "</response>") == nil {
			io.WriteString(w, `</multistatus>`)
		}
	case GiantListing:
		w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
		w.WriteHeader(http.StatusMultiStatus)
		head := `<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<multistatus xmlns="DAV:"><response><href>` + h.coll
		tail := `.vcf</href><status>HTTP/1.1 200 OK</status></response></multistatus>`
		io.WriteString(w, head)
		if fill(w, h.cfg.giant-int64(len(head)+len(tail)), 'a') == nil {
			io.WriteString(w, tail)
		}
	}
}

func fillString(w io.Writer, n int, s string) error {
	for range n {
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
	}
	return nil
}

// billionLaughs defines an entity that would expand to 10^9 copies of "lol" (3 GB).
const billionLaughs = `<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE multistatus [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<multistatus xmlns="DAV:"><response><href>&lol9;</href><propstat><prop><getetag>"&lol9;"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response><sync-token>&lol9;</sync-token></multistatus>
`

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// multigetHrefs reads the hrefs of an addressbook-multiget request body (RFC 6352 section 8.7).
func multigetHrefs(body []byte) ([]string, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	var hrefs []string
	inHref := false
	var cur strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return hrefs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("multiget body: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == "DAV:" && t.Name.Local == "href" {
				inHref = true
				cur.Reset()
			}
		case xml.CharData:
			if inHref {
				cur.Write(t)
			}
		case xml.EndElement:
			if inHref && t.Name.Space == "DAV:" && t.Name.Local == "href" {
				hrefs = append(hrefs, strings.TrimSpace(cur.String()))
				inHref = false
			}
		}
	}
}

// multigetBody is an addressbook-multiget request for hrefs, asking for what the project's client asks.
func multigetBody(hrefs []string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>`)
	for _, href := range hrefs {
		b.WriteString("<D:href>" + escape(href) + "</D:href>")
	}
	b.WriteString(`</C:addressbook-multiget>`)
	return b.Bytes()
}

var _ http.Handler = (*Hostile)(nil)
