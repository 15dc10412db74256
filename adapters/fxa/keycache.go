package fxa

import (
	"context"
	"sync"
	"time"
)

const (
	// RefetchInterval is the least time between two fetches of the key set that tokens trigger: an unknown
	// kid, or a set past its cache lifetime. A flood of tokens with made-up kids costs the issuer one request
	// a minute.
	RefetchInterval = time.Minute
	// retryInterval replaces RefetchInterval while no set has ever loaded, so a verifier started before its
	// issuer recovers within seconds of the issuer coming up.
	retryInterval = 5 * time.Second
	// DefaultCacheAge is how long a key set stays fresh when its response says nothing (Cache-Control
	// max-age); files get it too. Lifetimes are held between RefetchInterval and maxCacheAge.
	DefaultCacheAge = time.Hour
	maxCacheAge     = 24 * time.Hour
	// fetchTimeout bounds one fetch, whoever waits for it.
	fetchTimeout = 10 * time.Second
)

// keyCache holds the issuer's key set and decides when to load it again.
//
// A token whose kid is in the set uses it; once the set is past its lifetime, the first such token after
// RefetchInterval refreshes it and the others keep using the old set meanwhile. A token whose kid is
// unknown waits for a fetch: the one running, or a new one if none ran within RefetchInterval. A failed
// fetch keeps the set that was there: an issuer briefly down does not stop tokens signed with keys already
// known, and a key the issuer withdraws is dropped at the first fetch that succeeds.
type keyCache struct {
	src source
	now func() time.Time

	mu         sync.Mutex
	set        keySet        // nil until a fetch succeeds
	freshUntil time.Time     // end of set's cache lifetime
	lastTry    time.Time     // start of the last fetch, successful or not
	lastErr    error         // why the last fetch failed; nil after a success
	fetching   chan struct{} // closed when the running fetch ends; nil when none runs
}

// key returns the verification key for a token's kid and alg.
func (c *keyCache) key(ctx context.Context, kid, alg string) (any, *Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// One fetch at most per call, its own or one it waited for: a slow issuer cannot keep a token looping.
	fetched := false
	for {
		now := c.now()
		known := c.set != nil && len(c.set[kid]) > 0
		switch {
		case known && (fetched || now.Before(c.freshUntil) || c.fetching != nil || !c.mayFetch(now)):
			return c.set.key(kid, alg)
		case fetched:
			return nil, c.missing(kid)
		case c.fetching != nil:
			if err := c.waitLocked(ctx); err != nil {
				return nil, &Error{Code: CodeJWKSUnavailable, Detail: "waiting for the key set", Err: err}
			}
		case c.mayFetch(now):
			c.fetchLocked(ctx)
		default:
			return nil, c.missing(kid)
		}
		fetched = true
	}
}

// refresh loads the set now, or waits for the fetch already running, and reports a failure.
func (c *keyCache) refresh(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fetching != nil {
		if err := c.waitLocked(ctx); err != nil {
			return err
		}
	} else {
		c.fetchLocked(ctx)
	}
	return c.lastErr
}

func (c *keyCache) mayFetch(now time.Time) bool {
	interval := RefetchInterval
	if c.set == nil {
		interval = retryInterval
	}
	return c.lastTry.IsZero() || now.Sub(c.lastTry) >= interval
}

func (c *keyCache) missing(kid string) *Error {
	if c.set == nil {
		return &Error{Code: CodeJWKSUnavailable, Detail: "no key set loaded from " + c.src.String(), Err: c.lastErr}
	}
	return refuse(CodeUnknownKID, "kid %s is not in the issuer's key set", clip(kid))
}

// waitLocked releases the lock until the running fetch ends or ctx is done.
func (c *keyCache) waitLocked(ctx context.Context) error {
	done := c.fetching
	c.mu.Unlock()
	defer c.mu.Lock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetchLocked loads the set with the lock released meanwhile. The fetch does not end with the caller's
// context, since other tokens may be waiting for it; fetchTimeout bounds it instead.
func (c *keyCache) fetchLocked(ctx context.Context) {
	done := make(chan struct{})
	c.fetching = done
	c.lastTry = c.now()
	c.mu.Unlock()

	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	doc, age, err := c.src.load(fctx)
	cancel()
	var set keySet
	if err == nil {
		set, err = parseKeySet(doc)
	}

	c.mu.Lock()
	c.fetching = nil
	close(done)
	c.lastErr = err
	if err == nil {
		c.set = set
		c.freshUntil = c.now().Add(lifetime(age))
	}
}

func lifetime(age time.Duration) time.Duration {
	switch {
	case age < 0:
		return DefaultCacheAge
	case age < RefetchInterval:
		return RefetchInterval
	case age > maxCacheAge:
		return maxCacheAge
	}
	return age
}
