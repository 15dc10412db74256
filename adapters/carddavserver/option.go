package carddavserver

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/contactsync/contactsync/changelog"
)

// Defaults.
const (
	// DefaultMaxResourceSize bounds one vCard: far above a contact with a photo, far below what hurts the server.
	DefaultMaxResourceSize = 16 << 20
	// DefaultMaxXMLSize bounds one request body of XML; a multiget of 100,000 hrefs fits.
	DefaultMaxXMLSize = 32 << 20
	// DefaultPasswordIterations is the PBKDF2-SHA256 iteration count for new password hashes (OWASP's 2023
	// figure). Verifications are cached, so only a client's first request pays it.
	DefaultPasswordIterations = 600_000
	// MinPasswordIterations is the lowest count WithPasswordIterations accepts (tests use it to go fast).
	MinPasswordIterations = 1_000
	// DefaultTrimInterval is how often the server trims the history of its open address books.
	DefaultTrimInterval = time.Hour
	// DefaultAuthCacheTTL is how long a verified password is remembered.
	DefaultAuthCacheTTL = 15 * time.Minute
	// DefaultShutdownTimeout is how long ServeListener waits for requests in flight when its context ends.
	DefaultShutdownTimeout = 10 * time.Second
)

// Defaults of the limits that keep slow or hostile clients from holding the server's connections, memory and
// CPU. The timeouts suit a phone on a poor mobile link: headers of a kilobyte and a TLS handshake take a
// few seconds there, and a transfer that stalls for a minute has usually been lost anyway.
const (
	// DefaultReadHeaderTimeout bounds the time from a connection's first byte (or the end of the last
	// response) to the end of a request's headers, TLS handshake included.
	DefaultReadHeaderTimeout = 20 * time.Second
	// DefaultBodyIdleTimeout bounds how long a request body may stall, sending no byte at all; a body that
	// keeps flowing takes as long as it needs.
	DefaultBodyIdleTimeout = time.Minute
	// DefaultWriteIdleTimeout bounds how long a response may stall because the client reads nothing.
	DefaultWriteIdleTimeout = time.Minute
	// DefaultIdleTimeout is how long a kept-alive connection may wait for its next request.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes bounds a request's line and headers; a CardDAV request needs a few hundred
	// bytes of them.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxConnsPerClient is how many connections one client may hold open at once: a client is an
	// IPv4 address or an IPv6 /64. A CardDAV client uses a handful; a household behind one NAT address a
	// few dozen.
	DefaultMaxConnsPerClient = 64
	// DefaultMaxConns is how many connections the server holds open at once: below the file descriptors a
	// Go process gets on a usual Linux system (Go raises the soft limit to the hard one, commonly 4,096 or
	// more), leaving room for the databases' files.
	DefaultMaxConns = 1024
	// DefaultMaxProperties is how many distinct properties one PROPFIND or REPORT may ask for; the server
	// knows about twenty, and clients ask for at most a few dozen.
	DefaultMaxProperties = 100
	// DefaultMaxMultigetHrefs is how many hrefs one addressbook-multiget may name: a large address book
	// fetched in one request, as vdirsyncer does.
	DefaultMaxMultigetHrefs = 100_000
	// DefaultMaxQueryFilters is how many prop-filter, param-filter and text-match elements one
	// addressbook-query may hold; each is applied to every vCard of the address book.
	DefaultMaxQueryFilters = 100
)

// DefaultRetention keeps a month of history and at least the last 10,000 changes of each address book: a
// client whose sync token is older gets 403 valid-sync-token and lists the address book again.
var DefaultRetention = changelog.Retention{MinRevisions: 10_000, MinAge: 30 * 24 * time.Hour}

// An Option configures Open.
type Option func(*config) error

type config struct {
	logger             *slog.Logger
	clock              func() time.Time
	rand               io.Reader
	maxResourceSize    int64
	maxXMLSize         int64
	passwordIterations int
	retention          changelog.Retention
	trimInterval       time.Duration
	authCacheTTL       time.Duration
	shutdownTimeout    time.Duration
	readHeaderTimeout  time.Duration
	bodyIdleTimeout    time.Duration
	writeIdleTimeout   time.Duration
	idleTimeout        time.Duration
	maxHeaderBytes     int
	maxConnsPerClient  int
	maxConns           int
	limits             requestLimits
}

