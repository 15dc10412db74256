package carddavserver

import (
	"bufio"
	"encoding/xml"
	"io"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// prefixes are the namespace prefixes every response declares on its root element.
var prefixes = map[string]string{nsDAV: "d", nsCardDAV: "card", nsCS: "cs"}

const rootNamespaces = ` xmlns:d="DAV:" xmlns:card="` + nsCardDAV + `" xmlns:cs="` + nsCS + `"`

// xmlWriter writes a response body of XML through a buffer; the first write error sticks and ends the output.
type xmlWriter struct {
	w   *bufio.Writer
	err error
}

func newXMLWriter(w io.Writer) *xmlWriter { return &xmlWriter{w: bufio.NewWriterSize(w, 64<<10)} }

func (x *xmlWriter) raw(s string) {
	if x.err == nil {
		_, x.err = x.w.WriteString(s)
	}
}

// bytes writes b as it is.
func (x *xmlWriter) bytes(b []byte) {
	if x.err == nil {
		_, x.err = x.w.Write(b)
	}
}

// text writes escaped character data. Carriage returns are written as &#xD; so that a vCard's CRLF line ends
// survive XML parsing, which would turn a literal CRLF into LF. Quotes are left alone, so an ETag reads the
// same in the XML as in a header.
func (x *xmlWriter) text(s string) { x.escape(s, false) }

func (x *xmlWriter) textBytes(b []byte) { x.escape(string(b), false) }

// escape writes s with the characters XML gives meaning to replaced; in an attribute value (attr), quotes and
// white space other than the space too. A character XML cannot carry at all becomes U+FFFD (stored vCards never
// hold one: PUT refuses them).
func (x *xmlWriter) escape(s string, attr bool) {
	last := 0
	for i, r := range s {
		var esc string
		switch r {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		case '"':
			if attr {
				esc = "&quot;"
			}
		case '\n':
			if attr {
				esc = "&#xA;"
			}
		case '\t':
			if attr {
				esc = "&#x9;"
			}
		default:
			if r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r == utf8.RuneError && isBadRune(s[i:])) {
				esc = "\uFFFD"
			}
		}
		if esc == "" {
			continue
		}
		x.raw(s[last:i])
		x.raw(esc)
		_, size := utf8.DecodeRuneInString(s[i:])
		last = i + size
	}
	x.raw(s[last:])
}

// isBadRune reports whether s starts with a byte that is not UTF-8 (rather than a real U+FFFD).
func isBadRune(s string) bool {
	_, size := utf8.DecodeRuneInString(s)
	return size <= 1
}

// open writes the start tag of a property element; a namespace without a prefix is declared on the element.
func (x *xmlWriter) open(n xml.Name) { x.tag(n, false) }

func (x *xmlWriter) close(n xml.Name) {
	if p, ok := prefixes[n.Space]; ok {
		x.raw("</" + p + ":" + n.Local + ">")
		return
	}
	x.raw("</" + n.Local + ">")
}

// empty writes an empty element.
func (x *xmlWriter) empty(n xml.Name) { x.tag(n, true) }

func (x *xmlWriter) tag(n xml.Name, empty bool) {
	if p, ok := prefixes[n.Space]; ok {
		x.raw("<" + p + ":" + n.Local)
	} else {
		// The name came from the request's XML, so Local is a valid name; the namespace is escaped as an
		// attribute value.
		x.raw("<" + n.Local + ` xmlns="`)
		x.escape(n.Space, true)
		x.raw(`"`)
	}
	if empty {
		x.raw("/>")
	} else {
		x.raw(">")
	}
}

// element writes <n>text</n>.
func (x *xmlWriter) element(n xml.Name, text string) {
	x.open(n)
	x.text(text)
	x.close(n)
}

// href writes <d:href>path</d:href> inside an element.
func (x *xmlWriter) hrefIn(n xml.Name, href string) {
	x.open(n)
	x.element(davxml.Href, href)
	x.close(n)
}

func (x *xmlWriter) status(code int) {
	x.raw("<d:status>HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "</d:status>")
}

// propstats writes one DAV:propstat per status, each listing its properties as empty elements (the answer
// to a PROPPATCH or a failed extended MKCOL).
func (x *xmlWriter) propstats(byStatus map[int][]xml.Name) {
	codes := make([]int, 0, len(byStatus))
	for code := range byStatus {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		x.raw("<d:propstat><d:prop>")
		for _, n := range byStatus[code] {
			x.empty(n)
		}
		x.raw("</d:prop>")
		x.status(code)
		x.raw("</d:propstat>")
	}
}

func (x *xmlWriter) flush() error {
	if x.err == nil {
		x.err = x.w.Flush()
	}
	return x.err
}
