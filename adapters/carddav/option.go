package carddav

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// HTTPDoer sends one HTTP request. *http.Client implements it; tests put a fault-injecting RoundTripper
// behind one. A Doer that follows redirects itself turns a redirected PROPFIND into a GET (Go's client does
// that on 301 and 302); the default Doer does not follow them, and discovery follows them by hand.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// Option configures a Client.
type Option func(*config) error

type config struct {
	doer           HTTPDoer
	user, password string
	basicAuth      bool
	userAgent      string
	concurrency    int
	batch          int
	maxObject      int64
	maxXML         int64
	logger         *slog.Logger
	now            func() time.Time
}

// Defaults. A multiget batch of 100 keeps Xandikos (quadratic in the hrefs of one request) fast; the body
// limits are far above any real contact or listing and far below what would hurt the device.
const (
	DefaultConcurrency   = 4
	DefaultMultiGetBatch = 100
	DefaultMaxObjectSize = 64 << 20
	DefaultMaxXMLSize    = 256 << 20
)

// WithHTTPClient sets what sends the requests (default: an *http.Client that does not follow redirects).
func WithHTTPClient(d HTTPDoer) Option {
	return func(c *config) error {
		if d == nil {
			return errors.New("carddav: WithHTTPClient: nil HTTPDoer")
		}
		c.doer = d
		return nil
	}
}

// WithBasicAuth logs in as user: with HTTP Basic, or with Digest (RFC 7616: SHA-512-256, SHA-256 or MD5, qop
// auth or auth-int) once a server answers 401 offering Digest and not Basic. Credentials go only to the
// endpoint's origin, and only over https or to a loopback host (New fails with ErrInsecureAuth otherwise).
func WithBasicAuth(user, password string) Option {
	return func(c *config) error {
		if user == "" {
			return errors.New("carddav: WithBasicAuth: empty user name")
		}
		c.user, c.password, c.basicAuth = user, password, true
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		c.userAgent = ua
		return nil
	}
}

// WithMaxConcurrency bounds the requests one Client has in flight at once, across all its callers.
func WithMaxConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("carddav: WithMaxConcurrency: need at least 1")
		}
		c.concurrency = n
		return nil
	}
}

// WithMultiGetBatch sets how many hrefs one addressbook-multiget request carries.
func WithMultiGetBatch(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("carddav: WithMultiGetBatch: need at least 1")
		}
		c.batch = n
		return nil
	}
}

// WithMaxObjectSize bounds one vCard body (a GET, or one address-data of a multiget).
func WithMaxObjectSize(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("carddav: WithMaxObjectSize: need at least 1 byte")
		}
		c.maxObject = n
		return nil
	}
}

// WithMaxXMLSize bounds one XML response body (a listing, or one multiget batch).
func WithMaxXMLSize(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("carddav: WithMaxXMLSize: need at least 1 byte")
		}
		c.maxXML = n
		return nil
	}
}

// WithLogger logs each request at debug level (method, path, status, duration; never credentials).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("carddav: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithClock sets the clock used to turn a Retry-After date into a delay.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("carddav: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}
