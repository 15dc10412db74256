package carddavserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"time"

	"github.com/contactsync/contactsync/changelog"
)

// bookNamespace is the changelog migration namespace of the members table.
const bookNamespace = "carddavserver-book"

// listChunk is how many members one read takes while a listing streams: each chunk is its own short read,
// so a slow client never holds a snapshot (and the write-ahead log) open for the length of its download.
const listChunk = 1000

// book is one open address book: its changelog store (the vCards and the revisions) and a read pool on the
// same file for the members table.
type book struct {
	id      string
	href    string // the collection's path, to name a clashing resource in no-uid-conflict
	store   *changelog.Store
	readers *sql.DB
	clock   func() time.Time
}

// member is one row of the members table: a resource, or the tombstone of one.
type member struct {
	name     string
	uid      string
	etag     string
	size     int64
	rev      uint64
	modified time.Time
	deleted  bool
}

func openBook(ctx context.Context, file, id, href string, cfg config) (*book, error) {
	migrations, err := fs.Sub(migrationFiles, "migrations/book")
	if err != nil {
		return nil, err
	}
	store, err := changelog.Open(file,
		changelog.WithMigrations(bookNamespace, migrations),
		changelog.WithClock(cfg.clock),
		changelog.WithRetention(cfg.retention))
	if err != nil {
		return nil, err
	}
	// _query_only keeps these connections from ever writing around the changelog's single writer.
	readers, err := openSQLite(store.Path(), 4, url.Values{"_query_only": {"1"}, "_txlock": {"deferred"}})
	if err == nil {
		err = readers.PingContext(ctx)
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	return &book{id: id, href: href, store: store, readers: readers, clock: cfg.clock}, nil
}

func (b *book) close() error {
	return errors.Join(b.readers.Close(), b.store.Close())
}

// token is the book's current sync token.
func (b *book) token(ctx context.Context) (string, error) {
	rev, err := b.store.LastRevision(ctx)
	if err != nil {
		return "", err
	}
	return syncToken(b.id, rev), nil
}

// get returns a vCard, or a 404.
func (b *book) get(ctx context.Context, name string) (changelog.Contact, error) {
	c, err := b.store.Get(ctx, name)
	if errors.Is(err, changelog.ErrNotFound) {
		return c, failf(http.StatusNotFound, "no such resource")
	}
	return c, err
}

// putResult says what a PUT did.
type putResult struct {
	created bool
	etag    string
}

// put stores body under name if cond holds, in one changelog transaction with its members row. A body equal
// to the stored one changes nothing, so a repeated upload does not move the sync token.
func (b *book) put(ctx context.Context, name, uid string, body []byte, cond conditions) (putResult, error) {
	res := putResult{etag: etagOf(body)}
	err := b.store.Update(ctx, func(tx *changelog.Tx) error {
		cur, exists, err := liveETag(tx, name)
		if err != nil {
			return err
		}
		if err := cond.check(http.MethodPut, exists, cur); err != nil {
			return err
		}
		if err := b.checkUID(tx, name, uid); err != nil {
			return err
		}
		res.created = !exists
		if exists && cur == res.etag {
			return nil
		}
		return b.write(tx, name, uid, body, exists, res.etag)
	})
	return res, err
}

// write adds or replaces the vCard and its members row; exists says which.
func (b *book) write(tx *changelog.Tx, name, uid string, body []byte, exists bool, etag string) error {
	c := changelog.Contact{ID: name, Data: body}
	var err error
	if exists {
		c, err = tx.Replace(changelog.Local, c)
	} else {
		c, err = tx.Add(changelog.Local, c)
	}
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO members (name, uid, etag, size, rev, modified, deleted) VALUES (?, ?, ?, ?, ?, ?, 0)
		ON CONFLICT (name) DO UPDATE SET uid = excluded.uid, etag = excluded.etag, size = excluded.size,
		rev = excluded.rev, modified = excluded.modified, deleted = 0`,
		name, uid, etag, len(body), int64(c.Rev), c.Updated.UnixNano())
	return err
}

// liveETag returns the ETag of the resource called name as the transaction sees it, and whether it exists.
func liveETag(tx *changelog.Tx, name string) (string, bool, error) {
	var cur string
	err := tx.QueryRow(`SELECT etag FROM members WHERE name = ? AND deleted = 0`, name).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return cur, err == nil, err
}

// checkUID fails with 409 CARDDAV:no-uid-conflict, naming the other resource, when another resource than
// name already has uid (RFC 6352 section 6.3.2.1).
func (b *book) checkUID(tx *changelog.Tx, name, uid string) error {
	var other string
	err := tx.QueryRow(`SELECT name FROM members WHERE uid = ? AND deleted = 0 AND name <> ?`, uid, name).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	e := precondition(http.StatusConflict, nsCardDAV, "no-uid-conflict", "UID %q is already used by %s", clip(uid), clip(other))
	e.href = b.href + url.PathEscape(other)
	e.err = ErrUIDConflict
	return e
}

// remove deletes the resource called name if cond holds, leaving a tombstone for sync-collection.
func (b *book) remove(ctx context.Context, name string, cond conditions) error {
	return b.store.Update(ctx, func(tx *changelog.Tx) error {
		cur, exists, err := liveETag(tx, name)
		if err != nil {
			return err
		}
		if !exists {
			// A DELETE of nothing is 404 whatever its conditions say (RFC 9110 section 13.2.1).
			return failf(http.StatusNotFound, "no such resource")
		}
		if err := cond.check(http.MethodDelete, true, cur); err != nil {
			return err
		}
		if err := tx.Remove(changelog.Local, name); err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE members SET uid = NULL, etag = '', size = 0, rev = ?, modified = ?, deleted = 1 WHERE name = ?`,
			int64(tx.LastRevision()), b.clock().UnixNano(), name)
		return err
	})
}

