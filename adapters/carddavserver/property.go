package carddavserver

import (
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// vcardContentType is the media type of every stored resource (RFC 6350 section 10.1).
const vcardContentType = "text/vcard; charset=utf-8"

// collection is a resource that is not a vCard: the root, the principal and home collections, a principal, a
// home or an address book.
type collection struct {
	kind kind
	// user is the authenticated user (current-user-principal); owner is whose resource it is.
	user, owner string
	// book, token and maxSize describe an address book.
	book    bookInfo
	token   string
	maxSize int64
}

var (
	collectionAllProps = []xml.Name{davxml.ResourceType, davxml.DisplayName, davxml.CurrentUserPrincipal}
	bookAllProps       = []xml.Name{davxml.ResourceType, davxml.DisplayName, davxml.Description, davxml.CTag, davxml.CurrentUserPrincipal}
)

func (c *collection) allProps() []xml.Name {
	if c.kind == kindBook {
		return bookAllProps
	}
	return collectionAllProps
}

func (c *collection) prop(x *xmlWriter, name xml.Name) bool {
	isBook, owned := c.kind == kindBook, c.owner != ""
	switch name {
	case davxml.ResourceType:
		if x != nil {
			x.open(name)
			x.raw("<d:collection/>")
			switch c.kind {
			case kindPrincipal:
				x.raw("<d:principal/>")
			case kindBook:
				x.raw("<card:addressbook/>")
			}
			x.close(name)
		}
		return true
	case davxml.CurrentUserPrincipal:
		if x != nil {
			x.hrefIn(name, principalHref(c.user))
		}
		return true
	case davxml.Privileges:
		if x != nil {
			x.open(name)
			x.raw("<d:privilege><d:read/></d:privilege><d:privilege><d:read-current-user-privilege-set/></d:privilege>")
			if owned {
				x.raw("<d:privilege><d:write/></d:privilege><d:privilege><d:write-properties/></d:privilege>" +
					"<d:privilege><d:write-content/></d:privilege><d:privilege><d:bind/></d:privilege><d:privilege><d:unbind/></d:privilege>")
			}
			x.close(name)
		}
		return true
	case davxml.SupportedReportSet:
		if x != nil {
			x.open(name)
			if isBook {
				x.raw("<d:supported-report><d:report><d:sync-collection/></d:report></d:supported-report>" +
					"<d:supported-report><d:report><card:addressbook-multiget/></d:report></d:supported-report>" +
					"<d:supported-report><d:report><card:addressbook-query/></d:report></d:supported-report>")
			}
			x.close(name)
		}
		return true
	case davxml.PrincipalSet:
		if x != nil {
			x.hrefIn(name, principalsPath)
		}
		return true
	case davxml.DisplayName:
		return c.displayName(x)
	case davxml.Owner:
		if owned && x != nil {
			x.hrefIn(name, principalHref(c.owner))
		}
		return owned
	case davxml.PrincipalURL, davxml.HomeSet:
		ok := c.kind == kindPrincipal
		if ok && x != nil {
			href := principalHref(c.owner)
			if name == davxml.HomeSet {
				href = homeHref(c.owner)
			}
			x.hrefIn(name, href)
		}
		return ok
	}
	if !isBook {
		return false
	}
	switch name {
	case davxml.Description:
		if x != nil {
			x.element(name, c.book.description)
		}
	case davxml.SyncToken, davxml.CTag:
		if x != nil {
			x.element(name, c.token)
		}
	case davxml.SupportedAddressData:
		if x != nil {
			x.open(name)
			x.raw(`<card:address-data-type content-type="text/vcard" version="3.0"/>` +
				`<card:address-data-type content-type="text/vcard" version="4.0"/>`)
			x.close(name)
		}
	case davxml.MaxResourceSize:
		if x != nil {
			x.element(name, strconv.FormatInt(c.maxSize, 10))
		}
	default:
		return false
	}
	return true
}

func (c *collection) displayName(x *xmlWriter) bool {
	var name string
	switch c.kind {
	case kindPrincipal:
		name = c.owner
	case kindHome:
		name = c.owner + "'s address books"
	case kindBook:
		name = c.book.displayName
		if name == "" {
			name = c.book.name
		}
	default:
		return false
	}
	if x != nil {
		x.element(davxml.DisplayName, name)
	}
	return true
}

// object is a vCard resource: its members row and, when address-data was asked for, its body.
type object struct {
	m    *member
	data []byte
	user string
}

var objectAllProps = []xml.Name{davxml.ResourceType, davxml.GetETag, davxml.GetContentType, davxml.GetContentLength, davxml.GetLastModified}

func (o *object) allProps() []xml.Name { return objectAllProps }

func (o *object) prop(x *xmlWriter, name xml.Name) bool {
	if x == nil {
		switch name {
		case davxml.ResourceType, davxml.GetETag, davxml.GetContentType, davxml.GetContentLength, davxml.GetLastModified, davxml.CurrentUserPrincipal:
			return true
		case davxml.AddressData:
			return o.data != nil
		}
		return false
	}
	switch name {
	case davxml.ResourceType:
		x.empty(name)
	case davxml.GetETag:
		x.element(name, o.m.etag)
	case davxml.GetContentType:
		x.element(name, vcardContentType)
	case davxml.GetContentLength:
		x.element(name, strconv.FormatInt(o.m.size, 10))
	case davxml.GetLastModified:
		x.element(name, o.m.modified.Format(http.TimeFormat))
	case davxml.CurrentUserPrincipal:
		x.hrefIn(name, principalHref(o.user))
	case davxml.AddressData:
		x.open(name)
		x.textBytes(o.data)
		x.close(name)
	default:
		return false
	}
	return true
}
