package carddav

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/contactsync/contactsync/adapters/internal/loopback"
	"github.com/contactsync/contactsync/adapters/internal/uidhref"
)

// canonicalPath rewrites an escaped absolute path so that two spellings of one resource compare equal:
// each segment is unescaped and escaped again the same way (an escaped "/" inside a segment stays escaped).
// Dot segments are refused rather than resolved, because a member href that climbs out of its collection
// is exactly what a hostile server would send.
func canonicalPath(escaped string) (string, error) {
	if !strings.HasPrefix(escaped, "/") {
		return "", fmt.Errorf("%w: %q is not an absolute path", ErrBadHref, clip(escaped))
	}
	segs := strings.Split(escaped, "/")
	for i, seg := range segs {
		raw, err := url.PathUnescape(seg)
		if err != nil {
			return "", fmt.Errorf("%w: %q: bad escape", ErrBadHref, clip(escaped))
		}
		if raw == "." || raw == ".." {
			return "", fmt.Errorf("%w: %q has a dot segment", ErrBadHref, clip(escaped))
		}
		if strings.ContainsAny(raw, "\x00\r\n") {
			return "", fmt.Errorf("%w: %q has control characters", ErrBadHref, clip(escaped))
		}
		segs[i] = url.PathEscape(raw)
	}
	return strings.Join(segs, "/"), nil
}

// collectionPath is canonicalPath with the trailing slash a collection's href carries.
func collectionPath(escaped string) (string, error) {
	p, err := canonicalPath(escaped)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}

// sameOrigin compares scheme, host and port, with the scheme's default port filled in.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// isLoopback reports whether host names this machine: localhost, 127.0.0.0/8 or ::1.
func isLoopback(host string) bool { return loopback.Host(host) }

// resolveRef turns an href or URL as found in a response (absolute URL, absolute path, or a path relative
// to base) into the canonical path of a resource on base's origin.
func resolveRef(base *url.URL, ref string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", fmt.Errorf("%w: %q does not parse", ErrBadHref, clip(ref))
	}
	if u.User != nil {
		return "", fmt.Errorf("%w: href carries credentials", ErrBadHref)
	}
	abs := base.ResolveReference(&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath})
	if !sameOrigin(base, abs) {
		return "", fmt.Errorf("%w: %q is on another host", ErrBadHref, clip(ref))
	}
	// ResolveReference has already removed dot segments of relative refs; canonicalPath still refuses
	// those written in absolute form.
	if strings.HasPrefix(u.Path, "/") || u.Host != "" {
		return canonicalPath(u.EscapedPath())
	}
	return canonicalPath(abs.EscapedPath())
}

// memberOf checks that an href names a direct member of the collection at colPath (a canonical path with
// its trailing slash) and returns its canonical path. The collection's own href gives isSelf.
func memberOf(base *url.URL, colPath, ref string) (p string, isSelf bool, err error) {
	p, err = resolveRef(base, ref)
	if err != nil {
		return "", false, err
	}
	if p == colPath || p+"/" == colPath {
		return p, true, nil
	}
	rest, ok := strings.CutPrefix(p, colPath)
	if !ok || rest == "" || strings.Contains(strings.TrimSuffix(rest, "/"), "/") {
		return "", false, fmt.Errorf("%w: %q is not a member of %s", ErrBadHref, clip(ref), colPath)
	}
	return p, false, nil
}

// HrefForUID returns the href (a path, with abURL's path as its collection) under which a contact with
// this UID is created. The same UID always gives the same href, so uploading a contact twice can only ever
// meet the first copy (and If-None-Match: * turns that into a 412), never create a duplicate.
//
// A UID made only of ASCII letters, digits and "-_.@+=", not starting with a dot and at most 64 bytes long
// is used as the file name with ".vcf" appended. Any other UID (with "/", "?", "#", "%", ":", spaces, non-ASCII,
// or too long) becomes "~" and the hex SHA-256 of the UID, plus ".vcf"; "~" cannot occur in the plain form,
// so the two forms never collide (the rule is adapters/internal/uidhref, shared with the embedded server). The
// caller must give every contact a non-empty UID.
func HrefForUID(abURL, uid string) string {
	col := abURL
	if u, err := url.Parse(abURL); err == nil {
		col = u.EscapedPath()
	}
	if p, err := collectionPath(col); err == nil {
		col = p
	} else if !strings.HasSuffix(col, "/") {
		col += "/"
	}
	return col + uidhref.Name(uid)
}
