package device

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/engine"
)

// CardDAV is the kind of remote that is a CardDAV address book (engine.KindCardDAV), with the default
// timeouts and the system's DNS resolver; NewCardDAV makes one with other settings.
var CardDAV Kind = NewCardDAV(CardDAVOptions{})

// SettingCAFile is the CardDAV setting naming a PEM file of the certificate authority that vouches for a
// self-hosted server, trusted besides the system's.
const SettingCAFile = "ca-file"

// userAgent is the User-Agent of every request a device sends.
const userAgent = "contactsync"

// CardDAVOptions configures the CardDAV kind.
type CardDAVOptions struct {
	// Timeouts bound every request (zero: carddav.DefaultTimeouts).
	Timeouts carddav.Timeouts
	// Resolver looks up RFC 6764 service records (nil: the system's).
	Resolver carddav.Resolver
}

// NewCardDAV returns the CardDAV kind: Resolve reads the address the user gave (a URL, a host, a domain or an
// email address, RFC 6764), runs discovery and picks the address book; Open builds the client on the address
// book's own URL, its requests counted by a Meter, and returns its Collection; Check asks the address book with
// the password.
func NewCardDAV(o CardDAVOptions) Kind {
	if o.Timeouts == (carddav.Timeouts{}) {
		o.Timeouts = carddav.DefaultTimeouts
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	return cardDAVKind{o}
}

type cardDAVKind struct{ o CardDAVOptions }

func (k cardDAVKind) Resolve(ctx context.Context, rc engine.RemoteConfig, password, which string) (ResolvedRemote, error) {
	if ca := rc.Settings[SettingCAFile]; ca != "" {
		abs, err := filepath.Abs(ca)
		if err != nil {
			return ResolvedRemote{}, err
		}
		rc.Settings[SettingCAFile] = abs
	}
	start, err := carddav.StartFor(ctx, k.o.Resolver, rc.Endpoint)
	if err != nil {
		return ResolvedRemote{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var disc *carddav.Discovery
	var first error
	for _, u := range start.URLs {
		client, _, err := k.client(u, rc, password, false)
		if err != nil {
			return ResolvedRemote{}, err
		}
		d, err := client.Discover(ctx)
		if err == nil {
			disc, rc.Endpoint = d, u
			break
		}
		if first == nil {
			first = fmt.Errorf("discovery at %s: %w", u, explain(err))
		}
		if errors.Is(err, carddav.ErrUnauthorized) {
			break // the server is found; another candidate would only hide why it refused
		}
	}
	if disc == nil {
		return ResolvedRemote{}, first
	}
	if which == "" && len(disc.AddressBooks) > 1 {
		var names []string
		for _, ab := range disc.AddressBooks {
			names = append(names, fmt.Sprintf("%q (%s)", ab.DisplayName, lastSegment(ab.Href)))
		}
		return ResolvedRemote{}, fmt.Errorf("%w: the account has %d address books: %s", ErrChooseCollection, len(names), strings.Join(names, ", "))
	}
	ab, err := disc.Choose(which)
	if err != nil {
		return ResolvedRemote{}, err
	}
	rc.Collection = ab.URL
	if err := checkAddressBook(rc); err != nil {
		return ResolvedRemote{}, err
	}
	return ResolvedRemote{Config: rc, DisplayName: ab.DisplayName, Note: start.Note}, nil
}

func lastSegment(href string) string {
	s := strings.TrimSuffix(href, "/")
	return s[strings.LastIndex(s, "/")+1:]
}

func (k cardDAVKind) Open(rc engine.RemoteConfig, password string) (engine.Remote, engine.Meter, error) {
	if err := checkAddressBook(rc); err != nil {
		return nil, nil, err
	}
	// The client's endpoint is the address book itself: discovery may have led to another host than the one
	// the user typed, and credentials go only to the endpoint's origin.
	client, meter, err := k.client(rc.Collection, rc, password, true)
	if err != nil {
		return nil, nil, err
	}
	return client.Collection(rc.Collection), meter, nil
}

func (k cardDAVKind) Check(ctx context.Context, rc engine.RemoteConfig, password string) error {
	client, _, err := k.client(rc.Collection, rc, password, false)
	if err != nil {
		return err
	}
	_, err = client.AddressBook(ctx, rc.Collection)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, carddav.ErrUnauthorized):
		return fmt.Errorf("%w: %w", ErrPasswordRefused, err)
	}
	return fmt.Errorf("%w: %w", ErrNotChecked, explain(err))
}

// client builds the remote's client on endpoint, with its Meter when metered.
func (k cardDAVKind) client(endpoint string, rc engine.RemoteConfig, password string, metered bool) (*carddav.Client, *carddav.Meter, error) {
	var roots *x509.CertPool
	if ca := rc.Settings[SettingCAFile]; ca != "" {
		var err error
		if roots, err = carddav.LoadCAFile(ca, os.ReadFile); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	hc, err := carddav.NewHTTPClient(k.o.Timeouts, roots)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var doer carddav.HTTPDoer = hc
	var meter *carddav.Meter
	if metered {
		meter = carddav.NewMeter(hc)
		doer = meter
	}
	client, err := newCardDAVClient(endpoint, rc.Username, password, doer)
	return client, meter, err
}

// explain turns a certificate the client does not trust into ErrUntrustedCertificate, keeping x509's reason.
func explain(err error) error {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var hn x509.HostnameError
	if errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &hn) {
		return fmt.Errorf("%w: %w", ErrUntrustedCertificate, err)
	}
	return err
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
// through CardDAV) — for endpoint: HTTP basic auth (or Digest, when the server offers only that) when username
// is set, which the client refuses over plain http to anything but this machine; the device's User-Agent; and
// requests sent through doer, whose timeouts bound every request.
func newCardDAVClient(endpoint, username, password string, doer carddav.HTTPDoer) (*carddav.Client, error) {
	opts := []carddav.Option{carddav.WithUserAgent(userAgent), carddav.WithHTTPClient(doer)}
	if username != "" {
		opts = append(opts, carddav.WithBasicAuth(username, password))
	}
	return carddav.New(endpoint, opts...)
}
