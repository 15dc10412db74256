// Package davxml names the XML namespaces and properties of WebDAV (RFC 4918, RFC 5397, RFC 6578), CardDAV
// (RFC 6352) and CalendarServer's getctag, once for the client (adapters/carddav) and the embedded server
// (adapters/carddavserver).
package davxml

import "encoding/xml"

// Namespaces.
const (
	NSDAV     = "DAV:"
	NSCardDAV = "urn:ietf:params:xml:ns:carddav"
	NSCS      = "http://calendarserver.org/ns/"
)

// Properties and elements.
var (
	Href                 = xml.Name{Space: NSDAV, Local: "href"}
	GetETag              = xml.Name{Space: NSDAV, Local: "getetag"}
	GetContentType       = xml.Name{Space: NSDAV, Local: "getcontenttype"}
	GetContentLength     = xml.Name{Space: NSDAV, Local: "getcontentlength"}
	GetLastModified      = xml.Name{Space: NSDAV, Local: "getlastmodified"}
	ResourceType         = xml.Name{Space: NSDAV, Local: "resourcetype"}
	DisplayName          = xml.Name{Space: NSDAV, Local: "displayname"}
	SupportedReportSet   = xml.Name{Space: NSDAV, Local: "supported-report-set"}
	CurrentUserPrincipal = xml.Name{Space: NSDAV, Local: "current-user-principal"}
	PrincipalURL         = xml.Name{Space: NSDAV, Local: "principal-URL"}
	PrincipalSet         = xml.Name{Space: NSDAV, Local: "principal-collection-set"}
	Owner                = xml.Name{Space: NSDAV, Local: "owner"}
	SyncToken            = xml.Name{Space: NSDAV, Local: "sync-token"}
	Privileges           = xml.Name{Space: NSDAV, Local: "current-user-privilege-set"}
	HomeSet              = xml.Name{Space: NSCardDAV, Local: "addressbook-home-set"}
	Description          = xml.Name{Space: NSCardDAV, Local: "addressbook-description"}
	SupportedAddressData = xml.Name{Space: NSCardDAV, Local: "supported-address-data"}
	MaxResourceSize      = xml.Name{Space: NSCardDAV, Local: "max-resource-size"}
	AddressData          = xml.Name{Space: NSCardDAV, Local: "address-data"}
	CTag                 = xml.Name{Space: NSCS, Local: "getctag"}
)