// importCard is one vCard for load.
type importCard struct {
	name, uid string
	body      []byte
}

// load adds new resources in one transaction; a name or UID that is taken fails the whole batch.
func (b *book) load(ctx context.Context, cards []importCard) error {
	return b.store.Update(ctx, func(tx *changelog.Tx) error {
		for _, c := range cards {
			if _, exists, err := liveETag(tx, c.name); err != nil {
				return err
			} else if exists {
				return fmt.Errorf("%s: %w", c.name, changelog.ErrExists)
			}
			if err := b.checkUID(tx, c.name, c.uid); err != nil {
				return err
			}
			if err := b.write(tx, c.name, c.uid, c.body, false, etagOf(c.body)); err != nil {
				return err
			}
		}
		return nil
	})
}

const memberColumns = `name, coalesce(uid, ''), etag, size, rev, modified, deleted`

func scanMember(rows *sql.Rows) (member, error) {
	var m member
	var rev, modified int64
	err := rows.Scan(&m.name, &m.uid, &m.etag, &m.size, &rev, &modified, &m.deleted)
	m.rev, m.modified = uint64(rev), time.Unix(0, modified).UTC()
	return m, err
}

// readChunk runs one short read transaction: check (when set) sees the transaction first, then query's
// rows are read into a slice.
func (b *book) readChunk(ctx context.Context, check func(*sql.Tx) error, query string, args ...any) ([]member, error) {
	tx, err := b.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read only: nothing to keep
	if check != nil {
		if err := check(tx); err != nil {
			return nil, err
		}
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// members streams the live resources in name order to fn, a chunk at a time.
func (b *book) members(ctx context.Context, fn func(*member) error) error {
	after := ""
	for {
		chunk, err := b.readChunk(ctx, nil, `SELECT `+memberColumns+` FROM members
			WHERE deleted = 0 AND name > ? ORDER BY name LIMIT ?`, after, listChunk)
		if err != nil {
			return err
		}
		for i := range chunk {
			if err := fn(&chunk[i]); err != nil {
				return err
			}
		}
		if len(chunk) < listChunk {
			return nil
		}
		after = chunk[len(chunk)-1].name
	}
}

// member returns the live resource called name.
func (b *book) member(ctx context.Context, name string) (member, bool, error) {
	return b.memberBy(ctx, `name`, name)
}

// byUID returns the live resource whose vCard has uid.
func (b *book) byUID(ctx context.Context, uid string) (member, bool, error) {
	return b.memberBy(ctx, `uid`, uid)
}

func (b *book) memberBy(ctx context.Context, column, value string) (member, bool, error) {
	// column is one of two constants above, never client input.
	ms, err := b.readChunk(ctx, nil, `SELECT `+memberColumns+` FROM members WHERE deleted = 0 AND `+column+` = ?`, value)
	if err != nil || len(ms) == 0 {
		return member{}, false, err
	}
	return ms[0], true, nil
}

// changes streams to fn, in revision order, the members changed after revision from up to revision upto, at
// most limit of them when limit > 0, and reports the revision the client has then seen everything up to:
// upto when all were sent, else the revision of the last one sent. Tombstones are left out of an initial
// listing (from 0). A from below the horizon is 403 valid-sync-token; the check is repeated with every chunk,
// so a trim while a long listing streams cannot silently drop a deletion from it.
func (b *book) changes(ctx context.Context, from, upto uint64, limit int, fn func(*member) error) (seen uint64, more bool, err error) {
	check := func(tx *sql.Tx) error {
		var horizon int64
		if err := tx.QueryRowContext(ctx, `SELECT value FROM book_meta WHERE key = 'horizon'`).Scan(&horizon); err != nil {
			return err
		}
		if from != 0 && from < uint64(horizon) {
			return invalidToken()
		}
		return nil
	}
	deleted := 1
	if from == 0 {
		deleted = 0
	}
	after, sent := from, 0
	for {
		n := listChunk
		if limit > 0 {
			n = min(n, limit-sent+1) // one more than fits tells whether there is more
		}
		chunk, err := b.readChunk(ctx, check, `SELECT `+memberColumns+` FROM members
			WHERE rev > ? AND rev <= ? AND deleted <= ? ORDER BY rev LIMIT ?`, int64(after), int64(upto), deleted, n)
		if err != nil {
			return 0, false, err
		}
		for i := range chunk {
			if limit > 0 && sent == limit {
				return after, true, nil
			}
			if err := fn(&chunk[i]); err != nil {
				return 0, false, err
			}
			sent++
			after = chunk[i].rev
		}
		if len(chunk) < n {
			return upto, false, nil
		}
	}
}

// horizon is the oldest revision a sync token may name.
func (b *book) horizon(ctx context.Context) (uint64, error) {
	var h int64
	err := b.readers.QueryRowContext(ctx, `SELECT value FROM book_meta WHERE key = 'horizon'`).Scan(&h)
	return uint64(h), err
}

// trim drops the history the retention policy lets go: the changelog's log, then the tombstones older than
// its new horizon, which from then on is the oldest token accepted.
func (b *book) trim(ctx context.Context) error {
	h, err := b.store.Trim(ctx)
	if err != nil {
		return err
	}
	cur, err := b.horizon(ctx)
	if err != nil || h <= cur {
		return err
	}
	return b.store.Update(ctx, func(tx *changelog.Tx) error {
		if _, err := tx.Exec(`UPDATE book_meta SET value = ? WHERE key = 'horizon' AND value < ?`, int64(h), int64(h)); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM members WHERE deleted = 1 AND rev <= ?`, int64(h))
		return err
	})
}

func isNotFound(err error) bool { return errors.Is(err, changelog.ErrNotFound) }
