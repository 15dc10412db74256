package changelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Tx is one transaction, handed to the callback of [Store.Update] (a write transaction) or [Store.View] (a read
// transaction, whose changes fail with [ErrReadOnly]). Its mutations each take the next
// revision; everything done through it (contacts, log, cursors, and the caller's own tables through Exec)
// commits together or not at all. A Tx must not be used after the callback returns, nor from other goroutines.
type Tx struct {
	ctx   context.Context
	tx    *sql.Tx
	start uint64 // last revision before this transaction
	last  uint64 // last revision including this transaction's changes
	count int64  // number of contacts including this transaction's changes
	clock func() time.Time
	now   int64 // Unix nanoseconds, read once so every change of a transaction carries the same time
	// broken holds an error after which the transaction's state is unknown (a statement failed half way, or
	// SQLite rolled the transaction back on a full disk or I/O error); Update then refuses to commit.
	broken error
	// pending holds log rows not yet written; see flush.
	pending []logEntry
	args    []any
	// stmts holds the statements of this transaction's changes, prepared once: an import makes thousands of
	// the same few statements, and preparing each anew costs as much as running it.
	stmts map[string]*sql.Stmt
	// readOnly marks the Tx of a View.
	readOnly bool
}

// exec runs one of the store's own statements through a statement prepared once per transaction (database/sql
// closes it with the transaction).
func (t *Tx) exec(query string, args ...any) (sql.Result, error) {
	st := t.stmts[query]
	if st == nil {
		var err error
		if st, err = t.tx.PrepareContext(t.ctx, query); err != nil {
			return nil, err
		}
		if t.stmts == nil {
			t.stmts = make(map[string]*sql.Stmt)
		}
		t.stmts[query] = st
	}
	return st.ExecContext(t.ctx, args...)
}

// logEntry is one row of the changes table waiting to be written.
type logEntry struct {
	rev    uint64
	op     Op
	id     string
	origin Origin
}

// logChunk is how many log rows one INSERT writes. Writing the log in chunks rather than a statement per change
// takes half the statements out of an import, whose cost is mostly the statements' own overhead.
const logChunk = 64

const logInsert = `INSERT INTO changes (rev, op, contact_id, origin, at) VALUES `

var logInsertChunk = logInsert + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", logChunk), ", ")

// flush writes the pending log rows. It runs before anything can read the log in this transaction (the
// caller's own statements, a trim), before a batch starts (so a failed batch can drop exactly its own rows) and
// before the commit.
func (t *Tx) flush() error {
	if t.broken != nil {
		return t.broken
	}
	for i := 0; i < len(t.pending); {
		n, query := 1, logInsert+`(?, ?, ?, ?, ?)`
		if len(t.pending)-i >= logChunk {
			n, query = logChunk, logInsertChunk
		}
		args := t.args[:0]
		for _, e := range t.pending[i : i+n] {
			args = append(args, int64(e.rev), int(e.op), e.id, string(e.origin), t.now)
		}
		t.args = args
		if _, err := t.exec(query, args...); err != nil {
			return t.fail(fmt.Errorf("write log: %w", err))
		}
		i += n
	}
	t.pending = t.pending[:0]
	return nil
}

// Update runs fn in one write transaction and commits it if fn returns nil; otherwise, or if fn panics, nothing
// fn did is kept and fn's error is returned as is. Writes are serialized: fn runs while no other write can,
// so keep it short, and do not call the Store's own write methods from inside it (they would wait for fn).
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	return s.update(ctx, fn)
}

