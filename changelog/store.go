package changelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// busyTimeout is how long a connection waits for another process's lock (the CLI writing while a worker runs)
// before it reports SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// maxReaders bounds the read pool; each open Sync or All iteration holds one connection.
const maxReaders = 8

// Store is the contact store and its log. It is safe for concurrent use. Writes go through one connection, one
// transaction at a time; reads use a separate pool and see the last committed state, so a long Sync never
// blocks a writer. Several processes may open the same file; SQLite's lock orders their writes, but
// [Store.Notify] only sees this process's commits.
type Store struct {
	path       string
	writer     *sql.DB
	readers    *sql.DB
	clock      func() time.Time
	retention  Retention
	notify     *notifier
	watchEvery time.Duration
	watcher    watcher
	gate       gate
}

// Open opens the store at path, creating it if needed, and brings its schema (and that of any
// [WithMigrations] set) up to date. It fails with [ErrSchemaTooNew] on a database written by a newer program.
func Open(path string, opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("changelog: open %s: %w", path, err)
		}
	}
	if path == "" {
		return nil, fmt.Errorf("changelog: open: %w: empty path", ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("changelog: open %s: %w", path, err)
	}
	if err := CreatePrivate(abs); err != nil {
		return nil, fmt.Errorf("changelog: open %s: %w", path, err)
	}
	s := &Store{path: abs, clock: cfg.clock, retention: cfg.retention, notify: newNotifier(), watchEvery: cfg.watchEvery}
	if err := s.open(cfg.migrations); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("changelog: open %s: %w", path, err)
	}
	return s, nil
}

// CreatePrivate makes sure the SQLite database at path exists and that only its owner may read or write it.
// SQLite would create a new file with mode 0644 under the usual umask 022, and it gives the -wal and -shm
// files it creates the mode of the database file, so with the database made 0600 here first all three files
// are 0600, whatever the umask. Files an older version left open to others are set to 0600 too. Open calls
// it; call it also before opening another SQLite file that must stay private (the CardDAV server's
// accounts.db, which holds password hashes).
func CreatePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	err = onlyOwner(f)
	err = errors.Join(err, f.Close())
	for _, suffix := range []string{"-wal", "-shm"} {
		f, oerr := os.Open(path + suffix)
		if errors.Is(oerr, os.ErrNotExist) {
			continue
		}
		if oerr == nil {
			oerr = errors.Join(onlyOwner(f), f.Close())
		}
		err = errors.Join(err, oerr)
	}
	return err
}

// onlyOwner sets f to 0600; fchmod ignores the umask, so the mode is exact.
func onlyOwner(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Mode().Perm() != 0o600 {
		return f.Chmod(0o600)
	}
	return nil
}

func (s *Store) open(sets []migrationSet) error {
	// Every connection gets the pragmas through the DSN, so a connection the pool reopens has them too.
	// _txlock=immediate makes a write transaction take the write lock at BEGIN, so it cannot fail with
	// SQLITE_BUSY half way through when another process writes.
	common := url.Values{
		"_busy_timeout":    {fmt.Sprint(busyTimeout.Milliseconds())},
		"_foreign_keys":    {"1"},
		"_journal_mode":    {"WAL"},
		"_synchronous":     {"FULL"},
		"_stmt_cache_size": {"32"},
	}
	base := "file:" + (&url.URL{Path: s.path}).EscapedPath() + "?"
	var err error
	if s.writer, err = sql.Open("sqlite3", base+with(common, "_txlock", "immediate").Encode()); err != nil {
		return err
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)

	ctx := context.Background()
	var mode string
	if err := s.writer.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		// Without WAL a long read would block writers; refuse rather than run with other guarantees.
		return fmt.Errorf("journal mode is %q, not WAL (is the file on a file system without shared memory?)", mode)
	}
	if err := migrate(ctx, s.writer, sets); err != nil {
		return err
	}
	// _query_only keeps a stray write on a read connection from ever bypassing the writer and the log.
	if s.readers, err = sql.Open("sqlite3", base+with(with(common, "_txlock", "deferred"), "_query_only", "1").Encode()); err != nil {
		return err
	}
	s.readers.SetMaxOpenConns(maxReaders)
	s.readers.SetMaxIdleConns(2)
	// Notify wakes waiters for revisions after this one, whoever commits them.
	var rev int64
	if err := s.readers.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'last_rev'`).Scan(&rev); err != nil {
		return err
	}
	s.notify.rev = uint64(rev)
	return nil
}

// with returns a copy of v with key set to value.
func with(v url.Values, key, value string) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = vs
	}
	c.Set(key, value)
	return c
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close waits for the calls in flight (including open Sync and All iterations) to finish, then closes the
// database. Calls made after Close fail with [ErrClosed], and channels from [Store.Notify] are closed. Do not call
// Close from inside an Update callback or a Sync loop: it would wait for itself.
func (s *Store) Close() error {
	if !s.gate.close() {
		return nil
	}
	s.stopWatch()
	s.notify.close()
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.readers != nil {
		errs = append(errs, s.readers.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("changelog: close %s: %w", s.path, err)
	}
	return nil
}

// Notify returns a channel that is closed by the next commit that adds a revision (an add, update, remove,
// clear or batch; not a cursor save or a trim), or by Close. To wait without missing a commit, take the channel
// before reading the store:
//
//	ch := s.Notify()
//	for task, err := range s.Sync(ctx, cursor) { … }
//	select { case <-ch: case <-ctx.Done(): }
//
// A commit through this Store closes it at once; a commit by another process (or another Store) on the same
// file closes it within the watch interval ([WithWatchInterval], [DefaultWatchInterval]): the first call to
// Notify starts a watcher that the Store owns and Close stops.
func (s *Store) Notify() <-chan struct{} {
	s.watch()
	return s.notify.wait()
}

// Get returns the contact with the given ID, or an error wrapping [ErrNotFound].
func (s *Store) Get(ctx context.Context, id string) (Contact, error) {
	if err := s.gate.enter(); err != nil {
		return Contact{}, err
	}
	defer s.gate.leave()
	return getContact(ctx, s.readers, id)
}

// queryer is what reads need from either a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const contactColumns = `id, data, source, rev, updated`

func getContact(ctx context.Context, q queryer, id string) (Contact, error) {
	c, err := newContactRow().scan(q.QueryRowContext(ctx, `SELECT `+contactColumns+` FROM contacts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Contact{}, fmt.Errorf("changelog: get %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Contact{}, fmt.Errorf("changelog: get %q: %w", id, err)
	}
	return c, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// contactRow scans contactColumns, followed by any extra destinations, into destinations it keeps, so a scan of
