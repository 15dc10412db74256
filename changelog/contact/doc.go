// Package contact is the contact model of the device: the fields of a
// Firefox OS mozContact (W3C Contacts Manager API, as shipped in Firefox
// OS), with JSON that uses the mozContact field names, plus the full
// original vCard text (RFC 6350 / RFC 2426 / vCard 2.1) so that nothing the
// mozContact fields cannot hold is lost: the fields are a view of that
// text, and package adapters/vcard keeps the two in step.
//
// The package is pure: no I/O, no clock, no randomness.
package contact
