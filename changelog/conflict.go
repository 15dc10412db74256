package changelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Conflict is a decision a merge took between two concurrent changes of a contact, kept so a user can list it
// and pick the losing value instead. The store does not interpret Winner and Loser (the merge's content lines).
type Conflict struct {
	ID        string
	ContactID string
	Property  string
	Group     string
	Kind      string
	Winner    string
	Loser     string
	Side      string
	Remote    string    // the remote the merge was made with, "" when unknown
	At        time.Time // when the winning edit was made (its REV), zero when unknown
	Recorded  time.Time // set by the store
	// ResolvedRev is the revision of the change that resolved the conflict, 0 while it is open.
	ResolvedRev uint64
	// Resolution says how it was resolved ("kept-winner", "took-loser" or "superseded"), "" while open.
	Resolution string
}

// RecordConflict keeps a conflict in this transaction, so it commits with the merge that produced it. Recording
// a conflict whose ID is already kept changes nothing.
func (t *Tx) RecordConflict(c Conflict) error {
	if err := t.usable(); err != nil {
		return fmt.Errorf("changelog: record conflict: %w", err)
	}
	if c.ID == "" || c.ContactID == "" {
		return fmt.Errorf("changelog: record conflict: %w: empty ID or contact ID", ErrInvalid)
	}
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO conflicts
		(id, contact_id, property, grp, kind, winner, loser, side, remote, at, recorded)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		c.ID, c.ContactID, c.Property, c.Group, c.Kind, c.Winner, c.Loser, c.Side, c.Remote,
		unixNanos(c.At), t.clock().UnixNano())
	if err != nil {
		return fmt.Errorf("changelog: record conflict %s: %w", c.ID, err)
	}
	return nil
}

// ResolveConflict marks a conflict resolved by this transaction's last change (the caller writes the resolving
// edit first, through the same Tx, so the resolution is itself a change in the log).
func (t *Tx) ResolveConflict(id, resolution string) error {
	if err := t.usable(); err != nil {
		return fmt.Errorf("changelog: resolve conflict: %w", err)
	}
	res, err := t.tx.ExecContext(t.ctx, `UPDATE conflicts SET resolved_rev = ?, resolution = ? WHERE id = ? AND resolved_rev = 0`,
		int64(t.last), resolution, id)
	if err != nil {
		return fmt.Errorf("changelog: resolve conflict %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("changelog: resolve conflict %s: %w (no open conflict with that ID)", id, ErrNotFound)
	}
	return nil
}

// Conflict returns one conflict, open or resolved, as this transaction sees it.
func (t *Tx) Conflict(id string) (Conflict, error) {
	return scanConflict(t.tx.QueryRowContext(t.ctx, conflictSelect+` WHERE id = ?`, id))
}

// Conflicts lists the conflicts of every contact, newest first; only the open ones unless all is set.
func (s *Store) Conflicts(ctx context.Context, all bool) ([]Conflict, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	q := conflictSelect
	if !all {
		q += ` WHERE resolved_rev = 0`
	}
	rows, err := s.readers.QueryContext(ctx, q+` ORDER BY recorded DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("changelog: conflicts: %w", err)
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		c, err := scanConflict(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("changelog: conflicts: %w", err)
	}
	return out, nil
}

const conflictSelect = `SELECT id, contact_id, property, grp, kind, winner, loser, side, remote, at, recorded,
	resolved_rev, resolution FROM conflicts`

func scanConflict(row scanner) (Conflict, error) {
	var c Conflict
	var at, recorded, resolved int64
	err := row.Scan(&c.ID, &c.ContactID, &c.Property, &c.Group, &c.Kind, &c.Winner, &c.Loser, &c.Side, &c.Remote,
		&at, &recorded, &resolved, &c.Resolution)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("changelog: conflict: %w", ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("changelog: conflict: %w", err)
	}
	if at != 0 {
		c.At = time.Unix(0, at).UTC()
	}
	c.Recorded = time.Unix(0, recorded).UTC()
	c.ResolvedRev = uint64(resolved)
	return c, nil
}

func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