// many rows does not build a new destination list for each.
type contactRow struct {
	c            Contact
	rev, updated int64
	dest         []any
}

func newContactRow(extra ...any) *contactRow {
	r := &contactRow{}
	r.dest = append([]any{&r.c.ID, &r.c.Data, &r.c.Source, &r.rev, &r.updated}, extra...)
	return r
}

func (r *contactRow) scan(row scanner) (Contact, error) {
	if err := row.Scan(r.dest...); err != nil {
		return Contact{}, err
	}
	c := r.c
	c.Rev = uint64(r.rev)
	c.Updated = time.Unix(0, r.updated).UTC()
	return c, nil
}

// All yields every contact in ID order, one at a time, from one consistent snapshot; it never holds more
// than one contact in memory. Stop early by breaking out of the loop.
func (s *Store) All(ctx context.Context) iter.Seq2[Contact, error] {
	return func(yield func(Contact, error) bool) {
		if err := s.gate.enter(); err != nil {
			yield(Contact{}, err)
			return
		}
		defer s.gate.leave()
		if err := allContacts(ctx, s.readers, func(c Contact) bool { return yield(c, nil) }); err != nil {
			yield(Contact{}, fmt.Errorf("changelog: list: %w", err))
		}
	}
}

// allContacts streams every contact in ID order to yield until it returns false.
func allContacts(ctx context.Context, q queryer, yield func(Contact) bool) error {
	rows, err := q.QueryContext(ctx, `SELECT `+contactColumns+` FROM contacts ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	row := newContactRow()
	for rows.Next() {
		c, err := row.scan(rows)
		if err != nil {
			return err
		}
		if !yield(c) {
			return nil
		}
	}
	return rows.Err()
}

// Count returns the number of contacts.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.readRow(ctx, `SELECT value FROM meta WHERE key = 'contacts'`, &n); err != nil {
		return 0, fmt.Errorf("changelog: count: %w", err)
	}
	return n, nil
}

// LastRevision returns the newest revision (0 for a new store).
func (s *Store) LastRevision(ctx context.Context) (uint64, error) {
	var rev int64
	if err := s.readRow(ctx, `SELECT value FROM meta WHERE key = 'last_rev'`, &rev); err != nil {
		return 0, fmt.Errorf("changelog: last revision: %w", err)
	}
	return uint64(rev), nil
}

// Horizon returns the newest revision trimmed from the log (0 if nothing was). Sync from a revision below it
// yields clear and then every contact.
func (s *Store) Horizon(ctx context.Context) (uint64, error) {
	var rev int64
	if err := s.readRow(ctx, `SELECT value FROM meta WHERE key = 'horizon'`, &rev); err != nil {
		return 0, fmt.Errorf("changelog: horizon: %w", err)
	}
	return uint64(rev), nil
}

func (s *Store) readRow(ctx context.Context, query string, dest ...any) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	return s.readers.QueryRowContext(ctx, query).Scan(dest...)
}