func defaultConfig() config {
	return config{
		logger:             slog.New(slog.DiscardHandler),
		clock:              time.Now,
		rand:               rand.Reader,
		maxResourceSize:    DefaultMaxResourceSize,
		maxXMLSize:         DefaultMaxXMLSize,
		passwordIterations: DefaultPasswordIterations,
		retention:          DefaultRetention,
		trimInterval:       DefaultTrimInterval,
		authCacheTTL:       DefaultAuthCacheTTL,
		shutdownTimeout:    DefaultShutdownTimeout,
		readHeaderTimeout:  DefaultReadHeaderTimeout,
		bodyIdleTimeout:    DefaultBodyIdleTimeout,
		writeIdleTimeout:   DefaultWriteIdleTimeout,
		idleTimeout:        DefaultIdleTimeout,
		maxHeaderBytes:     DefaultMaxHeaderBytes,
		maxConnsPerClient:  DefaultMaxConnsPerClient,
		maxConns:           DefaultMaxConns,
		limits: requestLimits{
			properties:   DefaultMaxProperties,
			hrefs:        DefaultMaxMultigetHrefs,
			queryFilters: DefaultMaxQueryFilters,
		},
	}
}

// WithLogger logs each request at debug level (method, path, status, user, duration; never a password) and
// server errors at error level.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithClock sets the clock for modification times, history retention and the password cache.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("nil clock")
		}
		c.clock = now
		return nil
	}
}

// WithRand sets the source of password salts and address-book identities (crypto/rand by default).
func WithRand(r io.Reader) Option {
	return func(c *config) error {
		if r == nil {
			return fmt.Errorf("nil random source")
		}
		c.rand = r
		return nil
	}
}

// WithMaxResourceSize bounds one vCard body (CARDDAV:max-resource-size); a larger PUT gets 413.
func WithMaxResourceSize(n int64) Option {
	return func(c *config) error {
		if n < 1024 {
			return fmt.Errorf("max resource size %d is below 1 KiB", n)
		}
		c.maxResourceSize = n
		return nil
	}
}

// WithMaxXMLSize bounds one XML request body; a larger one gets 413.
func WithMaxXMLSize(n int64) Option {
	return func(c *config) error {
		if n < 4096 {
			return fmt.Errorf("max XML size %d is below 4 KiB", n)
		}
		c.maxXMLSize = n
		return nil
	}
}

// WithPasswordIterations sets the PBKDF2 iteration count of passwords hashed from now on; existing hashes
// keep their own count.
func WithPasswordIterations(n int) Option {
	return func(c *config) error {
		if n < MinPasswordIterations {
			return fmt.Errorf("password iterations %d below the minimum %d", n, MinPasswordIterations)
		}
		c.passwordIterations = n
		return nil
	}
}

// WithRetention sets how much history each address book keeps for sync tokens (DefaultRetention). It must
// keep something: with nothing kept every token would be invalid after each trim.
func WithRetention(r changelog.Retention) Option {
	return func(c *config) error {
		if r.MinRevisions == 0 && r.MinAge <= 0 {
			return fmt.Errorf("retention keeps no history: set MinRevisions or MinAge")
		}
		c.retention = r
		return nil
	}
}

// WithTrimInterval sets how often the server trims history (DefaultTrimInterval); 0 turns the periodic trim
// off (Server.Trim still works).
func WithTrimInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("negative trim interval")
		}
		c.trimInterval = d
		return nil
	}
}

// WithAuthCacheTTL sets how long a verified password is remembered (DefaultAuthCacheTTL); 0 verifies every
// request with the full PBKDF2 cost.
func WithAuthCacheTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("negative auth cache TTL")
		}
		c.authCacheTTL = d
		return nil
	}
}

// WithShutdownTimeout sets how long ServeListener waits for requests in flight once its context ends.
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("shutdown timeout must be positive")
		}
		c.shutdownTimeout = d
		return nil
	}
}

