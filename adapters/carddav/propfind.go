package carddav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

var prefixes = map[string]string{nsDAV: "d", nsCardDAV: "card", nsCS: "cs"}

// xmlBody writes a request body: a root element in namespace space, declaring the three namespaces used,
// with inner as its content.
func xmlBody(space, local string, inner func(b *bytes.Buffer)) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<%s:%s xmlns:d="DAV:" xmlns:card="%s" xmlns:cs="%s">`, prefixes[space], local, nsCardDAV, nsCS)
	inner(&b)
	fmt.Fprintf(&b, `</%s:%s>`, prefixes[space], local)
	return b.Bytes()
}

// writeProp writes <d:prop> with one empty element per name.
func writeProp(b *bytes.Buffer, props []xml.Name) {
	b.WriteString("<d:prop>")
	for _, p := range props {
		fmt.Fprintf(b, "<%s:%s/>", prefixes[p.Space], p.Local)
	}
	b.WriteString("</d:prop>")
}

// writeText writes an element with escaped text content.
func writeText(b *bytes.Buffer, qname, text string) {
	fmt.Fprintf(b, "<%s>", qname)
	_ = xml.EscapeText(b, []byte(text))
	fmt.Fprintf(b, "</%s>", qname)
}

// xmlHeader is the header of every XML request; Xandikos answers 415 when the type is missing.
func xmlHeader(depth string) http.Header {
	h := http.Header{"Content-Type": {`application/xml; charset="utf-8"`}}
	if depth != "" {
		h.Set("Depth", depth)
	}
	return h
}

func propfindRequest(path, depth string, props []xml.Name) request {
	return request{
		method: "PROPFIND",
		path:   path,
		header: xmlHeader(depth),
		body:   xmlBody(nsDAV, "propfind", func(b *bytes.Buffer) { writeProp(b, props) }),
	}
}

// maxRedirects bounds the hops discovery follows.
const maxRedirects = 5

// propfindFollow is a PROPFIND that follows redirects by hand, re-issuing the PROPFIND at each Location
// (RFC 6764 section 5), on the endpoint's origin only: credentials are never sent to a host the user did
// not name. It returns the path that finally answered.
func (c *Client) propfindFollow(ctx context.Context, path, depth string, props []xml.Name, each func(*msResponse) error) (string, error) {
	for hop := 0; ; hop++ {
		_, err := c.multistatus(ctx, propfindRequest(path, depth, props), each)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status/100 != 3 || he.Status == http.StatusNotModified || he.Location == "" {
			return path, err
		}
		if hop == maxRedirects {
			return path, fmt.Errorf("carddav: PROPFIND %s: more than %d redirects", path, maxRedirects)
		}
		cur := *c.endpoint
		setPath(&cur, path)
		loc, perr := url.Parse(he.Location)
		if perr != nil {
			return path, fmt.Errorf("carddav: PROPFIND %s: redirect to unparsable Location: %w", path, ErrMalformedResponse)
		}
		target := cur.ResolveReference(loc)
		if !sameOrigin(c.endpoint, target) {
			return path, fmt.Errorf("carddav: PROPFIND %s: redirected to another origin (%s://%s); use that URL as the endpoint", path, target.Scheme, target.Host)
		}
		next, perr := canonicalPath(target.EscapedPath())
		if perr != nil {
			return path, fmt.Errorf("carddav: PROPFIND %s: redirect: %w", path, perr)
		}
		c.cfg.logger.DebugContext(ctx, "carddav redirect", "from", path, "to", next, "status", he.Status)
		path = next
	}
}
