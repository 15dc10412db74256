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

// QueryAll streams every contact of the address book, with its ETag and vCard, from one addressbook-query
// report without a filter (RFC 6352 section 8.6), handing each to fn as soon as it is read: a book of any size
// never sits in memory at once. It is the fast way to fetch most of a book: Xandikos 0.2.8 answers each href
// of an addressbook-multiget in time that grows with the book, but a query over the whole book in one pass.
//
// Objects are as MultiGet gives them: a member the server answers with an error, a vCard that is not one or
// over WithMaxObjectSize, or an href outside the collection comes with Err set. An error fn returns stops the
// stream and is returned as is. A server without the report gives an error matching ErrNotSupported; an
// answer over WithMaxXMLSize, or one the server truncated (a 507 on the collection, RFC 6352 section 8.6.1),
// gives an error matching ErrResponseTooLarge after the objects read so far were handed to fn. Either way the
// caller fetches what it still lacks with MultiGet.
func (c *Client) QueryAll(ctx context.Context, abURL string, fn func(Object) error) error {
	col, base, err := c.collection(abURL)
	if err != nil {
		return fmt.Errorf("carddav: query %s: %w", clip(abURL), err)
	}
	body := xmlBody(nsCardDAV, "addressbook-query", func(b *bytes.Buffer) {
		writeProp(b, []xml.Name{davxml.GetETag, davxml.AddressData})
		b.WriteString("<card:filter/>")
	})
	truncated := false
	var fnErr error
	_, err = c.multistatus(ctx, request{method: "REPORT", path: col, header: xmlHeader("1"), body: body},
		func(r *msResponse) error {
			for _, h := range r.hrefs {
				p, self, err := memberOf(base, col, h)
				var o Object
				switch {
				case err != nil:
					o = Object{Href: clip(h), Err: err}
				case self:
					truncated = truncated || r.status == http.StatusInsufficientStorage
					continue
				case strings.HasSuffix(p, "/"):
					continue // a sub-collection is not a contact
				default:
					o = Object{Href: p}
					c.fillObject(&o, r)
				}
				if err := fn(o); err != nil {
					fnErr = err
					return err
				}
			}
			return nil
		})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return err
	}
	if truncated {
		return fmt.Errorf("carddav: REPORT %s: %w: the server cut the query short", col, ErrResponseTooLarge)
	}
	return nil
}
