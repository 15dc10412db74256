package changelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"unicode/utf8"
)

// A cursor is a consumer's position in the log: the revision up to which it has applied the changes. Its name
// is the consumer's choice (for example "carddav:home"). The oldest cursor bounds what Trim may delete.

func validateCursorName(name string) error {
	if name == "" || !utf8.ValidString(name) {
		return fmt.Errorf("%w: cursor name %q must be non-empty UTF-8", ErrInvalid, name)
	}
	return nil
}

// SetCursor saves the named cursor at rev in this transaction, so it commits together with whatever the
// consumer applied. rev may be any revision up to [Tx.LastRevision] (a cursor may move back, to replay); a
// higher one fails with [ErrFutureRevision].
func (t *Tx) SetCursor(name string, rev uint64) error {
	if err := t.usable(); err != nil {
		return fmt.Errorf("changelog: set cursor: %w", err)
	}
	if err := validateCursorName(name); err != nil {
		return fmt.Errorf("changelog: set cursor: %w", err)
	}
	if rev > t.last {
		return fmt.Errorf("changelog: set cursor %q to %d: %w (last revision is %d)", name, rev, ErrFutureRevision, t.last)
	}
	if t.now == 0 {
		t.now = t.clock().UnixNano()
	}
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO cursors (name, rev, updated) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET rev = excluded.rev, updated = excluded.updated`, name, int64(rev), t.now); err != nil {
		return fmt.Errorf("changelog: set cursor %q: %w", name, t.fail(err))
	}
	return nil
}

// Cursor returns the named cursor as this transaction sees it, or an error wrapping [ErrNotFound].
func (t *Tx) Cursor(name string) (uint64, error) { return cursor(t.ctx, t.tx, name) }

// DeleteCursor forgets the named cursor, so it no longer holds back Trim. It fails with [ErrNotFound] if there is
// no such cursor.
func (t *Tx) DeleteCursor(name string) error {
	if err := t.usable(); err != nil {
		return fmt.Errorf("changelog: delete cursor: %w", err)
	}
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM cursors WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("changelog: delete cursor %q: %w", name, t.fail(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("changelog: delete cursor %q: %w", name, t.fail(err))
	} else if n == 0 {
		return fmt.Errorf("changelog: delete cursor %q: %w", name, ErrNotFound)
	}
	return nil
}

// Cursor returns the named cursor, or an error wrapping [ErrNotFound] for a consumer that never saved one (it
// should then start from revision 0).
func (s *Store) Cursor(ctx context.Context, name string) (uint64, error) {
	if err := s.gate.enter(); err != nil {
		return 0, err
	}
	defer s.gate.leave()
	return cursor(ctx, s.readers, name)
}

func cursor(ctx context.Context, q queryer, name string) (uint64, error) {
	var rev int64
	err := q.QueryRowContext(ctx, `SELECT rev FROM cursors WHERE name = ?`, name).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("changelog: cursor %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("changelog: cursor %q: %w", name, err)
	}
	return uint64(rev), nil
}

// Cursors returns every cursor by name.
func (s *Store) Cursors(ctx context.Context) (map[string]uint64, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	rows, err := s.readers.QueryContext(ctx, `SELECT name, rev FROM cursors`)
	if err != nil {
		return nil, fmt.Errorf("changelog: cursors: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var name string
		var rev int64
		if err := rows.Scan(&name, &rev); err != nil {
			return nil, fmt.Errorf("changelog: cursors: %w", err)
		}
		out[name] = uint64(rev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("changelog: cursors: %w", err)
	}
	return out, nil
}

// SetCursor saves the named cursor in its own transaction; see [Tx.SetCursor]. A consumer that applied effects
// to its own tables should save the cursor in the same [Store.Update] instead.
func (s *Store) SetCursor(ctx context.Context, name string, rev uint64) error {
	return s.Update(ctx, func(t *Tx) error { return t.SetCursor(name, rev) })
}

// DeleteCursor forgets the named cursor in its own transaction; see [Tx.DeleteCursor].
func (s *Store) DeleteCursor(ctx context.Context, name string) error {
	return s.Update(ctx, func(t *Tx) error { return t.DeleteCursor(name) })
}
