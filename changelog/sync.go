package changelog

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// Sync replays the changes made after revision from as DataStore tasks, folded per contact, and ends with a done
// task whose Rev the consumer saves as its cursor. Everything it yields comes from one snapshot, so a
// concurrent writer cannot make it inconsistent. The rules, for each contact changed after from:
//
//   - existed at from and exists now: update (a remove then an add of the same ID is an update too);
//   - existed at from and not now: remove (earlier updates are dropped);
//   - did not exist at from and exists now: add (later updates fold into it);
//   - did not exist at from and not now: nothing (the add and the remove cancel out).
//
// A clear after from yields clear first and then every contact that exists now as add. A from below the trim
// horizon ([Store.Horizon]) yields clear and then every contact as add. A from above the last revision fails with
// [ErrFutureRevision]. Errors are yielded once, with a zero Task, and end the replay. A clear comes first and
// done last; the contacts' tasks come in no particular order, so no revision short of done.Rev describes what a
// consumer has applied half way through: it saves done.Rev.
//
// Sync streams: it holds one contact in memory at a time whatever the length of the log. It holds a read
// snapshot open until the loop ends, which keeps SQLite from recycling the write-ahead log, so do not keep a
// replay open for long without consuming it.
func (s *Store) Sync(ctx context.Context, from uint64) iter.Seq2[Task, error] {
	return func(yield func(Task, error) bool) {
		if err := s.gate.enter(); err != nil {
			yield(Task{}, err)
			return
		}
		defer s.gate.leave()
		e := &emitter{yield: yield}
		if err := s.replay(ctx, from, e); err != nil && !e.stopped {
			yield(Task{}, fmt.Errorf("changelog: sync from %d: %w", from, err))
		}
	}
}

// emitter remembers that the consumer stopped, so no task or error is yielded after yield returned false.
type emitter struct {
	yield   func(Task, error) bool
	stopped bool
}

func (e *emitter) emit(t Task) bool {
	if !e.stopped && !e.yield(t, nil) {
		e.stopped = true
	}
	return !e.stopped
}

func (s *Store) replay(ctx context.Context, from uint64, e *emitter) error {
	tx, err := s.readers.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose, and the replay's own error matters more
	var last, horizon, count int64
	// The first read starts the snapshot that every later query of this transaction sees.
	if err := tx.QueryRowContext(ctx, `SELECT
		(SELECT value FROM meta WHERE key = 'last_rev'),
		(SELECT value FROM meta WHERE key = 'horizon'),
		(SELECT value FROM meta WHERE key = 'contacts')`).Scan(&last, &horizon, &count); err != nil {
		return err
	}
	if from > uint64(last) {
		return fmt.Errorf("%w (last revision is %d)", ErrFutureRevision, last)
	}
	r := replayer{ctx: ctx, tx: tx, e: e}
	if from < uint64(horizon) {
		if err := r.dump(uint64(horizon)); err != nil || e.stopped {
			return err
		}
	} else {
		start, err := r.clears(from)
		if err != nil || e.stopped {
			return err
		}
		if err := r.removed(start); err != nil || e.stopped {
			return err
		}
		// The log after start holds last-start changes, so at most that many contacts changed: when that is a
		// small part of the store, walking the rev index beats reading every contact.
		plan := "NOT INDEXED"
		if (uint64(last)-start)*8 < uint64(count) {
			plan = "INDEXED BY contacts_by_rev"
		}
		if err := r.current(start, plan, false); err != nil || e.stopped {
			return err
		}
	}
	e.emit(Task{Op: OpDone, Rev: uint64(last)})
	return nil
}

// replayer runs the queries of one replay inside its read transaction.
type replayer struct {
	ctx context.Context
	tx  *sql.Tx
	e   *emitter
}

// dump answers a cursor older than the kept history: clear, then the whole store.
func (r replayer) dump(horizon uint64) error {
	if !r.e.emit(Task{Op: OpClear, Rev: horizon}) {
		return nil
	}
	return r.current(0, "NOT INDEXED", true)
}

