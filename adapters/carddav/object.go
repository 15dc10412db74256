package carddav

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// Object is a contact as fetched: its href, ETag and vCard bytes. Err is set instead of Data, per member,
// by MultiGet: an *HTTPError matching ErrNotFound when the server reports the member gone, or an error
// matching ErrIncompleteResponse, ErrBadHref, ErrResponseTooLarge or ErrMalformedResponse.
type Object struct {
	Href string
	ETag ETag
	Data []byte
	Err  error
}

// Get fetches one contact.
func (c *Client) Get(ctx context.Context, href string) (*Object, error) {
	p, err := c.href(href)
	if err != nil {
		return nil, fmt.Errorf("carddav: get %s: %w", clip(href), err)
	}
	rp, err := c.do(ctx, request{
		method: http.MethodGet,
		path:   p,
		header: http.Header{"Accept": {"text/vcard, text/x-vcard;q=0.9, */*;q=0.1"}},
		limit:  c.cfg.maxObject,
		check: func(_ int, h http.Header) error {
			if t := mediaType(h); t == "text/html" || t == "application/xhtml+xml" {
				return fmt.Errorf("%w: got %s where a vCard was expected", ErrMalformedResponse, t)
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	if err := checkVCard(rp.body); err != nil {
		return nil, fmt.Errorf("carddav: GET %s: %w", p, err)
	}
	return &Object{Href: p, ETag: ETag(strings.TrimSpace(rp.header.Get("ETag"))), Data: rp.body}, nil
}

// checkVCard refuses a body that is not a vCard at all (an HTML error page served as 200, say): storing it
// as a contact would lose the real one. The content is otherwise left to the caller.
func checkVCard(b []byte) error {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) < len("BEGIN:VCARD") || !strings.EqualFold(string(b[:len("BEGIN:VCARD")]), "BEGIN:VCARD") {
		return fmt.Errorf("%w: body does not start with BEGIN:VCARD", ErrMalformedResponse)
	}
	return nil
}

// Put writes a contact under the given condition (CreateOnly for a new one, IfMatch(etag) for an update)
// and returns its new ETag: from the response, or when the server sends none, from a PROPFIND right after
// (another client writing in between would make that its ETag; the next conditional write then fails with
// 412 and the caller merges, so nothing is lost). A 412 gives an error matching ErrPreconditionFailed.
func (c *Client) Put(ctx context.Context, href string, body []byte, cond Condition) (ETag, error) {
	etag, err := c.Write(ctx, href, body, cond)
	if err != nil || etag != "" {
		return etag, err
	}
	p, _ := c.href(href) // Write resolved it already
	return c.etagOf(ctx, p)
}

// Write is Put without the lookup: the ETag is "" when the server answered without one. A caller writing many
// contacts (the sync engine) fetches the missing tags of a whole run of writes in one request instead.
func (c *Client) Write(ctx context.Context, href string, body []byte, cond Condition) (ETag, error) {
	p, err := c.href(href)
	if err != nil {
		return "", fmt.Errorf("carddav: put %s: %w", clip(href), err)
	}
	if cond.IfNoneMatch && cond.IfMatch != "" {
		return "", fmt.Errorf("carddav: put %s: condition has both If-None-Match and If-Match", p)
	}
	h := http.Header{"Content-Type": {"text/vcard; charset=utf-8"}}
	cond.header(h)
	rp, err := c.do(ctx, request{method: http.MethodPut, path: p, header: h, body: body})
	if err != nil {
		return "", err
	}
	return ETag(strings.TrimSpace(rp.header.Get("ETag"))), nil
}

// etagOf reads one member's getetag with a Depth 0 PROPFIND.
func (c *Client) etagOf(ctx context.Context, p string) (ETag, error) {
	_, r, err := c.propfindOne(ctx, p, []xml.Name{davxml.GetETag})
	if err != nil {
		return "", err
	}
	etag := ETag(r.prop(nsDAV, "getetag").trimmed())
	if etag == "" {
		return "", fmt.Errorf("carddav: PROPFIND %s: %w: no getetag", p, ErrMalformedResponse)
	}
	return etag, nil
}

// Delete removes a contact if its ETag is still etag (an empty etag deletes unconditionally). A member
// already gone gives an error matching ErrNotFound, a newer version one matching ErrPreconditionFailed.
func (c *Client) Delete(ctx context.Context, href string, etag ETag) error {
	p, err := c.href(href)
	if err != nil {
		return fmt.Errorf("carddav: delete %s: %w", clip(href), err)
	}
	h := http.Header{}
	IfMatch(etag).header(h)
	_, err = c.do(ctx, request{method: http.MethodDelete, path: p, header: h})
	return err
}
