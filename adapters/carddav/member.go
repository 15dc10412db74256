package carddav

// Member is a contact in a listing: its href (canonical path) and current ETag. ETag is empty when the
// server listed the member without one; fetch it to learn it.
type Member struct {
	Href string
	ETag ETag
}

// Rejected is an entry of a server's answer that was left out because it cannot be trusted: an href
// outside the collection or on another host (ErrBadHref), or an unexpected per-member status. One bad entry
// does not fail the listing it is in.
type Rejected struct {
	Href string
	Err  error
}
