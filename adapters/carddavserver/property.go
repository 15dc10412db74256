package carddavserver

import (
	"encoding/xml"
	"net/http"
	"strconv"
)

// Property and element names.
var (
	davHref                = xml.Name{Space: nsDAV, Local: "href"}
	propGetETag            = xml.Name{Space: nsDAV, Local: "getetag"}
	propGetContentType     = xml.Name{Space: nsDAV, Local: "getcontenttype"}
	propGetContentLength   = xml.Name{Space: nsDAV, Local: "getcontentlength"}
	propGetLastModified    = xml.Name{Space: nsDAV, Local: "getlastmodified"}
	propResourceType       = xml.Name{Space: nsDAV, Local: "resourcetype"}
	propDisplayName        = xml.Name{Space: nsDAV, Local: "displayname"}
	propSupportedReportSet = xml.Name{Space: nsDAV, Local: "supported-report-set"}
	propCurrentUser        = xml.Name{Space: nsDAV, Local: "current-user-principal"}
	propPrincipalURL       = xml.Name{Space: nsDAV, Local: "principal-URL"}
	propPrincipalSet       = xml.Name{Space: nsDAV, Local: "principal-collection-set"}
	propOwner              = xml.Name{Space: nsDAV, Local: "owner"}
	propSyncToken          = xml.Name{Space: nsDAV, Local: "sync-token"}
	propPrivileges         = xml.Name{Space: nsDAV, Local: "current-user-privilege-set"}
	propHomeSet            = xml.Name{Space: nsCardDAV, Local: "addressbook-home-set"}
	propDescription        = xml.Name{Space: nsCardDAV, Local: "addressbook-description"}
	propSupportedData      = xml.Name{Space: nsCardDAV, Local: "supported-address-data"}
	propMaxResourceSize    = xml.Name{Space: nsCardDAV, Local: "max-resource-size"}
	propAddressData        = xml.Name{Space: nsCardDAV, Local: "address-data"}
	propCTag               = xml.Name{Space: nsCS, Local: "getctag"}
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
	collectionAllProps = []xml.Name{propResourceType, propDisplayName, propCurrentUser}
	bookAllProps       = []xml.Name{propResourceType, propDisplayName, propDescription, propCTag, propCurrentUser}
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
	case propResourceType:
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
	case propCurrentUser:
		if x != nil {
			x.hrefIn(name, principalHref(c.user))
		}
		return true
	case propPrivileges:
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
	case propSupportedReportSet:
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
	case propPrincipalSet:
		if x != nil {
			x.hrefIn(name, principalsPath)
		}
		return true
	case propDisplayName:
		return c.displayName(x)
	case propOwner:
		if owned && x != nil {
			x.hrefIn(name, principalHref(c.owner))
		}
		return owned
	case propPrincipalURL, propHomeSet:
		ok := c.kind == kindPrincipal
		if ok && x != nil {
			href := principalHref(c.owner)
			if name == propHomeSet {
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
	case propDescription:
		if x != nil {
			x.element(name, c.book.description)
		}
	case propSyncToken, propCTag:
		if x != nil {
			x.element(name, c.token)
		}
	case propSupportedData:
		if x != nil {
			x.open(name)
			x.raw(`<card:address-data-type content-type="text/vcard" version="3.0"/>` +
				`<card:address-data-type content-type="text/vcard" version="4.0"/>`)
			x.close(name)
		}
	case propMaxResourceSize:
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
		x.element(propDisplayName, name)
	}
	return true
}

// object is a vCard resource: its members row and, when address-data was asked for, its body.
type object struct {
	m    *member
	data []byte
	user string
}

var objectAllProps = []xml.Name{propResourceType, propGetETag, propGetContentType, propGetContentLength, propGetLastModified}

func (o *object) allProps() []xml.Name { return objectAllProps }

func (o *object) prop(x *xmlWriter, name xml.Name) bool {
	if x == nil {
		switch name {
		case propResourceType, propGetETag, propGetContentType, propGetContentLength, propGetLastModified, propCurrentUser:
			return true
		case propAddressData:
			return o.data != nil
		}
		return false
	}
	switch name {
	case propResourceType:
		x.empty(name)
	case propGetETag:
		x.element(name, o.m.etag)
	case propGetContentType:
		x.element(name, vcardContentType)
	case propGetContentLength:
		x.element(name, strconv.FormatInt(o.m.size, 10))
	case propGetLastModified:
		x.element(name, o.m.modified.Format(http.TimeFormat))
	case propCurrentUser:
		x.hrefIn(name, principalHref(o.user))
	case propAddressData:
		x.open(name)
		x.textBytes(o.data)
		x.close(name)
	default:
		return false
	}
	return true
}
