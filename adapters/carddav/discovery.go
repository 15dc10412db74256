package carddav

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// Discovery is what Discover found: the user's principal, its address-book home sets and the address books
// in them. When the endpoint was itself an address book, AddressBooks holds only that one and the other
// fields may be empty.
type Discovery struct {
	Principal    string
	HomeSets     []string
	AddressBooks []AddressBook
}

// wellKnown is the RFC 6764 section 5 context path.
const wellKnown = "/.well-known/carddav"

// contextProps are asked of the first resource discovery reaches: only what that step needs (RFC 6764 section
// 6): the principal, a home set, and the resource type that tells an address book given as the endpoint. A
// server may be unable to compute an address book's properties there (a sync-token on its root) and answer
// 500 to a request that asks for them.
var contextProps = []xml.Name{davxml.CurrentUserPrincipal, davxml.HomeSet, davxml.ResourceType}

// minimalProps are asked again, once, of a context path that answered contextProps with a 5xx.
var minimalProps = []xml.Name{davxml.CurrentUserPrincipal, davxml.ResourceType}

// Discover finds the user's address books (RFC 6764 section 6, RFC 6352 section 7): from a bare server URL
// it asks /.well-known/carddav (following redirects by hand, so PROPFIND stays PROPFIND), falling back to
// the endpoint itself; then the current-user-principal, its addressbook-home-set, and a Depth 1 listing of
// each home set. An endpoint that is an address book is returned as the only one.
func (c *Client) Discover(ctx context.Context) (*Discovery, error) {
	ctxPath, self, err := c.discoverContext(ctx)
	if err != nil {
		return nil, err
	}
	d := &Discovery{}
	if rt := self.prop(nsDAV, "resourcetype"); rt != nil && rt.child(nsCardDAV, "addressbook") != nil {
		// The endpoint is an address book: its own properties come from a request of their own.
		ab, err := c.AddressBook(ctx, ctxPath)
		if err != nil {
			return nil, err
		}
		d.AddressBooks = []AddressBook{ab}
		return d, nil
	}
	if d.Principal, err = c.propHref(ctxPath, self, davxml.CurrentUserPrincipal); err != nil {
		return nil, err
	}
	d.HomeSets, err = c.propHrefs(ctxPath, self, davxml.HomeSet)
	if err != nil {
		return nil, err
	}
	if len(d.HomeSets) == 0 && d.Principal != "" {
		if d.HomeSets, err = c.homeSets(ctx, d.Principal); err != nil {
			return nil, err
		}
	}
	if len(d.HomeSets) == 0 {
		// No principal or home set named: servers without RFC 5397 still list books under the context path.
		d.HomeSets = []string{ctxPath}
	}
	for _, home := range d.HomeSets {
		books, err := c.listAddressBooks(ctx, home)
		if err != nil {
			return nil, err
		}
		d.AddressBooks = append(d.AddressBooks, books...)
	}
	return d, nil
}

// discoverContext returns the path that answered the context PROPFIND and its response.
func (c *Client) discoverContext(ctx context.Context) (string, *msResponse, error) {
	start := c.endpoint.EscapedPath()
	if start != "/" {
		return c.contextStep(ctx, start)
	}
	p, r, err := c.contextStep(ctx, wellKnown)
	var he *HTTPError
	switch {
	case err == nil:
		return p, r, nil
	case errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrInsecureAuth) || ctx.Err() != nil:
		return "", nil, err
	case !errors.As(err, &he):
		// No answer at all (refused, unreachable, timed out): the server's root would fare no better, and
		// saying the same failure twice helps nobody.
		return "", nil, err
	}
	// RFC 6764 section 6 step 4 falls back to the URL the user gave.
	c.cfg.logger.DebugContext(ctx, "carddav: no usable /.well-known/carddav", "err", err)
	p, r, ferr := c.contextStep(ctx, start)
	if ferr == nil {
		return p, r, nil
	}
	// Both failed. Lead with the real cause: a root that says "not here" (404, 405, 501) only means the
	// well-known path was the one to ask, so its failure (a 500, a redirect to another host) is the story.
	var fe *HTTPError
	if errors.As(ferr, &fe) && (fe.Status == 404 || fe.Status == 405 || fe.Status == 501) &&
		he.Status != 404 && he.Status != 405 && he.Status != 501 {
		return "", nil, fmt.Errorf("%w (and %s answered %d %s)", err, start, fe.Status, http.StatusText(fe.Status))
	}
	return "", nil, fmt.Errorf("%w (after %s failed: %v)", ferr, wellKnown, err)
}

