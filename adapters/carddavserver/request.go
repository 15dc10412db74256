package carddavserver

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// Limits on a request body of XML, beyond its size: nesting (the deepest request, a query filter, is seven
// levels) and elements held (a multiget of 100,000 hrefs is 100,004).
const (
	maxXMLDepth    = 32
	maxXMLElements = 200_000
)

// node is one element of a request body with its own character data.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	text     []byte
	children []*node
}

func (n *node) is(space, local string) bool {
	return n != nil && n.name.Space == space && n.name.Local == local
}

// child returns the first child with the given name, or nil.
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

// kids returns the element's children; none for a missing element.
func (n *node) kids() []*node {
	if n == nil {
		return nil
	}
	return n.children
}

func (n *node) trimmed() string {
	if n == nil {
		return ""
	}
	return string(bytes.TrimSpace(n.text))
}

func (n *node) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

func badXML(format string, args ...any) *statusError {
	return failf(http.StatusBadRequest, "request body: "+format, args...)
}

// parseXML reads one XML document into a tree. It refuses DTDs (so no entity expansion), nesting deeper than
// maxXMLDepth and more than maxXMLElements elements; the caller bounds the body's size. An empty body gives
// a nil tree.
func parseXML(r io.Reader) (*node, error) {
	d := xml.NewDecoder(r)
	var root *node
	var stack []*node
	elements := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *statusError
			if errors.As(err, &se) {
				return nil, se // from the body itself: it stalled
			}
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, failf(http.StatusRequestEntityTooLarge, "request body over %d bytes", mbe.Limit)
			}
			return nil, badXML("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if len(stack) >= maxXMLDepth {
				return nil, badXML("nested deeper than %d", maxXMLDepth)
			}
			if elements > maxXMLElements {
				return nil, badXML("more than %d elements", maxXMLElements)
			}
			n := &node{name: t.Name, attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, badXML("several root elements")
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.text = append(top.text, t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, badXML("text outside the root element")
			}
		case xml.Directive:
			return nil, badXML("DTDs are refused")
		}
	}
	if len(stack) != 0 {
		return nil, badXML("unexpected end")
	}
	return root, nil
}

// requestLimits bound what one request may ask the server to do, where the size of the body alone does not:
// a property or href named in a few bytes can cost a response element for every member of an address book,
// and a filter element a test of every vCard.
type requestLimits struct {
	properties   int // distinct properties of a DAV:prop
	hrefs        int // distinct hrefs of a multiget
	queryFilters int // prop-filter, param-filter and text-match elements of a query
}

// maxPropertyName bounds the namespace and local name of a property asked for, together: a missing property
// is echoed under 404 in the response of every resource listed.
const maxPropertyName = 512

// tooMuch refuses a request that asks for more than a limit allows. RFC 4918 lets a server refuse requests
// it will not serve (this one refuses Depth infinity the same way). The status is 400, not 507: 507 says the
// server lacks the storage to complete the request, which clients show as a full quota and may retry later,
// while here the request is what is wrong, and the same request will always be refused. The DAV:error names
// the limit with a condition in the server's own namespace, which RFC 4918 section 16 allows.
func tooMuch(condition, format string, args ...any) *statusError {
	return precondition(http.StatusBadRequest, nsLimits, condition, format, args...)
}

// propRequest is what a PROPFIND or a report asks for: all properties, their names, or a list.
type propRequest struct {
	all   bool
	names bool
	// props are the properties asked for, each once, in the order first asked.
	props []xml.Name
	// addressData is the CARDDAV:address-data element of the request, when it asks for one.
	addressData bool
}

// wants reports whether the request lists the property.
func (p propRequest) wants(name xml.Name) bool {
	return slices.Contains(p.props, name)
}

// parseProps reads the DAV:prop, DAV:allprop or DAV:propname child of a request's root; a root with none of
// them means allprop (RFC 4918 section 9.1). A property named twice is asked for once, so a request that
// repeats one cannot make every response repeat it.
func parseProps(root *node, lim requestLimits) (propRequest, error) {
	var p propRequest
	switch {
	case root.child(nsDAV, "propname") != nil:
		p.names = true
	case root.child(nsDAV, "prop") != nil:
		kids := root.child(nsDAV, "prop").kids()
		seen := make(map[xml.Name]bool, min(len(kids), lim.properties))
		for _, c := range kids {
			if seen[c.name] {
				continue
			}
			if len(seen) == lim.properties {
				return p, tooMuch("too-many-properties", "more than %d distinct properties asked for", lim.properties)
			}
			if len(c.name.Space)+len(c.name.Local) > maxPropertyName {
				return p, badXML("a property name over %d bytes", maxPropertyName)
			}
			seen[c.name] = true
			p.props = append(p.props, c.name)
		}
		if len(p.props) == 0 {
			return p, badXML("empty DAV:prop")
		}
	default:
		p.all = true
	}
	p.addressData = p.wants(davxml.AddressData)
	return p, nil
}

// parsePropfind reads a PROPFIND body (RFC 4918 section 14.20); an empty body is allprop.
func parsePropfind(r io.Reader, lim requestLimits) (propRequest, error) {
	root, err := parseXML(r)
	if err != nil {
		return propRequest{}, err
	}
	if root == nil {
		return propRequest{all: true}, nil
	}
	if !root.is(nsDAV, "propfind") {
		return propRequest{}, badXML("root element is not DAV:propfind")
	}
	return parseProps(root, lim)
}

