package devidp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/contactsync/contactsync/adapters/fxa"
)

// DefaultClientID is the OAuth client the provider mints for unless told otherwise: it goes in client_id and
// is the audience.
const DefaultClientID = "contactsync-dev"

// JWKSPath is where a Server serves the key set, FxA's own path.
const JWKSPath = "/v1/jwks"

// Provider holds the signing keys and mints tokens. It is safe for concurrent use.
type Provider struct {
	issuer   string
	clientID string
	scope    string
	now      func() time.Time
	keyFile  string

	mu       sync.Mutex
	keys     []*signingKey          // published, oldest first; the newest of each algorithm signs
	stranger map[string]*signingKey // keys outside the set, made on first use, for Tamper
	codes    map[string]pendingCode // authorization codes not yet exchanged
}

// An Option configures a Provider.
type Option func(*Provider) error

// WithKeyFile keeps the keys in path (a JWK Set with the private keys, mode 0600): loaded when it exists, so
// tokens stay valid across restarts, else generated and written there. A file others may read is refused.
func WithKeyFile(path string) Option {
	return func(p *Provider) error { p.keyFile = path; return nil }
}

// WithClock sets the time that iat and exp count from.
func WithClock(now func() time.Time) Option {
	return func(p *Provider) error {
		if now == nil {
			return errors.New("nil clock")
		}
		p.now = now
		return nil
	}
}

// WithClientID sets the default client_id and audience (DefaultClientID otherwise).
func WithClientID(id string) Option {
	return func(p *Provider) error {
		if id == "" {
			return errors.New("empty client id")
		}
		p.clientID = id
		return nil
	}
}

// WithScope sets the default scope of minted tokens (fxa.DefaultScope otherwise).
func WithScope(scope string) Option {
	return func(p *Provider) error {
		if scope == "" {
			return errors.New("empty scope")
		}
		p.scope = scope
		return nil
	}
}

// NewProvider returns a provider whose tokens name issuer, with an RS256 and an ES256 key.
func NewProvider(issuer string, opts ...Option) (*Provider, error) {
	if issuer == "" {
		return nil, errors.New("devidp: no issuer")
	}
	p := &Provider{issuer: issuer, clientID: DefaultClientID, scope: fxa.DefaultScope, now: time.Now,
		stranger: map[string]*signingKey{}, codes: map[string]pendingCode{}}
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, fmt.Errorf("devidp: %w", err)
		}
	}
	if p.keyFile != "" {
		keys, err := loadKeyFile(p.keyFile)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("devidp: %w", err)
		}
		p.keys = keys
	}
	added := false
	for _, alg := range []string{fxa.RS256, fxa.ES256} {
		if p.current(alg) == nil {
			k, err := newSigningKey(alg)
			if err != nil {
				return nil, fmt.Errorf("devidp: %w", err)
			}
			p.keys = append(p.keys, k)
			added = true
		}
	}
	if added {
		if err := p.saveLocked(); err != nil {
			return nil, fmt.Errorf("devidp: %w", err)
		}
	}
	return p, nil
}

// Issuer is the iss of the tokens.
func (p *Provider) Issuer() string { return p.issuer }

// JWKSURL is where the key set is served, when the provider is served at its issuer URL.
func (p *Provider) JWKSURL() string { return p.issuer + JWKSPath }

// ClientID is the default client_id and audience.
func (p *Provider) ClientID() string { return p.clientID }

// KID returns the kid of the key that signs alg now.
func (p *Provider) KID(alg string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := p.current(alg); k != nil {
		return k.kid
	}
	return ""
}

// KeySet returns the public key set (RFC 7517 section 5) as served at JWKSPath. Written to a file, it is a
// JWKS source package fxa reads without a server.
func (p *Provider) KeySet() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var set jose.JSONWebKeySet
	for _, k := range p.keys {
		set.Keys = append(set.Keys, k.jwk(false))
	}
	return json.Marshal(set)
}

// Rotate makes a new key sign alg and publishes it beside the old ones, which keep verifying until Retire.
// It returns the new kid.
func (p *Provider) Rotate(alg string) (string, error) {
	k, err := newSigningKey(alg)
	if err != nil {
		return "", fmt.Errorf("devidp: rotate: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = append(p.keys, k)
	if err := p.saveLocked(); err != nil {
		return "", fmt.Errorf("devidp: rotate: %w", err)
	}
	return k.kid, nil
}

// Retire withdraws a key from the set: tokens it signed stop verifying once a verifier refetches. The key
// signing an algorithm cannot be retired before a Rotate replaces it.
func (p *Provider) Retire(kid string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.IndexFunc(p.keys, func(k *signingKey) bool { return k.kid == kid })
	if i < 0 {
		return fmt.Errorf("devidp: retire: no key %q", kid)
	}
	if p.current(p.keys[i].alg) == p.keys[i] {
		return fmt.Errorf("devidp: retire: key %q signs %s now; rotate first", kid, p.keys[i].alg)
	}
	p.keys = slices.Delete(p.keys, i, i+1)
	if err := p.saveLocked(); err != nil {
		return fmt.Errorf("devidp: retire: %w", err)
	}
	return nil
}

// current returns the newest key of alg, or nil.
func (p *Provider) current(alg string) *signingKey {
	for i := len(p.keys) - 1; i >= 0; i-- {
		if p.keys[i].alg == alg {
			return p.keys[i]
		}
	}
	return nil
}

func (p *Provider) saveLocked() error {
	if p.keyFile == "" {
		return nil
	}
	return saveKeyFile(p.keyFile, p.keys)
}

// strangerKey returns a key of alg that is not in the set, the same one every time.
func (p *Provider) strangerKey(alg string) (*signingKey, error) {
	if k := p.stranger[alg]; k != nil {
		return k, nil
	}
	k, err := newSigningKey(alg)
	if err != nil {
		return nil, err
	}
	p.stranger[alg] = k
	return k, nil
}