func (s *Store) update(ctx context.Context, fn func(*Tx) error) error {
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("changelog: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback() // whatever made us roll back is the error worth returning
		}
	}()
	t := &Tx{ctx: ctx, tx: sqlTx, clock: s.clock}
	var last int64
	if err := sqlTx.QueryRowContext(ctx, `SELECT
		(SELECT value FROM meta WHERE key = 'last_rev'),
		(SELECT value FROM meta WHERE key = 'contacts')`).Scan(&last, &t.count); err != nil {
		return fmt.Errorf("changelog: begin: %w", err)
	}
	t.start, t.last = uint64(last), uint64(last)
	if err := fn(t); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return fmt.Errorf("changelog: commit refused after a failed write: %w", err)
	}
	if t.last != t.start {
		if _, err := sqlTx.ExecContext(ctx, `UPDATE meta SET value = CASE key WHEN 'last_rev' THEN ? ELSE ? END
			WHERE key IN ('last_rev', 'contacts')`, int64(t.last), t.count); err != nil {
			return fmt.Errorf("changelog: commit: %w", err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("changelog: commit: %w", err)
	}
	committed = true
	if t.last != t.start {
		s.notify.broadcast(t.last)
	}
	return nil
}

// View runs fn in one read transaction: everything fn reads through the Tx (contacts, cursors, conflicts, the
// caller's own tables) comes from one consistent snapshot of the last committed state, and a View never waits
// for a writer nor holds one up. The Tx refuses every change with [ErrReadOnly]. fn's error is returned as is.
func (s *Store) View(ctx context.Context, fn func(*Tx) error) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	sqlTx, err := s.readers.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("changelog: begin read: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }() // a read has nothing to keep
	t := &Tx{ctx: ctx, tx: sqlTx, clock: s.clock, readOnly: true}
	var last int64
	// The first read starts the snapshot: everything fn reads is as of this revision.
	if err := sqlTx.QueryRowContext(ctx, `SELECT
		(SELECT value FROM meta WHERE key = 'last_rev'),
		(SELECT value FROM meta WHERE key = 'contacts')`).Scan(&last, &t.count); err != nil {
		return fmt.Errorf("changelog: begin read: %w", err)
	}
	t.start, t.last = uint64(last), uint64(last)
	return fn(t)
}

// Missing returns, in their order, those of ids that name no contact as this transaction sees it.
func (t *Tx) Missing(ids []string) ([]string, error) {
	if err := t.flush(); err != nil {
		return nil, fmt.Errorf("changelog: %w", err)
	}
	var missing []string
	const chunk = 500 // well under SQLite's limit on bound parameters
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := t.tx.QueryContext(t.ctx, `SELECT id FROM contacts WHERE id IN (?`+strings.Repeat(", ?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("changelog: missing: %w", err)
		}
		found := make(map[string]bool, len(part))
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("changelog: missing: %w", err)
			}
			found[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("changelog: missing: %w", err)
		}
		for _, id := range part {
			if !found[id] {
				missing = append(missing, id)
			}
		}
	}
	return missing, nil
}

// LastRevision is the newest revision, counting the changes made so far in this transaction.
func (t *Tx) LastRevision() uint64 { return t.last }

// Get returns a contact as this transaction sees it, or an error wrapping [ErrNotFound].
func (t *Tx) Get(id string) (Contact, error) { return getContact(t.ctx, t.tx, id) }

// Add stores a new contact under the next revision and returns it as stored. It fails with [ErrExists] if the
// ID is taken.
func (t *Tx) Add(origin Origin, c Contact) (Contact, error) {
	c, err := t.change(origin, OpAdd, c)
	if err != nil {
		return Contact{}, fmt.Errorf("changelog: %w", err)
	}
	return c, nil
}

// Replace replaces the vCard and source of an existing contact under the next revision (an [OpUpdate]) and
// returns it as stored. It fails with [ErrNotFound] if there is no such contact.
func (t *Tx) Replace(origin Origin, c Contact) (Contact, error) {
	c, err := t.change(origin, OpUpdate, c)
	if err != nil {
		return Contact{}, fmt.Errorf("changelog: %w", err)
	}
	return c, nil
}

// Remove deletes a contact under the next revision. It fails with [ErrNotFound] if there is no such contact.
func (t *Tx) Remove(origin Origin, id string) error {
	if _, err := t.change(origin, OpRemove, Contact{ID: id}); err != nil {
		return fmt.Errorf("changelog: %w", err)
	}
	return nil
}

