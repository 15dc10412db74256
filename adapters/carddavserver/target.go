package carddavserver

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The URL space:
//
//	/                                   root (current-user-principal for discovery)
//	/.well-known/carddav                redirect (RFC 6764 section 5)
//	/principals/                        principal collection
//	/principals/USER/                   a user's principal
//	/addressbooks/                      collection of homes
//	/addressbooks/USER/                 a user's address-book home
//	/addressbooks/USER/BOOK/            an address book
//	/addressbooks/USER/BOOK/NAME        a vCard
const (
	principalsPath = "/principals/"
	homesPath      = "/addressbooks/"
	wellKnownPath  = "/.well-known/carddav"
)

// kind is what a request path names.
type kind int

const (
	kindRoot kind = iota
	kindWellKnown
	kindPrincipals
	kindPrincipal
	kindHomes
	kindHome
	kindBook
	kindObject
)

// target is a parsed request path; names are decoded.
type target struct {
	kind   kind
	user   string
	book   string
	object string
}

// parseTarget reads an escaped request path. Segments are unescaped one by one, so an escaped slash (%2F)
// stays inside its name rather than splitting the path.
func parseTarget(escaped string) (target, error) {
	if !strings.HasPrefix(escaped, "/") {
		return target{}, failf(http.StatusBadRequest, "path must start with /")
	}
	trimmed := strings.Trim(escaped, "/")
	if trimmed == "" {
		return target{kind: kindRoot}, nil
	}
	raw := strings.Split(trimmed, "/")
	segs := make([]string, len(raw))
	for i, r := range raw {
		s, err := url.PathUnescape(r)
		if err != nil {
			return target{}, failf(http.StatusBadRequest, "bad escape in path")
		}
		segs[i] = s
	}
	collection := strings.HasSuffix(escaped, "/")
	switch {
	case len(segs) == 2 && segs[0] == ".well-known" && segs[1] == "carddav":
		return target{kind: kindWellKnown}, nil
	case segs[0] == "principals" && len(segs) == 1:
		return target{kind: kindPrincipals}, nil
	case segs[0] == "principals" && len(segs) == 2:
		return target{kind: kindPrincipal, user: segs[1]}, nil
	case segs[0] == "addressbooks" && len(segs) == 1:
		return target{kind: kindHomes}, nil
	case segs[0] == "addressbooks" && len(segs) == 2:
		return target{kind: kindHome, user: segs[1]}, nil
	case segs[0] == "addressbooks" && len(segs) == 3:
		return target{kind: kindBook, user: segs[1], book: segs[2]}, nil
	case segs[0] == "addressbooks" && len(segs) == 4 && !collection:
		return target{kind: kindObject, user: segs[1], book: segs[2], object: segs[3]}, nil
	case segs[0] == "addressbooks" && len(segs) == 4:
		return target{}, failf(http.StatusNotFound, "address books hold no collections")
	}
	return target{}, failf(http.StatusNotFound, "no such resource")
}

// href is the canonical escaped path of the target; collections end with a slash.
func (t target) href() string {
	switch t.kind {
	case kindWellKnown:
		return wellKnownPath
	case kindPrincipals:
		return principalsPath
	case kindPrincipal:
		return principalHref(t.user)
	case kindHomes:
		return homesPath
	case kindHome:
		return homeHref(t.user)
	case kindBook:
		return bookHref(t.user, t.book)
	case kindObject:
		return bookHref(t.user, t.book) + url.PathEscape(t.object)
	}
	return "/"
}

func principalHref(user string) string { return principalsPath + url.PathEscape(user) + "/" }
func homeHref(user string) string      { return homesPath + url.PathEscape(user) + "/" }
func bookHref(user, book string) string {
	return homeHref(user) + url.PathEscape(book) + "/"
}

// userName is what a user may be called: it appears in URLs and in basic auth, which cannot carry a colon.
var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

// ValidUserName reports whether name is acceptable as a user name: 1 to 64 ASCII letters, digits and
// "._@+-", starting with a letter or digit.
func ValidUserName(name string) error {
	if !userName.MatchString(name) {
		return fmt.Errorf("%w: user name %q: use 1-64 letters, digits and ._@+- starting with a letter or digit", ErrInvalidName, clip(name))
	}
	return nil
}

// maxBookName and maxObjectName bound the names of address books and vCards.
const (
	maxBookName   = 128
	maxObjectName = 255
)

// validSegment checks a name that becomes one path segment: UTF-8 without control characters or slashes,
// not "." or "..", and at most max bytes.
func validSegment(what, name string, max int) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("%w: %s name %q", ErrInvalidName, what, clip(name))
	case len(name) > max:
		return fmt.Errorf("%w: %s name longer than %d bytes", ErrInvalidName, what, max)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %s name is not UTF-8", ErrInvalidName, what)
	case strings.ContainsFunc(name, func(r rune) bool { return r == '/' || unicode.IsControl(r) }):
		return fmt.Errorf("%w: %s name %q holds a slash or a control character", ErrInvalidName, what, clip(name))
	}
	return nil
}

// clip shortens client-supplied text before it goes into an error message or a log.
func clip(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
