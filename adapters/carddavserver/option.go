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
