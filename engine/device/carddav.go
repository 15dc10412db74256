package device

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/engine"
)

// CardDAV is the kind of remote that is a CardDAV address book (engine.KindCardDAV): Resolve runs discovery
// (RFC 6764) from the URL the user gave and picks the address book; Open builds the client on the address
// book's own URL, its requests counted by a Meter, and returns its Collection.
var CardDAV Kind = cardDAVKind{}

// userAgent is the User-Agent of every request a device sends.
const userAgent = "contactsync"

type cardDAVKind struct{}

func (cardDAVKind) Resolve(ctx context.Context, rc engine.RemoteConfig, password, which string) (engine.RemoteConfig, string, error) {
	client, err := newCardDAVClient(rc.Endpoint, rc.Username, password, nil)
	if err != nil {
		return rc, "", err
	}
	disc, err := client.Discover(ctx)
	if err != nil {
		return rc, "", fmt.Errorf("discovery at %s: %w", rc.Endpoint, err)
	}
	ab, err := disc.Choose(which)
	if err != nil {
		return rc, "", err
	}
	rc.Collection = ab.URL
	if err := checkAddressBook(rc); err != nil {
		return rc, "", err
	}
	return rc, ab.DisplayName, nil
}

func (cardDAVKind) Open(rc engine.RemoteConfig, password string) (engine.Remote, engine.Meter, error) {
	if err := checkAddressBook(rc); err != nil {
		return nil, nil, err
	}
	// The client's endpoint is the address book itself: discovery may have led to another host than the one
	// the user typed, and credentials go only to the endpoint's origin.
	meter := carddav.NewMeter(noRedirects())
	client, err := newCardDAVClient(rc.Collection, rc.Username, password, meter)
	if err != nil {
		return nil, nil, err
	}
	return client.Collection(rc.Collection), meter, nil
}

// checkAddressBook refuses a Collection that is not an absolute http(s) URL: the engine stores any string.
func checkAddressBook(rc engine.RemoteConfig) error {
	u, err := url.Parse(rc.Collection)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: address book %q is not an absolute http(s) URL", ErrInvalid, rc.Collection)
	}
	return nil
}

// newCardDAVClient builds the CardDAV client every device uses — the CLI's, a service's, the test bed's (all
// through CardDAV) — for endpoint: HTTP basic auth when username is set (which the client refuses over plain
// http to anything but this machine), the device's User-Agent, and requests sent through doer (nil: an
// http.Client that follows no redirect; discovery follows them by hand).
func newCardDAVClient(endpoint, username, password string, doer carddav.HTTPDoer) (*carddav.Client, error) {
	opts := []carddav.Option{carddav.WithUserAgent(userAgent)}
	if username != "" {
		opts = append(opts, carddav.WithBasicAuth(username, password))
	}
	if doer != nil {
		opts = append(opts, carddav.WithHTTPClient(doer))
	}
	return carddav.New(endpoint, opts...)
}

// noRedirects is the HTTP client a remote's requests go through: a redirect is reported, not obeyed.
func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
