// Package storage is the engine's vocabulary for the place a device's contacts are synced to: an object and
// its version tag, a member of a listing, a page of changes, a write condition, and the outcomes the engine
// branches on (a failed precondition, an object gone, a request to retry later, rejected credentials, a refusal).
//
// It names no protocol. The CardDAV client speaks it through [github.com/contactsync/contactsync/adapters/carddav]'s
// Collection (RFC 6352 address books, RFC 6578 sync-collection); other kinds of storage (an encrypting layer, a
// JetStream bucket) implement the same engine.Remote and pass the same conformance suite, storagetest.
package storage
