package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/contactsync/contactsync/changelog"
)

// openStore opens the store named by --db, creating its directory (0700: it holds personal data) on first use.
// opts go to changelog.Open (the sync commands pass engine.Migrations() for the engine's tables).
func (g *globals) openStore(opts ...changelog.Option) (*changelog.Store, error) {
	if g.db == "" {
		return nil, fmt.Errorf("%w: no store path: pass --db or set CONTACTSYNC_DB", errUsage)
	}
	if err := os.MkdirAll(filepath.Dir(g.db), 0o700); err != nil {
		return nil, fmt.Errorf("create the store's directory: %w", err)
	}
	s, err := changelog.Open(g.db, opts...)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", g.db, err)
	}
	return s, nil
}
