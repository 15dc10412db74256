package fxa

import (
	"errors"
	"fmt"
	"time"
)

const (
	// DefaultScope is the scope a token must carry unless WithScope says otherwise. FxA names the scopes of
	// its services by URL (Sync's is https://identity.mozilla.com/apps/oldsync); this is the same form for
	// contacts. A deployment registered with FxA configures the scope it was granted.
	DefaultScope = "https://identity.mozilla.com/apps/contacts"
	// MaxLeeway is the most clock skew WithLeeway allows when checking exp, nbf and iat.
	MaxLeeway = 60 * time.Second
)

// An Option configures a Verifier; NewVerifier reports an invalid one.
type Option func(*config) error

type config struct {
	audience []string
	scope    string
	algs     []string
	leeway   time.Duration
	now      func() time.Time
	client   HTTPClient
}

func defaultConfig() config {
	return config{scope: DefaultScope, algs: []string{RS256, ES256}, leeway: MaxLeeway, now: time.Now}
}

// WithAudience makes aud required: it must contain at least one of these values. FxA puts the client id
// there, or the resource the client asked for. Without this option aud is not checked, as Mozilla's token
// server does, and the scope alone binds the token to the service.
func WithAudience(aud ...string) Option {
	return func(c *config) error {
		for _, a := range aud {
			if a == "" {
				return errors.New("empty audience")
			}
		}
		c.audience = append([]string(nil), aud...)
		return nil
	}
}

// WithScope sets the scope a token must carry (DefaultScope otherwise). It cannot be turned off.
func WithScope(scope string) Option {
	return func(c *config) error {
		if scope == "" {
			return errors.New("empty scope")
		}
		for _, r := range scope {
			if r <= ' ' || r == '"' || r == '\\' || r == 0x7f {
				return fmt.Errorf("scope %q is not one scope-token (RFC 6749 section 3.3)", scope)
			}
		}
		c.scope = scope
		return nil
	}
}

// WithAlgorithms restricts the signing algorithms accepted (RS256 and ES256 by default). Only those two are
// possible: an HMAC algorithm would let anyone holding the public key sign, and none signs nothing.
func WithAlgorithms(algs ...string) Option {
	return func(c *config) error {
		if len(algs) == 0 {
			return errors.New("no algorithm")
		}
		for _, a := range algs {
			if a != RS256 && a != ES256 {
				return fmt.Errorf("algorithm %q is not RS256 or ES256", a)
			}
		}
		c.algs = append([]string(nil), algs...)
		return nil
	}
}

// WithLeeway sets the clock skew allowed on exp, nbf and iat: at most MaxLeeway, which is the default.
func WithLeeway(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || d > MaxLeeway {
			return fmt.Errorf("leeway %v is outside 0..%v", d, MaxLeeway)
		}
		c.leeway = d
		return nil
	}
}

// WithClock sets the source of the current time, for checking tokens and pacing key set fetches.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("nil clock")
		}
		c.now = now
		return nil
	}
}

// WithHTTPClient sets the client that fetches the key set. The default one times out after 10 s and
// follows redirects only to https, or http on loopback; a client given here is trusted with its own policy.
func WithHTTPClient(client HTTPClient) Option {
	return func(c *config) error {
		if client == nil {
			return errors.New("nil HTTP client")
		}
		c.client = client
		return nil
	}
}