// WithReadHeaderTimeout bounds how long a client may take over a request's headers, TLS handshake included
// (DefaultReadHeaderTimeout); it applies to ServeListener.
func WithReadHeaderTimeout(d time.Duration) Option {
	return timeoutOption("read header timeout", d, func(c *config) *time.Duration { return &c.readHeaderTimeout })
}

// WithBodyIdleTimeout bounds how long a request body may send nothing (DefaultBodyIdleTimeout). Each read of
// the body must bring bytes within it, so a slow upload that keeps flowing succeeds however long it takes; a
// stalled one gets 408 and its connection is closed. It applies to Handler as well as ServeListener.
func WithBodyIdleTimeout(d time.Duration) Option {
	return timeoutOption("body idle timeout", d, func(c *config) *time.Duration { return &c.bodyIdleTimeout })
}

// WithWriteIdleTimeout bounds how long writing a response may stall because the client reads nothing
// (DefaultWriteIdleTimeout); the response is then cut off and the connection closed. Each piece of at most
// 32 KiB must go out within it, so a slow download that keeps flowing succeeds.
func WithWriteIdleTimeout(d time.Duration) Option {
	return timeoutOption("write idle timeout", d, func(c *config) *time.Duration { return &c.writeIdleTimeout })
}

// WithIdleTimeout sets how long a kept-alive connection may wait for its next request (DefaultIdleTimeout);
// it applies to ServeListener.
func WithIdleTimeout(d time.Duration) Option {
	return timeoutOption("idle timeout", d, func(c *config) *time.Duration { return &c.idleTimeout })
}

func timeoutOption(what string, d time.Duration, field func(*config) *time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%s must be positive", what)
		}
		*field(c) = d
		return nil
	}
}

// WithMaxHeaderBytes bounds a request's line and headers (DefaultMaxHeaderBytes); larger ones get 431. It
// applies to ServeListener.
func WithMaxHeaderBytes(n int) Option {
	return countOption("max header bytes", n, 4096, func(c *config) *int { return &c.maxHeaderBytes })
}

// WithMaxConnsPerClient sets how many connections one client (an IPv4 address, or an IPv6 /64) may hold
// open at once (DefaultMaxConnsPerClient); 0 means no limit, for a server behind a reverse proxy, where
// every connection comes from the proxy's address. A connection over the limit is closed as soon as it is
// accepted, so a flood from one client costs the others nothing. It applies to ServeListener.
func WithMaxConnsPerClient(n int) Option {
	return countOption("max connections per client", n, 0, func(c *config) *int { return &c.maxConnsPerClient })
}

// WithMaxConns sets how many connections the server holds open at once (DefaultMaxConns); 0 means no limit.
// Connections over it are closed as soon as they are accepted. It applies to ServeListener.
func WithMaxConns(n int) Option {
	return countOption("max connections", n, 0, func(c *config) *int { return &c.maxConns })
}

// WithMaxProperties sets how many distinct properties one PROPFIND or REPORT may ask for
// (DefaultMaxProperties); a request naming more gets 400. A property named twice counts once and is
// answered once.
func WithMaxProperties(n int) Option {
	return countOption("max properties", n, 1, func(c *config) *int { return &c.limits.properties })
}

// WithMaxMultigetHrefs sets how many distinct hrefs one addressbook-multiget may name
// (DefaultMaxMultigetHrefs); a request naming more gets 400.
func WithMaxMultigetHrefs(n int) Option {
	return countOption("max multiget hrefs", n, 1, func(c *config) *int { return &c.limits.hrefs })
}

// WithMaxQueryFilters sets how many prop-filter, param-filter and text-match elements one addressbook-query
// may hold (DefaultMaxQueryFilters); a request with more gets 400.
func WithMaxQueryFilters(n int) Option {
	return countOption("max query filters", n, 1, func(c *config) *int { return &c.limits.queryFilters })
}

func countOption(what string, n, least int, field func(*config) *int) Option {
	return func(c *config) error {
		if n < least {
			return fmt.Errorf("%s %d is below %d", what, n, least)
		}
		*field(c) = n
		return nil
	}
}
