package carddav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

const (
	nsDAV     = davxml.NSDAV
	nsCardDAV = davxml.NSCardDAV
	nsCS      = davxml.NSCS

	// maxXMLDepth bounds nesting; a multistatus is six levels deep, a supported-report-set nine.
	maxXMLDepth = 48
	// maxXMLElements bounds the elements held at once (a whole small body, or one DAV:response of a
	// streamed multistatus), so a body of tiny empty elements cannot cost far more memory than its size.
	maxXMLElements = 100_000
)

// node is one element of a parsed XML body, with its own character data.
type node struct {
	name     xml.Name
	text     []byte
	children []*node
}

func (n *node) is(space, local string) bool {
	return n.name.Space == space && n.name.Local == local
}

// child returns the first child element with the given name, or nil.
func (n *node) child(space, local string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.is(space, local) {
			return c
		}
	}
	return nil
}

// has reports whether the element or any of its descendants has the given name. Servers differ in how
// deep they nest (Xandikos leaves out the DAV:report wrapper of supported-report-set), so searching the
// subtree reads both.
func (n *node) has(space, local string) bool {
	if n == nil {
		return false
	}
	for _, c := range n.children {
		if c.is(space, local) || c.has(space, local) {
			return true
		}
	}
	return false
}

// trimmed returns the element's text without surrounding white space.
func (n *node) trimmed() string {
	if n == nil {
		return ""
	}
	return string(bytes.TrimSpace(n.text))
}

// parseXML reads one XML document into a tree, refusing DTDs (no entity tricks), non-UTF-8 encodings,
// nesting deeper than maxXMLDepth and more than maxXMLElements elements held at once. The caller bounds the
// size of r.
func parseXML(r io.Reader) (*node, error) {
	return streamXML(r, nil, nil)
}

// streamXML is parseXML that hands each child of the root to onChild as soon as it is complete and then
// forgets it, so a listing of 100,000 members never sits in memory as one tree. onRoot, when set, sees the
// root element first and can refuse the document.
func streamXML(r io.Reader, onRoot func(*node) error, onChild func(*node) error) (*node, error) {
	src := &readErrors{r: r}
	d := xml.NewDecoder(src)
	var (
		root  *node
		stack []*node
		held  int
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if src.err != nil {
				// A failure to read (the body over its limit, a cut connection) is not the server's XML.
				return nil, src.err
			}
			return nil, fmt.Errorf("%w: xml: %v", ErrMalformedResponse, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			held++
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("%w: xml nested deeper than %d", ErrMalformedResponse, maxXMLDepth)
			}
			if held > maxXMLElements {
				return nil, fmt.Errorf("%w: xml holds more than %d elements", ErrMalformedResponse, maxXMLElements)
			}
			n := &node{name: t.Name}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: xml has several root elements", ErrMalformedResponse)
				}
				root = n
				if onRoot != nil {
					if err := onRoot(n); err != nil {
						return nil, err
					}
				}
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			done := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(stack) == 1 && onChild != nil {
				root.children = root.children[:len(root.children)-1]
				held = 1
				if err := onChild(done); err != nil {
					return nil, err
				}
			}
		case xml.CharData:
			// Text directly inside a streamed root is only white space between responses; keeping it would
			// let a body of blanks grow without bound.
			if len(stack) > 1 || (len(stack) == 1 && onChild == nil) {
				top := stack[len(stack)-1]
				top.text = append(top.text, t...)
			}
		case xml.Directive:
			return nil, fmt.Errorf("%w: xml directives (DTD) are refused", ErrMalformedResponse)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: empty xml body", ErrMalformedResponse)
	}
	return root, nil
}

// msResponse is one DAV:response: either a status for its hrefs, or propstats for its one href.
type msResponse struct {
	hrefs     []string
	status    int
	propstats []propstat
}

type propstat struct {
	status int
	prop   *node
}

// prop returns a property the server reported with a 2xx status, or nil.
func (r *msResponse) prop(space, local string) *node {
	for _, ps := range r.propstats {
		if ps.status/100 != 2 {
			continue
		}
		if p := ps.prop.child(space, local); p != nil {
			return p
		}
	}
	return nil
}

