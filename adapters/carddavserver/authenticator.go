package carddavserver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"
)

// maxCachedLogins bounds the verified-password cache; past it, expired entries go first, then all of them.
const maxCachedLogins = 10_000

// authenticator checks basic-auth passwords against stored PBKDF2 hashes. A PBKDF2 run costs a large part of
// a second by design, so a verified login is remembered for a while: a busy client pays it once, not on every
// request. The cache is keyed by an HMAC under a per-process secret of the user, the stored hash and the
// password, so it holds nothing a password can be read back from, and a changed password (a new stored hash)
// never matches an old entry.
type authenticator struct {
	secret []byte
	ttl    time.Duration
	clock  func() time.Time
	// slots bounds the PBKDF2 runs in flight, so a flood of wrong passwords queues instead of starving the
	// requests of users who are already verified.
	slots chan struct{}
	// dummy is a hash checked for unknown users, so a wrong user name costs as long as a wrong password. It is
	// made on first need: a process that only manages users never pays for it.
	dummy func() (string, error)

	mu    sync.Mutex
	cache map[[sha256.Size]byte]time.Time
}

func newAuthenticator(cfg config) (*authenticator, error) {
	secret := make([]byte, 32)
	if _, err := io.ReadFull(cfg.rand, secret); err != nil {
		return nil, fmt.Errorf("auth cache secret: %w", err)
	}
	dummy := sync.OnceValues(func() (string, error) { return hashPassword("", cfg.passwordIterations, cfg.rand) })
	return &authenticator{
		secret: secret,
		ttl:    cfg.authCacheTTL,
		clock:  cfg.clock,
		slots:  make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		dummy:  dummy,
		cache:  make(map[[sha256.Size]byte]time.Time),
	}, nil
}

// verify reports whether password is right for user, whose stored hash is stored ("" when there is no such
// user: the answer is then false, after as long as a real check takes).
func (a *authenticator) verify(ctx context.Context, user, password, stored string) (bool, error) {
	key := a.cacheKey(user, password, stored)
	now := a.clock()
	if stored != "" && a.ttl > 0 {
		a.mu.Lock()
		exp, ok := a.cache[key]
		a.mu.Unlock()
		if ok && now.Before(exp) {
			return true, nil
		}
	}
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	check := stored
	var err error
	if check == "" {
		check, err = a.dummy()
	}
	ok := false
	if err == nil {
		ok, err = checkPassword(password, check)
	}
	<-a.slots
	if err != nil || !ok || stored == "" {
		return false, err
	}
	if a.ttl > 0 {
		a.remember(key, now.Add(a.ttl), now)
	}
	return true, nil
}

func (a *authenticator) cacheKey(user, password, stored string) [sha256.Size]byte {
	m := hmac.New(sha256.New, a.secret)
	for _, s := range []string{user, stored, password} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	var k [sha256.Size]byte
	m.Sum(k[:0])
	return k
}

func (a *authenticator) remember(key [sha256.Size]byte, exp, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= maxCachedLogins {
		for k, e := range a.cache {
			if !now.Before(e) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCachedLogins {
			clear(a.cache)
		}
	}
	a.cache[key] = exp
}

// forget drops every cached login, after a password change or a user's removal in this process (the stored
// hash changes too, so this only frees memory sooner).
func (a *authenticator) forget() {
	a.mu.Lock()
	clear(a.cache)
	a.mu.Unlock()
}
