package carddav

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// AddressBook is an address-book collection as the server describes it.
type AddressBook struct {
	// Href is the collection's canonical path, with its trailing slash; URL is the same as an absolute URL.
	Href string
	URL  string

	DisplayName string
	Description string
	// CTag (calendarserver getctag) and SyncToken change whenever a member changes; empty where the server
	// does not report them.
	CTag      string
	SyncToken string
	// SupportsSync reports sync-collection (RFC 6578) in the collection's supported-report-set; without it,
	// use ListETags.
	SupportsSync bool
}

// addressBookProps are the properties that fill an AddressBook.
var addressBookProps = []xml.Name{
	davxml.ResourceType, davxml.DisplayName, davxml.Description, davxml.CTag, davxml.SyncToken, davxml.SupportedReportSet,
}

// addressBookFrom reads an AddressBook out of a PROPFIND response about path; ok is false when the
// resource is not an address book.
func (c *Client) addressBookFrom(path string, r *msResponse) (ab AddressBook, ok bool) {
	rt := r.prop(davxml.ResourceType.Space, davxml.ResourceType.Local)
	if rt.child(nsCardDAV, "addressbook") == nil {
		return AddressBook{}, false
	}
	srs := r.prop(davxml.SupportedReportSet.Space, davxml.SupportedReportSet.Local)
	return AddressBook{
		Href:         path,
		URL:          c.URL(path),
		DisplayName:  r.prop(davxml.DisplayName.Space, davxml.DisplayName.Local).trimmed(),
		Description:  r.prop(davxml.Description.Space, davxml.Description.Local).trimmed(),
		CTag:         r.prop(davxml.CTag.Space, davxml.CTag.Local).trimmed(),
		SyncToken:    r.prop(davxml.SyncToken.Space, davxml.SyncToken.Local).trimmed(),
		SupportsSync: srs.has(nsDAV, "sync-collection"),
	}, true
}

// AddressBook reads the properties of the address book at abURL (a path or a URL on the endpoint's
// origin). It fails with ErrNoAddressBook when the collection exists but is not an address book.
func (c *Client) AddressBook(ctx context.Context, abURL string) (AddressBook, error) {
	p, _, err := c.collection(abURL)
	if err != nil {
		return AddressBook{}, fmt.Errorf("carddav: address book %s: %w", clip(abURL), err)
	}
	final, r, err := c.propfindOne(ctx, p, addressBookProps)
	if err != nil {
		return AddressBook{}, err
	}
	ab, ok := c.addressBookFrom(final, r)
	if !ok {
		return AddressBook{}, fmt.Errorf("carddav: %s is not an address book: %w", final, ErrNoAddressBook)
	}
	return ab, nil
}

// CreateAddressBook makes a new address book at abURL with an extended MKCOL (RFC 5689) and returns it as
// the server then describes it (Xandikos, for one, drops the description). A collection that already exists
// gives an *HTTPError matching ErrMethodNotAllowed (RFC 4918 section 9.3.1).
func (c *Client) CreateAddressBook(ctx context.Context, abURL, displayName, description string) (AddressBook, error) {
	p, _, err := c.collection(abURL)
	if err != nil {
		return AddressBook{}, fmt.Errorf("carddav: create address book %s: %w", clip(abURL), err)
	}
	body := xmlBody(nsDAV, "mkcol", func(b *bytes.Buffer) {
		b.WriteString("<d:set><d:prop><d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>")
		if displayName != "" {
			writeText(b, "d:displayname", displayName)
		}
		if description != "" {
			writeText(b, "card:addressbook-description", description)
		}
		b.WriteString("</d:prop></d:set>")
	})
	_, err = c.do(ctx, request{method: "MKCOL", path: p, header: xmlHeader(""), body: body})
	if err != nil {
		return AddressBook{}, err
	}
	return c.AddressBook(ctx, p)
}

// DeleteAddressBook removes the address book at abURL and everything in it.
func (c *Client) DeleteAddressBook(ctx context.Context, abURL string) error {
	p, _, err := c.collection(abURL)
	if err != nil {
		return fmt.Errorf("carddav: delete address book %s: %w", clip(abURL), err)
	}
	_, err = c.do(ctx, request{method: http.MethodDelete, path: p})
	return err
}
