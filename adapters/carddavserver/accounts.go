package carddavserver

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/contactsync/contactsync/changelog"
	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/accounts/*.sql migrations/book/*.sql
var migrationFiles embed.FS

// accounts is the server's database of users and address books. Writes are rare (a user added, a book
// created), reads happen on every request, so one small pool serves both.
type accounts struct {
	db *sql.DB
}

// bookInfo is an address book as the accounts database lists it.
type bookInfo struct {
	owner, name, id          string
	displayName, description string
}

func openAccounts(ctx context.Context, file string) (*accounts, error) {
	// It holds password hashes: nobody but the server's user may read it or its -wal and -shm files.
	if err := changelog.CreatePrivate(file); err != nil {
		return nil, err
	}
	db, err := openSQLite(file, 4, url.Values{"_journal_mode": {"WAL"}, "_synchronous": {"FULL"}, "_txlock": {"immediate"}})
	if err != nil {
		return nil, err
	}
	a := &accounts{db: db}
	if err := a.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// migrate applies the numbered files of migrations/accounts in order, forward only, tracking the version in
// PRAGMA user_version, all in one transaction.
func (a *accounts) migrate(ctx context.Context) error {
	files, err := fs.Glob(migrationFiles, "migrations/accounts/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("accounts: migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op; before it, the error returned says why
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("accounts: migrate: %w", err)
	}
	if version > len(files) {
		return fmt.Errorf("accounts: %w: schema version %d, this program knows %d", ErrSchemaTooNew, version, len(files))
	}
	for i, f := range files[version:] {
		if want := fmt.Sprintf("%04d_", version+i+1); !strings.HasPrefix(path.Base(f), want) {
			return fmt.Errorf("accounts: migration %s out of sequence", f)
		}
		text, err := migrationFiles.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(text)); err != nil {
			return fmt.Errorf("accounts: migrate %s: %w", path.Base(f), err)
		}
	}
	// PRAGMA takes no parameters; the value is an int this code computed.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(files))); err != nil {
		return fmt.Errorf("accounts: migrate: %w", err)
	}
	return tx.Commit()
}

func (a *accounts) close() error { return a.db.Close() }

// passwordHash returns the user's stored hash, or "" when there is no such user.
func (a *accounts) passwordHash(ctx context.Context, user string) (string, error) {
	var hash string
	err := a.db.QueryRowContext(ctx, `SELECT hash FROM users WHERE name = ?`, user).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return hash, err
}

// addUser creates a user and the user's default address book in one transaction.
func (a *accounts) addUser(ctx context.Context, name, hash string, created int64, book bookInfo) error {
	return a.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, hash, created) VALUES (?, ?, ?)`, name, hash, created); err != nil {
			if isConstraint(err) {
				return fmt.Errorf("%w: %s", ErrUserExists, name)
			}
			return err
		}
		return insertBook(ctx, tx, book, created)
	})
}

func (a *accounts) setPassword(ctx context.Context, name, hash string) error {
	res, err := a.db.ExecContext(ctx, `UPDATE users SET hash = ? WHERE name = ?`, hash, name)
	return oneRow(res, err, fmt.Errorf("%w: %s", ErrNoUser, name))
}

// removeUser deletes a user and the list of their address books, returning the books' ids so their files
// can go.
func (a *accounts) removeUser(ctx context.Context, name string) ([]string, error) {
	var ids []string
	err := a.inTx(ctx, func(tx *sql.Tx) error {
		books, err := listBooks(ctx, tx, name)
		if err != nil {
			return err
		}
		for _, b := range books {
			ids = append(ids, b.id)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
		return oneRow(res, err, fmt.Errorf("%w: %s", ErrNoUser, name))
	})
	return ids, err
}

func (a *accounts) users(ctx context.Context) ([]string, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT name FROM users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

const bookColumns = `owner, name, id, displayname, description`

func scanBook(row interface{ Scan(...any) error }) (bookInfo, error) {
	var b bookInfo
	err := row.Scan(&b.owner, &b.name, &b.id, &b.displayName, &b.description)
	return b, err
}

func (a *accounts) book(ctx context.Context, owner, name string) (bookInfo, error) {
	b, err := scanBook(a.db.QueryRowContext(ctx, `SELECT `+bookColumns+` FROM addressbooks WHERE owner = ? AND name = ?`, owner, name))
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("%w: %s/%s", ErrNoAddressBook, owner, name)
	}
	return b, err
}

func (a *accounts) books(ctx context.Context, owner string) ([]bookInfo, error) {
	return listBooks(ctx, a.db, owner)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func listBooks(ctx context.Context, q queryer, owner string) ([]bookInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+bookColumns+` FROM addressbooks WHERE owner = ? ORDER BY name`, owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bookInfo
	for rows.Next() {
		b, err := scanBook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// bookIDs returns the ids of every address book, to find files that no book owns any more.
func (a *accounts) bookIDs(ctx context.Context) (map[string]bool, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT id FROM addressbooks`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}

// errBookExists reports a book name that is taken (a MKCOL on an existing collection is 405).
var errBookExists = errors.New("address book exists")

func (a *accounts) createBook(ctx context.Context, b bookInfo, created int64) error {
	return a.inTx(ctx, func(tx *sql.Tx) error { return insertBook(ctx, tx, b, created) })
}

func insertBook(ctx context.Context, tx *sql.Tx, b bookInfo, created int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO addressbooks (`+bookColumns+`, created) VALUES (?, ?, ?, ?, ?, ?)`,
		b.owner, b.name, b.id, b.displayName, b.description, created)
	if isConstraint(err) {
		return fmt.Errorf("%w: %s/%s", errBookExists, b.owner, b.name)
	}
	return err
}

func (a *accounts) deleteBook(ctx context.Context, owner, name string) error {
	res, err := a.db.ExecContext(ctx, `DELETE FROM addressbooks WHERE owner = ? AND name = ?`, owner, name)
	return oneRow(res, err, fmt.Errorf("%w: %s/%s", ErrNoAddressBook, owner, name))
}

// setBookProps changes the display name and description; nil leaves one as it is.
func (a *accounts) setBookProps(ctx context.Context, owner, name string, displayName, description *string) error {
	res, err := a.db.ExecContext(ctx, `UPDATE addressbooks SET displayname = coalesce(?, displayname),
		description = coalesce(?, description) WHERE owner = ? AND name = ?`, displayName, description, owner, name)
	return oneRow(res, err, fmt.Errorf("%w: %s/%s", ErrNoAddressBook, owner, name))
}

func (a *accounts) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // fn's error says what went wrong
		return err
	}
	return tx.Commit()
}

// oneRow turns "no row affected" into notFound.
func oneRow(res sql.Result, err error, notFound error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound
	}
	return nil
}

func isConstraint(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}
