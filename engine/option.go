package engine

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Option configures a Syncer or a Worker.
type Option func(*config) error

type config struct {
	merge           MergeFunc
	clock           Clock
	random          func() float64
	logger          *slog.Logger
	allowMassDelete bool
	meter           Meter
	progress        func(Progress)
	maxAttempts     int
	maxRetryWait    time.Duration
	batch           int
	queryMin        int
	debounce        time.Duration
	pullInterval    time.Duration
	maxBackoff      time.Duration
}

// Defaults. A batch of 100 keeps each transaction short and matches the client's multiget batch.
const (
	DefaultDebounce     = 200 * time.Millisecond
	DefaultPullInterval = 5 * time.Minute
	DefaultMaxAttempts  = 5
	DefaultBatch        = 100
	// DefaultQueryMin: a full pull that leaves at least this many members to fetch, and at least half the
	// book, fetches the book with one query instead of multigets (see WithQueryMin).
	DefaultQueryMin = 100
	// DefaultMaxRetryWait bounds how long one request waits before trying again; a server asking for more
	// (Retry-After) fails the sync, and the worker comes back after that long.
	DefaultMaxRetryWait = time.Minute
	DefaultMaxBackoff   = 5 * time.Minute
)

func newConfig(opts []Option) (config, error) {
	c := config{
		merge:        Merge,
		clock:        realClock{},
		random:       rand.Float64,
		logger:       slog.New(slog.DiscardHandler),
		maxAttempts:  DefaultMaxAttempts,
		maxRetryWait: DefaultMaxRetryWait,
		batch:        DefaultBatch,
		queryMin:     DefaultQueryMin,
		debounce:     DefaultDebounce,
		pullInterval: DefaultPullInterval,
		maxBackoff:   DefaultMaxBackoff,
	}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return config{}, err
		}
	}
	return c, nil
}

// WithMerge replaces the three-way merge used when both sides changed a contact (Merge by default).
func WithMerge(m MergeFunc) Option {
	return func(c *config) error {
		if m == nil {
			return fmt.Errorf("engine: %w: nil merge", ErrInvalid)
		}
		c.merge = m
		return nil
	}
}

// WithClock sets the clock for timestamps, waits and timers (the real clock by default).
func WithClock(clk Clock) Option {
	return func(c *config) error {
		if clk == nil {
			return fmt.Errorf("engine: %w: nil clock", ErrInvalid)
		}
		c.clock = clk
		return nil
	}
}

// WithRandom sets the source of jitter: a function returning values in [0, 1).
func WithRandom(r func() float64) Option {
	return func(c *config) error {
		if r == nil {
			return fmt.Errorf("engine: %w: nil random source", ErrInvalid)
		}
		c.random = r
		return nil
	}
}

// WithLogger sets where the engine logs (nothing by default). It never logs credentials.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("engine: %w: nil logger", ErrInvalid)
		}
		c.logger = l
		return nil
	}
}

// AllowMassDeletion lets a pull apply deletions that the mass deletion guard would stop (ErrMassDeletion).
func AllowMassDeletion(allow bool) Option {
	return func(c *config) error { c.allowMassDelete = allow; return nil }
}

// Meter counts the requests a Remote sends and the bytes it moves (carddav.Meter does, for an HTTP client).
type Meter interface {
	Requests() int64
	Bytes() int64
}

// WithMeter reports the requests and bytes counted by m in each Stats.
func WithMeter(m Meter) Option {
	return func(c *config) error { c.meter = m; return nil }
}

// WithProgress calls fn as a push or pull makes progress, for a progress bar. fn runs on the syncing
// goroutine and must be quick.
func WithProgress(fn func(Progress)) Option {
	return func(c *config) error { c.progress = fn; return nil }
}

// WithMaxAttempts sets how many times one request is tried when it fails with a retryable error.
func WithMaxAttempts(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("engine: %w: max attempts %d < 1", ErrInvalid, n)
		}
		c.maxAttempts = n
		return nil
	}
}

// WithBatch sets how many contacts one transaction records (and one multiget fetches).
func WithBatch(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("engine: %w: batch %d < 1", ErrInvalid, n)
		}
		c.batch = n
		return nil
	}
}

// WithQueryMin sets when a full pull (a first sync, or one after the server refused the sync token) fetches
// the address book with one addressbook-query over all of it rather than with multigets of the members it
// lacks: when at least n members are to be fetched, and at least half of those listed. A query costs the server
// one pass over the book, where some servers (Xandikos) pay for each multiget href in time that grows with the
// book. Whatever the query does not give (an error, a member it leaves out) is fetched with multigets. 0 turns
// queries off.
func WithQueryMin(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("engine: %w: query minimum %d < 0", ErrInvalid, n)
		}
		c.queryMin = n
		return nil
	}
}

// WithDebounce sets how long a Worker waits after a local commit before pushing, so a burst of edits goes out
// as one push.
func WithDebounce(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("engine: %w: negative debounce", ErrInvalid)
		}
		c.debounce = d
		return nil
	}
}

// WithPullInterval sets how often a Worker pulls.
func WithPullInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("engine: %w: pull interval must be positive", ErrInvalid)
		}
		c.pullInterval = d
		return nil
	}
}

// WithMaxBackoff caps how long a Worker waits before retrying a remote that failed.
func WithMaxBackoff(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("engine: %w: max backoff must be positive", ErrInvalid)
		}
		c.maxBackoff = d
		return nil
	}
}
