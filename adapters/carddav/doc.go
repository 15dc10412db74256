// Package carddav is the engine's client for CardDAV servers: it finds a user's address books, lists what
// changed, fetches contacts in batches and writes them back only when nobody else wrote first.
//
// It implements the client side of CardDAV (RFC 6352) over WebDAV (RFC 4918): service discovery from a bare
// server URL (RFC 6764, with /.well-known/carddav redirects followed by hand so PROPFIND stays PROPFIND),
// extended MKCOL (RFC 5689), incremental listing with sync-collection (RFC 6578) and a PROPFIND getetag
// listing where that report is missing, addressbook-multiget, and conditional writes with If-Match and
// If-None-Match (RFC 9110 section 13).
//
// Requests are built with net/http and encoding/xml rather than github.com/emersion/go-webdav: that
// library's client cannot send conditional PUTs, its 412 cannot be matched with errors.As, weak ETags make
// its Get and Put fail, and its XML types are internal, so nothing of it would be left in use.
//
// vCard bodies are opaque bytes here; package adapters/vcard understands them.
package carddav
