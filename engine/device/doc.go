// Package device is a device's store and remotes: the operations every front end shares. The command-line tool
// (cmd/contactsync) and the NATS service call it, so that adding a contact, importing a .vcf file, resolving a
// conflict or adding a remote means the same thing whichever front end a user meets; a front end keeps only
// its own input, output and messages.
//
// A [Device] owns the contact store (package changelog, with the engine's tables) and the credentials file
// beside it. Contacts are vCards (RFC 6350) kept verbatim; mozContact JSON edits patch only the properties
// they change (package adapters/vcard). Remotes are made by kind: a [Kind] is where a new kind of storage plugs
// in, and [CardDAV] (RFC 6352, discovered per RFC 6764) is the one built in.
package device