// Clear deletes every contact under one new revision (even when the store is already empty).
func (t *Tx) Clear(origin Origin) error {
	if _, err := t.change(origin, OpClear, Contact{}); err != nil {
		return fmt.Errorf("changelog: %w", err)
	}
	return nil
}

// Apply makes the changes in order, each under its own consecutive revision, and returns the last revision. It
// is all or nothing: if one change fails, none of the batch is kept and the error names the change.
func (t *Tx) Apply(origin Origin, changes []Change) (uint64, error) {
	if err := origin.Validate(); err != nil {
		return 0, fmt.Errorf("changelog: apply: %w", err)
	}
	if len(changes) == 0 {
		return t.last, nil
	}
	// A savepoint keeps the batch atomic even when the caller goes on with the transaction after an error.
	if err := t.flush(); err != nil {
		return 0, fmt.Errorf("changelog: apply: %w", err)
	}
	if _, err := t.tx.ExecContext(t.ctx, `SAVEPOINT changelog_apply`); err != nil {
		return 0, fmt.Errorf("changelog: apply: %w", t.fail(err))
	}
	start, count := t.last, t.count
	for i, ch := range changes {
		if _, err := t.change(origin, ch.Op, ch.Contact); err != nil {
			if t.broken == nil {
				if _, rerr := t.tx.ExecContext(t.ctx, `ROLLBACK TO changelog_apply; RELEASE changelog_apply`); rerr != nil {
					t.fail(rerr)
				} else {
					t.last, t.count, t.pending = start, count, t.pending[:0]
				}
			}
			return 0, fmt.Errorf("changelog: apply: change %d of %d: %w", i+1, len(changes), err)
		}
	}
	if _, err := t.tx.ExecContext(t.ctx, `RELEASE changelog_apply`); err != nil {
		return 0, fmt.Errorf("changelog: apply: %w", t.fail(err))
	}
	return t.last, nil
}

// change makes one change and logs it. Its errors name the operation and contact but not the package, so that
// Apply can wrap them once.
func (t *Tx) change(origin Origin, op Op, c Contact) (Contact, error) {
	if err := t.usable(); err != nil {
		return Contact{}, fmt.Errorf("%s %q: %w", op, c.ID, err)
	}
	if err := origin.Validate(); err != nil {
		return Contact{}, fmt.Errorf("%s %q: %w", op, c.ID, err)
	}
	switch op {
	case OpAdd, OpUpdate:
		if err := c.validate(); err != nil {
			return Contact{}, fmt.Errorf("%s: %w", op, err)
		}
	case OpRemove:
		if err := validateID(c.ID); err != nil {
			return Contact{}, fmt.Errorf("%s: %w", op, err)
		}
	case OpClear:
		c = Contact{}
	default:
		return Contact{}, fmt.Errorf("%w: %s is not a change", ErrInvalid, op)
	}
	rev := t.last + 1
	if t.now == 0 {
		t.now = t.clock().UnixNano()
	}
	var (
		res sql.Result
		err error
	)
	switch op {
	case OpAdd:
		res, err = t.exec(`INSERT INTO contacts (id, data, source, rev, updated, created, origin, origin_after)
			VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6, 0)`,
			c.ID, c.Data, c.Source, int64(rev), t.now, string(origin))
		if isUniqueViolation(err) {
			return Contact{}, fmt.Errorf("add %q: %w", c.ID, ErrExists)
		}
	case OpUpdate:
		// SET expressions see the row as it was, so origin_after moves to the previous change's revision
		// exactly when the origin changes.
		res, err = t.exec(`UPDATE contacts SET data = ?1, source = ?2, rev = ?3, updated = ?4,
			origin_after = CASE WHEN origin = ?5 THEN origin_after ELSE rev END, origin = ?5 WHERE id = ?6`,
			c.Data, c.Source, int64(rev), t.now, string(origin), c.ID)
	case OpRemove:
		res, err = t.exec(`DELETE FROM contacts WHERE id = ?`, c.ID)
	case OpClear:
		_, err = t.tx.ExecContext(t.ctx, `DELETE FROM contacts`)
	}
	if err != nil {
		return Contact{}, fmt.Errorf("%s %q: %w", op, c.ID, t.fail(err))
	}
	if op == OpUpdate || op == OpRemove {
		n, err := res.RowsAffected()
		if err != nil {
			return Contact{}, fmt.Errorf("%s %q: %w", op, c.ID, t.fail(err))
		}
		if n == 0 {
			return Contact{}, fmt.Errorf("%s %q: %w", op, c.ID, ErrNotFound)
		}
	}
	t.pending = append(t.pending, logEntry{rev: rev, op: op, id: c.ID, origin: origin})
	t.last = rev
	switch op {
	case OpAdd:
		t.count++
	case OpRemove:
		t.count--
	case OpClear:
		t.count = 0
	}
	if len(t.pending) >= logChunk {
		if err := t.flush(); err != nil {
			return Contact{}, fmt.Errorf("%s %q: %w", op, c.ID, err)
		}
	}
	if op == OpRemove || op == OpClear {
		return Contact{}, nil
	}
	c.Rev, c.Updated = rev, time.Unix(0, t.now).UTC()
	return c, nil
}