// clears yields one clear task for the clears after from, and returns the revision the per-contact fold starts
// from: the last clear, since nothing before it survives.
func (r replayer) clears(from uint64) (uint64, error) {
	rows, err := r.tx.QueryContext(r.ctx, `SELECT rev, origin FROM changes WHERE op = 4 AND rev > ? ORDER BY rev`, int64(from))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	clear := Task{Op: OpClear}
	for rows.Next() {
		var rev int64
		var origin string
		if err := rows.Scan(&rev, &origin); err != nil {
			return 0, err
		}
		clear.Rev = uint64(rev)
		if !slices.Contains(clear.Origins, Origin(origin)) {
			clear.Origins = append(clear.Origins, Origin(origin))
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if clear.Rev == 0 {
		return from, nil
	}
	slices.Sort(clear.Origins)
	r.e.emit(clear)
	return clear.Rev, nil
}

// removedQuery folds, per contact, the log after a revision of the contacts removed after it: only for them can
// the current row not tell what the consumer saw at that revision. first packs the first change's revision and
// op (rev*8 + op, ops being < 8) so MIN finds both; origins are hex encoded because group_concat(DISTINCT …)
// only separates with commas, which an origin may contain.
const removedQuery = `
SELECT f.contact_id, f.first, f.last, f.origins, c.data, c.source, c.rev, c.updated
FROM (
	SELECT contact_id, MIN(rev * 8 + op) AS first, MAX(rev) AS last, group_concat(DISTINCT hex(origin)) AS origins
	FROM changes
	WHERE rev > ?1 AND contact_id IN (SELECT contact_id FROM changes WHERE op = 3 AND rev > ?1)
	GROUP BY contact_id
) AS f
LEFT JOIN contacts AS c ON c.id = f.contact_id`

// removed yields the tasks of the contacts removed after start (which must not be followed by a clear): remove
// if the contact existed at start and is gone, update if it existed and exists again, add if it is new, and
// nothing if it came and went.
func (r replayer) removed(start uint64) error {
	rows, err := r.tx.QueryContext(r.ctx, removedQuery, int64(start))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, origins  string
			first, last  int64
			data         []byte
			source       sql.NullString
			rev, updated sql.NullInt64
		)
		if err := rows.Scan(&id, &first, &last, &origins, &data, &source, &rev, &updated); err != nil {
			return err
		}
		existed := Op(first%8) != OpAdd
		task := Task{ID: id, Rev: uint64(last)}
		switch {
		case rev.Valid && existed:
			task.Op = OpUpdate
		case rev.Valid:
			task.Op = OpAdd
		case existed:
			task.Op = OpRemove
		default:
			continue
		}
		if rev.Valid {
			if rev.Int64 != last {
				return fmt.Errorf("%w: contact %q is at revision %d but its last logged change is %d", ErrCorrupt, id, rev.Int64, last)
			}
			task.Contact = Contact{ID: id, Data: data, Source: source.String, Rev: uint64(rev.Int64), Updated: time.Unix(0, updated.Int64).UTC()}
		}
		if task.Origins, err = decodeOrigins(origins); err != nil {
			return fmt.Errorf("contact %q: %w", id, err)
		}
		if !r.e.emit(task) {
			return nil
		}
	}
	return rows.Err()
}

// current yields the contacts changed after start that were not removed after it (removed covers those), or
// with all set every contact as an add with unknown origins. Such a contact existed at start exactly when its
// incarnation was created by then, and its changes since came from its last origin alone when origin_after is
// at most start; only otherwise is its log read, through the changes_by_contact index.
func (r replayer) current(start uint64, plan string, all bool) error {
	// flags: 1 if the contact's incarnation existed at start, 2 if every change since came from its last origin.
	query := `SELECT ` + contactColumns + `, (created <= ?1) | ((origin_after <= ?1) << 1), origin
		FROM contacts ` + plan + ` WHERE rev > ?1`
	if !all {
		query += ` AND id NOT IN (SELECT contact_id FROM changes WHERE op = 3 AND rev > ?1)`
	}
	rows, err := r.tx.QueryContext(r.ctx, query, int64(start))
	if err != nil {
		return err
	}
	defer rows.Close()
	var flags int
	var origin string
	row := newContactRow(&flags, &origin)
	for rows.Next() {
		c, err := row.scan(rows)
		if err != nil {
			return err
		}
		task := Task{Op: OpAdd, ID: c.ID, Contact: c, Rev: c.Rev}
		if !all {
			if flags&1 != 0 {
				task.Op = OpUpdate
			}
			if flags&2 != 0 {
				task.Origins = []Origin{Origin(origin)}
			} else if task.Origins, err = r.origins(c.ID, start); err != nil {
				return err
			}
		}
		if !r.e.emit(task) {
			return nil
		}
	}
	return rows.Err()
}

// origins reads the distinct origins of a contact's changes after start from the log.
func (r replayer) origins(id string, start uint64) ([]Origin, error) {
	rows, err := r.tx.QueryContext(r.ctx, `SELECT DISTINCT origin FROM changes WHERE contact_id = ? AND rev > ? ORDER BY origin`, id, int64(start))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Origin
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, err
		}
		out = append(out, Origin(o))
	}
	return out, rows.Err()
}

func decodeOrigins(list string) ([]Origin, error) {
	parts := strings.Split(list, ",")
	out := make([]Origin, 0, len(parts))
	for _, p := range parts {
		b, err := hex.DecodeString(p)
		if err != nil {
			return nil, fmt.Errorf("%w: origin list %q: %v", ErrCorrupt, list, err)
		}
		out = append(out, Origin(b))
	}
	slices.Sort(out)
	return out, nil
}