// parseMultistatus reads a DAV:multistatus body (RFC 4918 section 14.16) and hands each DAV:response to
// each as it is parsed; it returns the RFC 6578 DAV:sync-token, if the body has one. Unknown elements are
// ignored. A response without an href, or a status line that is not one, fails the whole body: a server
// that sends those cannot be trusted with the rest.
func parseMultistatus(r io.Reader, each func(*msResponse) error) (syncToken string, err error) {
	onRoot := func(root *node) error {
		if !root.is(nsDAV, "multistatus") {
			return fmt.Errorf("%w: root element is %q %q, want DAV: multistatus", ErrMalformedResponse, clip(root.name.Space), clip(root.name.Local))
		}
		return nil
	}
	onChild := func(c *node) error {
		switch {
		case c.is(nsDAV, "sync-token"):
			syncToken = c.trimmed()
		case c.is(nsDAV, "response"):
			resp, err := parseResponse(c)
			if err != nil {
				return err
			}
			return each(&resp)
		}
		return nil
	}
	if _, err := streamXML(r, onRoot, onChild); err != nil {
		return "", err
	}
	return syncToken, nil
}

func parseResponse(n *node) (msResponse, error) {
	var resp msResponse
	for _, c := range n.children {
		switch {
		case c.is(nsDAV, "href"):
			resp.hrefs = append(resp.hrefs, c.trimmed())
		case c.is(nsDAV, "status"):
			st, err := parseStatusLine(c.trimmed())
			if err != nil {
				return resp, err
			}
			resp.status = st
		case c.is(nsDAV, "propstat"):
			ps := propstat{prop: c.child(nsDAV, "prop")}
			st, err := parseStatusLine(c.child(nsDAV, "status").trimmed())
			if err != nil {
				return resp, err
			}
			ps.status = st
			resp.propstats = append(resp.propstats, ps)
		}
	}
	if len(resp.hrefs) == 0 {
		return resp, fmt.Errorf("%w: response without href", ErrMalformedResponse)
	}
	if resp.status == 0 && len(resp.propstats) == 0 {
		return resp, fmt.Errorf("%w: response for %q has neither status nor propstat", ErrMalformedResponse, clip(resp.hrefs[0]))
	}
	return resp, nil
}

// parseStatusLine reads "HTTP/1.1 404 Not Found" as 404.
func parseStatusLine(s string) (int, error) {
	fields := strings.Fields(s)
	if len(fields) >= 2 && strings.HasPrefix(fields[0], "HTTP/") && len(fields[1]) == 3 {
		if code, err := strconv.Atoi(fields[1]); err == nil && code >= 100 && code <= 599 {
			return code, nil
		}
	}
	return 0, fmt.Errorf("%w: bad status line %q", ErrMalformedResponse, clip(s))
}

// davError is what a DAV:error body (RFC 4918 section 16) says.
type davError struct {
	// condition is the precondition or postcondition element, as "namespace local"; "" when there is none.
	condition string
	// message is a vendor's human-readable account of the error (SabreDAV's s:exception and s:message), for
	// the error text only.
	message string
}

// vendorInfo are the elements SabreDAV (and Nextcloud and ownCloud, built on it) put in a DAV:error before
// the condition: an account of the exception (with the header a PreconditionFailed is about), not a
// condition.
var vendorInfo = []string{"exception", "message", "sabredav-version", "header", "file", "line", "code", "stacktrace"}

// parseDAVError reads a DAV:error body. Every child is looked at, since a server may put vendor elements
// first (SabreDAV does): the condition is the first child in the DAV: or CardDAV namespace (the
// preconditions of RFC 4918 section 16, RFC 6578 section 3.2 and RFC 6352 sections 6.3.2.1 and 8), else the
// first vendor element that is not an account of the exception, which is kept as the message instead.
func parseDAVError(body []byte) davError {
	root, err := parseXML(bytes.NewReader(body))
	if err != nil || !root.is(nsDAV, "error") {
		return davError{}
	}
	var e davError
	var vendorCondition, exception, message string
	for _, c := range root.children {
		switch {
		case c.name.Space == nsDAV || c.name.Space == nsCardDAV:
			if e.condition == "" {
				e.condition = c.name.Space + " " + c.name.Local
			}
		case slices.Contains(vendorInfo, c.name.Local):
			switch c.name.Local {
			case "exception":
				exception = c.trimmed()
			case "message":
				message = c.trimmed()
			}
		case vendorCondition == "":
			vendorCondition = c.name.Space + " " + c.name.Local
		}
	}
	if e.condition == "" {
		e.condition = vendorCondition
	}
	switch {
	case exception != "" && message != "":
		e.message = exception + ": " + message
	default:
		e.message = exception + message
	}
	e.message = clip(strings.Join(strings.Fields(e.message), " "))
	return e
}

// clip shortens text from a server before it goes into an error message.
func clip(s string) string {
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// readErrors remembers the first error of its reader other than io.EOF.
type readErrors struct {
	r   io.Reader
	err error
}

func (r *readErrors) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && r.err == nil {
		r.err = err
	}
	return n, err
}