// syncRequest is a DAV:sync-collection report (RFC 6578 section 6.1).
type syncRequest struct {
	token string
	limit int
	props propRequest
}

// multigetRequest is a CARDDAV:addressbook-multiget report (RFC 6352 section 8.7).
type multigetRequest struct {
	props propRequest
	// hrefs are the hrefs asked for, each once, in the order first asked.
	hrefs []string
}

// queryRequest is a CARDDAV:addressbook-query report (RFC 6352 section 8.6).
type queryRequest struct {
	props  propRequest
	filter filter
	limit  int
}

// parseReport reads a REPORT body into a *syncRequest, *multigetRequest or *queryRequest. Another report is
// 403 with DAV:supported-report (RFC 3253 section 3.6).
func parseReport(r io.Reader, lim requestLimits) (any, error) {
	root, err := parseXML(r)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, badXML("REPORT without a body")
	}
	switch {
	case root.is(nsDAV, "sync-collection"):
		return parseSync(root, lim)
	case root.is(nsCardDAV, "addressbook-multiget"):
		return parseMultiget(root, lim)
	case root.is(nsCardDAV, "addressbook-query"):
		return parseQuery(root, lim)
	}
	return nil, precondition(http.StatusForbidden, nsDAV, "supported-report", "report %q %q is not supported", clip(root.name.Space), clip(root.name.Local))
}

// parseMultiget reads a multiget. An href named twice is asked for once, like a property: the answer to each
// may be a whole vCard.
func parseMultiget(root *node, lim requestLimits) (*multigetRequest, error) {
	props, err := parseProps(root, lim)
	if err != nil {
		return nil, err
	}
	req := &multigetRequest{props: props}
	seen := map[string]bool{}
	for _, c := range root.children {
		if !c.is(nsDAV, "href") {
			continue
		}
		href := c.trimmed()
		if seen[href] {
			continue
		}
		if len(seen) == lim.hrefs {
			return nil, tooMuch("too-many-hrefs", "more than %d distinct hrefs asked for", lim.hrefs)
		}
		seen[href] = true
		req.hrefs = append(req.hrefs, href)
	}
	return req, nil
}

func parseSync(root *node, lim requestLimits) (*syncRequest, error) {
	props, err := parseProps(root, lim)
	if err != nil {
		return nil, err
	}
	req := &syncRequest{props: props}
	tok := root.child(nsDAV, "sync-token")
	if tok == nil {
		return nil, badXML("sync-collection without DAV:sync-token")
	}
	req.token = tok.trimmed()
	// A member of an address book is never a collection, so level infinite lists the same as level 1.
	if lvl := root.child(nsDAV, "sync-level"); lvl != nil && lvl.trimmed() != "1" && lvl.trimmed() != "infinite" {
		return nil, badXML("sync-level must be 1 or infinite")
	}
	if req.limit, err = parseLimit(root.child(nsDAV, "limit"), nsDAV); err != nil {
		return nil, err
	}
	return req, nil
}

// parseLimit reads a DAV:limit or CARDDAV:limit element's nresults; 0 means no limit.
func parseLimit(lim *node, space string) (int, error) {
	if lim == nil {
		return 0, nil
	}
	nr := lim.child(space, "nresults")
	if nr == nil {
		return 0, badXML("limit without nresults")
	}
	n, err := strconv.Atoi(nr.trimmed())
	if err != nil || n < 1 {
		return 0, badXML("nresults must be a positive integer")
	}
	return n, nil
}

// mkcolRequest is the DAV:set of an extended MKCOL (RFC 5689): the properties to give the new collection.
type mkcolRequest struct {
	set []*node
}

// parseMkcol reads an extended MKCOL body; an empty body is a plain MKCOL.
func parseMkcol(r io.Reader) (mkcolRequest, error) {
	root, err := parseXML(r)
	if err != nil || root == nil {
		return mkcolRequest{}, err
	}
	if !root.is(nsDAV, "mkcol") {
		return mkcolRequest{}, badXML("root element is not DAV:mkcol")
	}
	var req mkcolRequest
	for _, s := range root.children {
		if s.is(nsDAV, "set") {
			req.set = append(req.set, s.child(nsDAV, "prop").kids()...)
		}
	}
	return req, nil
}

// patch is one property of a PROPPATCH, in document order: set to value, or removed.
type patch struct {
	remove bool
	prop   *node
}

// parseProppatch reads a DAV:propertyupdate body (RFC 4918 section 14.19).
func parseProppatch(r io.Reader) ([]patch, error) {
	root, err := parseXML(r)
	if err != nil {
		return nil, err
	}
	if !root.is(nsDAV, "propertyupdate") {
		return nil, badXML("root element is not DAV:propertyupdate")
	}
	var out []patch
	for _, op := range root.children {
		remove := op.is(nsDAV, "remove")
		if !remove && !op.is(nsDAV, "set") {
			continue
		}
		for _, p := range op.child(nsDAV, "prop").kids() {
			out = append(out, patch{remove: remove, prop: p})
		}
	}
	if len(out) == 0 {
		return nil, badXML("propertyupdate changes nothing")
	}
	return out, nil
}

// describe names an XML element for an error message.
func describe(n xml.Name) string {
	return fmt.Sprintf("{%s}%s", clip(n.Space), clip(n.Local))
}

// isVCardType reports whether a request's Content-Type is vCard text (or absent).
func isVCardType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "" || mt == "text/vcard" || mt == "text/x-vcard" || mt == "text/directory"
}
