package device

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// Device is one device's contact store and its remotes. It is safe for concurrent use; the store serializes
// its writers.
type Device struct {
	store *changelog.Store
	creds string
	kinds map[string]Kind
	// credMu serializes the read-modify-write of the credentials file by this Device's callers.
	credMu sync.Mutex
}

// Option configures a Device.
type Option func(*config) error

type config struct {
	kinds     map[string]Kind
	storeOpts []changelog.Option
}

// WithKind lets the device open remotes of kind name with k, besides the built-in kinds (or instead of the
// built-in one of that name).
func WithKind(name string, k Kind) Option {
	return func(c *config) error {
		if name == "" || k == nil {
			return fmt.Errorf("%w: WithKind needs a name and a Kind", ErrInvalid)
		}
		c.kinds[name] = k
		return nil
	}
}

// WithStoreOptions passes options to changelog.Open (a retention policy, say), after the engine's tables.
func WithStoreOptions(opts ...changelog.Option) Option {
	return func(c *config) error {
		c.storeOpts = append(c.storeOpts, opts...)
		return nil
	}
}

// Open opens the device whose store is at path, creating the store and its directory on first use. The
// directory is made 0700: it holds personal data, and the credentials file beside the store.
func Open(path string, opts ...Option) (*Device, error) {
	cfg := config{kinds: maps.Clone(builtinKinds), storeOpts: []changelog.Option{engine.Migrations()}}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("device: %w", err)
		}
	}
	if path == "" {
		return nil, fmt.Errorf("device: %w: no store path", ErrInvalid)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("device: create the store's directory: %w", err)
	}
	s, err := changelog.Open(path, cfg.storeOpts...)
	if err != nil {
		return nil, fmt.Errorf("device: open store %s: %w", path, err)
	}
	return &Device{store: s, creds: CredentialsPath(path), kinds: cfg.kinds}, nil
}

// Close closes the store.
func (d *Device) Close() error {
	if err := d.store.Close(); err != nil {
		return fmt.Errorf("device: %w", err)
	}
	return nil
}

// Store is the device's contact store, for what works on it directly (an engine.Worker).
func (d *Device) Store() *changelog.Store { return d.store }