// contextStep asks one candidate context path for contextProps, and once more for the bare minimum when it
// answers with a 5xx.
func (c *Client) contextStep(ctx context.Context, path string) (string, *msResponse, error) {
	p, r, err := c.propfindOne(ctx, path, contextProps)
	var he *HTTPError
	if err == nil || !errors.As(err, &he) || he.Status < 500 || ctx.Err() != nil {
		return p, r, err
	}
	c.cfg.logger.DebugContext(ctx, "carddav: discovery step failed; asking again for less", "path", path, "err", err)
	p, r, err2 := c.propfindOne(ctx, path, minimalProps)
	if err2 != nil {
		return "", nil, err // the first answer is the cause
	}
	return p, r, nil
}

// propfindOne is a Depth 0 PROPFIND (redirects followed) returning the response about the resource.
func (c *Client) propfindOne(ctx context.Context, path string, props []xml.Name) (string, *msResponse, error) {
	var got *msResponse
	final, err := c.propfindFollow(ctx, path, "0", props, func(r *msResponse) error {
		if got == nil {
			got = r
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	if got == nil {
		return "", nil, fmt.Errorf("carddav: PROPFIND %s: %w: empty multistatus", final, ErrMalformedResponse)
	}
	if got.status/100 > 2 {
		// Xandikos answers a PROPFIND of a missing resource with a 207 holding a 404.
		return "", nil, memberError("PROPFIND", final, got.status)
	}
	return final, got, nil
}

func (c *Client) homeSets(ctx context.Context, principal string) ([]string, error) {
	p, r, err := c.propfindOne(ctx, principal, []xml.Name{davxml.HomeSet})
	if err != nil {
		return nil, err
	}
	return c.propHrefs(p, r, davxml.HomeSet)
}

// propHrefs returns the DAV:href values inside a property, resolved against the path that reported them
// and kept to the endpoint's origin.
func (c *Client) propHrefs(base string, r *msResponse, name xml.Name) ([]string, error) {
	prop := r.prop(name.Space, name.Local)
	if prop == nil {
		return nil, nil
	}
	u := *c.endpoint
	setPath(&u, base)
	var out []string
	for _, h := range prop.children {
		if !h.is(nsDAV, "href") {
			continue
		}
		p, err := resolveRef(&u, h.trimmed())
		if err != nil {
			return nil, fmt.Errorf("carddav: %s of %s: %w", name.Local, base, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func (c *Client) propHref(base string, r *msResponse, name xml.Name) (string, error) {
	hrefs, err := c.propHrefs(base, r, name)
	if err != nil || len(hrefs) == 0 {
		return "", err
	}
	return hrefs[0], nil
}

// listAddressBooks lists the address books directly inside a home set.
func (c *Client) listAddressBooks(ctx context.Context, home string) ([]AddressBook, error) {
	home, u, err := c.collection(home)
	if err != nil {
		return nil, err
	}
	var books []AddressBook
	_, err = c.propfindFollow(ctx, home, "1", addressBookProps, func(r *msResponse) error {
		p, _, err := memberOf(u, home, r.hrefs[0])
		if err != nil {
			c.cfg.logger.DebugContext(ctx, "carddav: skipping foreign href in home set", "err", err)
			return nil
		}
		if p, err = collectionPath(p); err != nil {
			return nil
		}
		if ab, ok := c.addressBookFrom(p, r); ok {
			books = append(books, ab)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return books, nil
}

// Choose picks one address book. which is a URL or path (matched against Href), or a display name, or the
// last path segment of a book; empty picks the only book there is. No match, or several, is an error
// matching ErrNoAddressBook that names the books there are.
func (d *Discovery) Choose(which string) (AddressBook, error) {
	var match []AddressBook
	switch {
	case which == "":
		match = d.AddressBooks
	case strings.HasPrefix(which, "/") || strings.Contains(which, "://"):
		u, err := url.Parse(which)
		if err != nil {
			break
		}
		want, err := collectionPath(u.EscapedPath())
		if err != nil {
			break
		}
		for _, ab := range d.AddressBooks {
			abu, err := url.Parse(ab.URL)
			if err == nil && ab.Href == want && (u.Host == "" || sameOrigin(abu, u)) {
				match = append(match, ab)
			}
		}
	default:
		for _, ab := range d.AddressBooks {
			if ab.DisplayName == which {
				match = append(match, ab)
			}
		}
		if len(match) == 0 {
			for _, ab := range d.AddressBooks {
				if lastSegment(ab.Href) == which {
					match = append(match, ab)
				}
			}
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	var names []string
	for _, ab := range d.AddressBooks {
		names = append(names, fmt.Sprintf("%q (%s)", ab.DisplayName, ab.Href))
	}
	slices.Sort(names)
	if len(match) == 0 {
		return AddressBook{}, fmt.Errorf("carddav: choose %q among [%s]: %w", which, strings.Join(names, ", "), ErrNoAddressBook)
	}
	return AddressBook{}, fmt.Errorf("carddav: %q matches %d address books among [%s]; name one by URL: %w", which, len(match), strings.Join(names, ", "), ErrNoAddressBook)
}

func lastSegment(p string) string {
	p = strings.TrimSuffix(p, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}
