// Package uidhref is the rule that names a new contact's resource after its UID, once for the client
// (adapters/carddav, which PUTs new contacts there) and the embedded server (adapters/carddavserver, whose
// Import names vCards the way the client would). The same UID always gives the same name, so uploading a contact
// twice can only ever meet the first copy (RFC 6352 §6.3.2 lets the client choose the resource name; If-None-Match:
// * turns the second upload into a 412), never create a duplicate.
package uidhref

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxPlain is the longest UID used as a resource name as it is; longer ones are hashed.
const maxPlain = 64

// plainChars are the bytes a UID used as it is may hold: none needs escaping in a path segment, and "~" is not
// among them, so the hashed form can never equal a plain one.
const plainChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@+="

// Name returns the resource name (the last segment of the href, unescaped and needing no escape) of a new
// contact with this UID.
//
// A UID made only of ASCII letters, digits and "-_.@+=", not starting with a dot and at most 64 bytes long is
// used with ".vcf" appended. Any other UID (with "/", "?", "#", "%", ":", spaces, non-ASCII, or too long) becomes
// "~" and the hex SHA-256 of the UID, plus ".vcf". The caller must give every contact a non-empty UID.
func Name(uid string) string {
	if uid != "" && len(uid) <= maxPlain && uid[0] != '.' && strings.Trim(uid, plainChars) == "" {
		return uid + ".vcf"
	}
	sum := sha256.Sum256([]byte(uid))
	return "~" + hex.EncodeToString(sum[:]) + ".vcf"
}
