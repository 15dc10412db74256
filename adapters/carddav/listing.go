package carddav

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// Listing is the answer to ListETags.
type Listing struct {
	Members  []Member
	Rejected []Rejected
}

// ListETags lists every member of the address book with its ETag (PROPFIND Depth 1), for servers without
// sync-collection. It costs a full listing every time; prefer SyncCollection where AddressBook.SupportsSync.
func (c *Client) ListETags(ctx context.Context, abURL string) (*Listing, error) {
	col, base, err := c.collection(abURL)
	if err != nil {
		return nil, fmt.Errorf("carddav: list %s: %w", clip(abURL), err)
	}
	l := &Listing{}
	_, err = c.multistatus(ctx, propfindRequest(col, "1", []xml.Name{davxml.GetETag, davxml.ResourceType}), func(r *msResponse) error {
		for _, h := range r.hrefs {
			p, self, err := memberOf(base, col, h)
			switch {
			case err != nil:
				l.Rejected = append(l.Rejected, Rejected{Href: clip(h), Err: err})
			case self || strings.HasSuffix(p, "/") || r.prop(nsDAV, "resourcetype").child(nsDAV, "collection") != nil:
				// The collection itself, or a sub-collection: not contacts.
			case r.status != 0 && r.status/100 != 2:
				l.Rejected = append(l.Rejected, Rejected{Href: p, Err: memberError("PROPFIND", p, r.status)})
			default:
				l.Members = append(l.Members, Member{Href: p, ETag: ETag(r.prop(nsDAV, "getetag").trimmed())})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}
