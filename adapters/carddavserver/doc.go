// Package carddavserver is contactsync's own CardDAV server: it stores users' address books in SQLite and
// serves them to any CardDAV client, with the sync tokens, conditional writes and preconditions a sync engine
// relies on.
//
// It implements CardDAV (RFC 6352) over WebDAV (RFC 4918): principals and address-book homes with
// current-user-principal (RFC 5397) and discovery through /.well-known/carddav (RFC 6764), PROPFIND and
// PROPPATCH, extended MKCOL (RFC 5689), the addressbook-multiget and addressbook-query reports, the
// sync-collection report with paging (RFC 6578), the CalendarServer getctag property, strong ETags and
// If-Match / If-None-Match on every write (RFC 9110 section 13), and HTTP basic authentication (RFC 7617)
// against PBKDF2-SHA256 password hashes (RFC 8018).
//
// # Storage
//
// Each address book is a [changelog.Store] of its own: the vCard bodies are its contacts, kept byte for byte
// and keyed by resource name, and every PUT or DELETE is one changelog transaction, so the changelog's
// revision is the address book's sync token. Beside the contacts, in the same transaction, a members table
// (registered with changelog.WithMigrations) keeps each resource's UID, ETag, revision and a tombstone once
// it is deleted. sync-collection reads that table by revision — "what changed after token r, in revision
// order, at most n" is one indexed query, which is what paging needs and what the changelog's folded replay
// cannot give without reading every contact once per page. Users and the list of address books live in a
// separate accounts database.
//
// # Why not go-webdav's handler
//
// github.com/emersion/go-webdav's carddav.Handler was the intended base, but v0.7.0 has no sync-collection,
// its Backend returns whole listings as slices (a 100,000-member listing would sit in memory), it cannot
// check a condition and write in one transaction, and its preconditions (no-uid-conflict with the clashing
// href, max-resource-size, valid-sync-token) cannot be expressed through it. What would be left of it is the
// routing, so the handler here is written directly on net/http and encoding/xml, and streams its listings.
package carddavserver
