package carddav

import "strings"

// ETag is an entity tag exactly as the server sent it, quotes and any W/ prefix included (RFC 9110 section
// 8.8.3). Keep it verbatim: servers compare the bytes.
type ETag string

// Weak reports whether the tag carries the W/ prefix.
func (e ETag) Weak() bool {
	return strings.HasPrefix(string(e), `W/"`)
}

// opaque returns the tag without W/ and without quotes.
func (e ETag) opaque() string {
	s := strings.TrimPrefix(string(e), "W/")
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// Equal compares two tags the weak way (RFC 9110 section 8.8.3.2): W/"x" equals "x". That is the right
// question for "did this member change since I fetched it"; the server does the strong comparison itself.
func (e ETag) Equal(other ETag) bool {
	return e != "" && other != "" && e.opaque() == other.opaque()
}

// ifMatch is the value to send in If-Match. If-Match compares strongly, so a weak tag sent as is can never
// match and every update would fail with 412. Radicale and Xandikos both behave that way. A weak tag usually
// comes from an intermediary (a compressing proxy weakens the origin's strong tag), so the strong form of
// the same opaque value is what the origin will match.
func (e ETag) ifMatch() string {
	if e.Weak() {
		return string(e[2:])
	}
	return string(e)
}
