package faultproxy

import (
	"fmt"
	"math"
	"net/http"
	"time"
)

// Defaults.
const (
	// DefaultHold is how long a Timeout fault holds a request before answering 504, for clients that never
	// give up by themselves.
	DefaultHold = 30 * time.Second
	// DefaultSlow is how long a Slow fault takes to deliver an answer.
	DefaultSlow = 500 * time.Millisecond
	// DefaultRetryAfter is the Retry-After of 5xx and 429 faults, in seconds: the smallest a server can say.
	DefaultRetryAfter = 1
	// DefaultMaxBody bounds a request or answer body the Proxy buffers.
	DefaultMaxBody = 512 << 20
)

// Option configures a Proxy or a Hostile.
type Option func(*config) error

type config struct {
	rate       float64
	seed       uint64
	kinds      []Kind
	transport  http.RoundTripper
	hold, slow time.Duration
	retryAfter int
	maxBody    int64
	after      func(time.Duration) <-chan time.Time
	giant      int64
	threats    []Kind
}

func newConfig(opts []Option) (config, error) {
	cfg := config{
		kinds:      Kinds(),
		transport:  http.DefaultTransport,
		hold:       DefaultHold,
		slow:       DefaultSlow,
		retryAfter: DefaultRetryAfter,
		maxBody:    DefaultMaxBody,
		after:      time.After,
		giant:      DefaultGiantSize,
		threats:    Threats(),
	}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return config{}, err
		}
	}
	return cfg, nil
}

// WithRate sets the probability, in [0, 1], that a request meets a fault (0 by default: a transparent proxy).
func WithRate(rate float64) Option {
	return func(c *config) error {
		if err := validRate(rate); err != nil {
			return err
		}
		c.rate = rate
		return nil
	}
}

func validRate(rate float64) error {
	if math.IsNaN(rate) || rate < 0 || rate > 1 {
		return fmt.Errorf("%w: fault rate %v is not in [0, 1]", ErrInvalid, rate)
	}
	return nil
}

// WithSeed seeds the random source that decides which request meets which fault (and, for Hostile, which
// listing is answered with a hostile document). The same seed and the same sequence of requests give the
// same faults.
func WithSeed(seed uint64) Option {
	return func(c *config) error {
		c.seed = seed
		return nil
	}
}

// WithKinds restricts the faults injected to these kinds (all of them by default).
func WithKinds(kinds ...Kind) Option {
	return func(c *config) error {
		if len(kinds) == 0 {
			return fmt.Errorf("%w: WithKinds needs at least one kind", ErrInvalid)
		}
		for _, k := range kinds {
			if err := k.valid(); err != nil {
				return err
			}
		}
		c.kinds = append([]Kind(nil), kinds...)
		return nil
	}
}

// WithTransport sets what carries requests to the server (http.DefaultTransport by default).
func WithTransport(rt http.RoundTripper) Option {
	return func(c *config) error {
		if rt == nil {
			return fmt.Errorf("%w: nil transport", ErrInvalid)
		}
		c.transport = rt
		return nil
	}
}

// WithHold sets how long a Timeout fault holds a request before answering 504 (DefaultHold). Make it longer
// than the client's own timeout to see the client give up.
func WithHold(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: hold %v must be positive", ErrInvalid, d)
		}
		c.hold = d
		return nil
	}
}

// WithSlow sets how long a Slow fault takes to deliver an answer (DefaultSlow).
func WithSlow(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: slow time %v must be positive", ErrInvalid, d)
		}
		c.slow = d
		return nil
	}
}

// WithRetryAfter sets the Retry-After, in seconds, of 5xx and 429 faults (DefaultRetryAfter).
func WithRetryAfter(seconds int) Option {
	return func(c *config) error {
		if seconds < 0 {
			return fmt.Errorf("%w: Retry-After %d is negative", ErrInvalid, seconds)
		}
		c.retryAfter = seconds
		return nil
	}
}

// WithMaxBody bounds the request and answer bodies the Proxy buffers (DefaultMaxBody); a larger one is
// answered 413 or 502.
func WithMaxBody(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("%w: max body %d must be positive", ErrInvalid, n)
		}
		c.maxBody = n
		return nil
	}
}

// WithAfter sets the timer used for holds and slow answers (time.After by default).
func WithAfter(after func(time.Duration) <-chan time.Time) Option {
	return func(c *config) error {
		if after == nil {
			return fmt.Errorf("%w: nil timer", ErrInvalid)
		}
		c.after = after
		return nil
	}
}