// fail records an unexpected error: the statement may have been half done, or SQLite may have rolled the whole
// transaction back (it does on a full disk or an I/O error), so the transaction must not commit.
func (t *Tx) fail(err error) error {
	if t.broken == nil {
		t.broken = err
	}
	return err
}

func (t *Tx) usable() error {
	if t.readOnly {
		return ErrReadOnly
	}
	if t.broken != nil {
		return fmt.Errorf("transaction failed earlier: %w", t.broken)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) &&
		(se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey || se.ExtendedCode == sqlite3.ErrConstraintUnique)
}

// Exec runs a statement on the caller's own tables (registered with [WithMigrations]) inside this transaction.
// It must not write the store's tables (contacts, changes, meta, cursors): that would bypass the log.
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) {
	if err := t.flush(); err != nil {
		return nil, fmt.Errorf("changelog: %w", err)
	}
	return t.tx.ExecContext(t.ctx, query, args...)
}

// Query runs a query inside this transaction.
func (t *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	if err := t.flush(); err != nil {
		return nil, fmt.Errorf("changelog: %w", err)
	}
	return t.tx.QueryContext(t.ctx, query, args...)
}

// QueryRow runs a query that returns at most one row inside this transaction. (Should writing the pending log
// fail first, the transaction is marked failed and Update reports it.)
func (t *Tx) QueryRow(query string, args ...any) *sql.Row {
	_ = t.flush() // recorded in t.broken, which Update returns
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

// Add stores a new contact in its own transaction; see [Tx.Add].
func (s *Store) Add(ctx context.Context, origin Origin, c Contact) (stored Contact, err error) {
	err = s.Update(ctx, func(t *Tx) error { stored, err = t.Add(origin, c); return err })
	return stored, err
}

// Replace replaces a contact in its own transaction; see [Tx.Replace].
func (s *Store) Replace(ctx context.Context, origin Origin, c Contact) (stored Contact, err error) {
	err = s.Update(ctx, func(t *Tx) error { stored, err = t.Replace(origin, c); return err })
	return stored, err
}

// Remove deletes a contact in its own transaction; see [Tx.Remove].
func (s *Store) Remove(ctx context.Context, origin Origin, id string) error {
	return s.Update(ctx, func(t *Tx) error { return t.Remove(origin, id) })
}

// Clear deletes every contact in its own transaction; see [Tx.Clear].
func (s *Store) Clear(ctx context.Context, origin Origin) error {
	return s.Update(ctx, func(t *Tx) error { return t.Clear(origin) })
}

// Apply makes a batch of changes in one transaction, each under its own consecutive revision, and returns the
// last revision; see [Tx.Apply]. An import uses it so that a crash keeps either the whole batch or none of it.
func (s *Store) Apply(ctx context.Context, origin Origin, changes []Change) (last uint64, err error) {
	err = s.Update(ctx, func(t *Tx) error { last, err = t.Apply(origin, changes); return err })
	return last, err
}
