package changelog

import (
	"fmt"
	"io/fs"
	"time"
)

// An Option configures [Open].
type Option func(*config) error

type config struct {
	clock      func() time.Time
	retention  Retention
	migrations []migrationSet
	watchEvery time.Duration
}

func defaultConfig() config {
	return config{
		clock:      time.Now,
		watchEvery: DefaultWatchInterval,
		migrations: []migrationSet{{namespace: coreNamespace, fsys: coreMigrations}},
	}
}

// WithClock sets the clock that timestamps changes and drives age-based retention (time.Now by default).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalid)
		}
		c.clock = now
		return nil
	}
}

// DefaultWatchInterval is how often a store that is being waited on ([Store.Notify]) looks for commits made by
// other processes: often enough that a worker uploads an edit made in another shell well within a second, and
// cheap enough that a waiting worker stays under 1% of a core: on a 2-core VM a bare 50 ms timer alone cost 0.56%
// (the wake-up, not the PRAGMA, which takes about 10 µs), so 100 ms it is (bench: BenchmarkCardDAVLiveEdit).
const DefaultWatchInterval = 100 * time.Millisecond

// WithWatchInterval sets how often [Store.Notify] looks for other processes' commits (DefaultWatchInterval).
func WithWatchInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: watch interval must be positive", ErrInvalid)
		}
		c.watchEvery = d
		return nil
	}
}

// WithRetention sets how much history [Store.Trim] keeps beyond what the cursors need, or how much it may drop
// that a stale cursor still needs. Without it Trim drops exactly what every cursor has passed.
func WithRetention(r Retention) Option {
	return func(c *config) error {
		if err := r.validate(); err != nil {
			return err
		}
		c.retention = r
		return nil
	}
}

// WithMigrations registers another package's schema: the files NNNN_name.sql at the root of fsys, numbered from
// 0001 without gaps, applied in order and forward only under their own namespace, in the same database and after
// the store's own schema. A package that keeps its state beside the contacts (a sync worker's mirror, say) uses
// this so its tables can be written in the same transaction as the log ([Tx.Exec]). Namespaces are fixed names
// ("changelog" is the store's own); once a file is released it must never change.
func WithMigrations(namespace string, fsys fs.FS) Option {
	return func(c *config) error {
		if namespace == "" || fsys == nil {
			return fmt.Errorf("%w: migrations need a namespace and a file system", ErrInvalid)
		}
		for _, m := range c.migrations {
			if m.namespace == namespace {
				return fmt.Errorf("%w: migration namespace %q registered twice", ErrInvalid, namespace)
			}
		}
		c.migrations = append(c.migrations, migrationSet{namespace: namespace, fsys: fsys})
		return nil
	}
}
