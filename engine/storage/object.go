package storage

import "strings"

// Tag names one version of an object, exactly as the storage gave it (for CardDAV an entity tag with its
// quotes and any W/ prefix, RFC 9110 section 8.8.3). Keep it verbatim: the storage compares it itself.
type Tag string

// Equal reports whether two tags name the same version: both non-empty and equal once a weak marker W/ and
// the quotes are dropped (the weak comparison of RFC 9110 section 8.8.3.2, the right question for "did this
// object change since I fetched it"). Tags without that syntax compare byte for byte.
func (t Tag) Equal(other Tag) bool {
	return t != "" && other != "" && t.opaque() == other.opaque()
}

func (t Tag) opaque() string {
	s := strings.TrimPrefix(string(t), "W/")
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// Object is a contact as fetched: its href (the object's name in the storage), version tag and vCard bytes.
// Err is set instead of Data, per object, by a fetch of several: one matching [ErrGone] when the storage
// reports the object gone, any other error when the object cannot be read (it is set aside).
type Object struct {
	Href string
	Tag  Tag
	Data []byte
	Err  error
}

// Member is an object in a listing: its href and current tag. Tag is empty when the storage listed it without
// one; fetching it tells.
type Member struct {
	Href string
	Tag  Tag
}

// Rejected is an entry of a listing left out because it cannot be trusted (an href outside the collection, an
// unexpected per-member status). One bad entry does not fail the listing it is in.
type Rejected struct {
	Href string
	Err  error
}

// Listing is every member of the collection.
type Listing struct {
	Members  []Member
	Rejected []Rejected
}

// Page is one answer to "what changed since this token".
type Page struct {
	// Token is the bookmark to save once this page is applied, and to send next time.
	Token string
	// Changed lists members created or changed since the token sent (every member for an empty token).
	Changed []Member
	// Deleted lists hrefs removed since the token sent; always empty for an empty token.
	Deleted []string
	// Rejected lists entries left out.
	Rejected []Rejected
	// More says the answer was cut short: apply this page, then ask again with Token.
	More bool
}

// Condition says when a write may go ahead. The zero Condition is unconditional.
type Condition struct {
	// IfAbsent creates only: the write fails with [ErrPreconditionFailed] if the href holds an object.
	IfAbsent bool
	// IfMatch replaces only this version: the write fails with [ErrPreconditionFailed] if someone else wrote
	// the object since (or deleted it: [ErrGone] is also allowed then).
	IfMatch Tag
}

// CreateOnly is the condition for a new contact.
func CreateOnly() Condition { return Condition{IfAbsent: true} }

// IfMatch is the condition for replacing the version tag names.
func IfMatch(tag Tag) Condition { return Condition{IfMatch: tag} }
