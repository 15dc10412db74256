// Package vcard reads and writes vCards (RFC 6350 vCard 4.0, RFC 2426
// vCard 3.0 and the vCard 2.1 specification) without losing a byte, and
// converts them to and from the contact model of package contact.
//
// # Fidelity model
//
// The raw text is the source of truth. Parse keeps the exact bytes of
// every card and of every property (with its folding, line ending,
// parameter spelling and group); the exported fields of Property are a
// decoded view of those bytes. Card.Bytes writes an unmodified card back
// byte for byte; once properties change, only those are written afresh and
// every other property keeps its original bytes, position and line ending.
// A property counts as modified when its exported fields differ from what
// was parsed, however they were changed.
//
// Card.Props holds every content line between BEGIN:VCARD and END:VCARD,
// VERSION included; BEGIN and END are not properties. Blank lines, comment
// lines and nested cards inside a card travel with the property after
// them. Bytes between cards (blank lines, a byte order mark, comments)
// belong to no card: concatenating the cards of a file gives the file
// minus those bytes.
//
// # Tolerance
//
// The reader accepts what real clients write: vCard 2.1 quoted-printable
// with soft line breaks, bare parameters (TEL;CELL;PREF), CHARSET
// parameters and raw legacy bytes (decoded to UTF-8 in Value), a UTF-8
// byte order mark, CR, LF, CRLF and CR CR LF line endings mixed freely,
// lower-case BEGIN:vcard, missing VERSION, blank lines and # comments
// inside a card, base64 data with or without its blank-line terminator,
// folding with spaces or tabs, values broken by raw newlines, and nested
// BEGIN:VCARD. What it cannot read — content outside a card, a card
// without END:VCARD, a line inside a card that is no property, text in an
// unknown charset that is not UTF-8 — is reported as a *ParseError naming
// the card and the line; Parse still returns every other card.
//
// # Conversion
//
// ToContact fills a contact.MozContact (the Firefox OS mozContact fields)
// from a card and keeps the card's bytes in it. Apply patches a card so
// that it matches a contact, touching only the properties whose view
// changed; FromContact does the same starting from the contact's own vCard
// text, or from a new vCard 3.0 or 4.0 card. docs/vcard.md gives the field
// mapping.
package vcard
