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
// [ErrFutureRevision]. Errors are yielded once, with a zero Task, and end the replay.
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
	var last, horizon int64
	// The first read starts the snapshot that every later query of this transaction sees.
	if err := tx.QueryRowContext(ctx, `SELECT
		(SELECT value FROM meta WHERE key = 'last_rev'),
		(SELECT value FROM meta WHERE key = 'horizon')`).Scan(&last, &horizon); err != nil {
		return err
	}
	if from > uint64(last) {
		return fmt.Errorf("%w (last revision is %d)", ErrFutureRevision, last)
	}
	if from < uint64(horizon) {
		if err := replayAll(ctx, tx, uint64(horizon), e); err != nil || e.stopped {
			return err
		}
	} else {
		start, err := replayClears(ctx, tx, from, e)
		if err != nil || e.stopped {
			return err
		}
		if err := replayFolded(ctx, tx, start, e); err != nil || e.stopped {
			return err
		}
	}
	e.emit(Task{Op: OpDone, Rev: uint64(last)})
	return nil
}

// replayAll answers a cursor older than the kept history: clear, then the whole store.
func replayAll(ctx context.Context, tx *sql.Tx, horizon uint64, e *emitter) error {
	if !e.emit(Task{Op: OpClear, Rev: horizon}) {
		return nil
	}
	return allContacts(ctx, tx, func(c Contact) bool {
		return e.emit(Task{Op: OpAdd, ID: c.ID, Contact: c, Rev: c.Rev})
	})
}

// replayClears yields one clear task for the clears after from, and returns the revision the per-contact fold
// starts from: the last clear, since nothing before it survives.
func replayClears(ctx context.Context, tx *sql.Tx, from uint64, e *emitter) (uint64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT rev, origin FROM changes WHERE op = 4 AND rev > ? ORDER BY rev`, int64(from))
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
	e.emit(clear)
	return clear.Rev, nil
}

// foldQuery folds the log after a revision per contact in SQL, so only one row per contact crosses into Go:
// first packs the first change's revision and op (rev*8 + op, ops being < 8) so MIN finds both; origins are hex
// encoded because group_concat(DISTINCT …) only separates with commas, which an origin may contain. The contact
// is joined after the fold, so its vCard is read once however many changes it had.
const foldQuery = `
SELECT f.contact_id, f.first, f.last, f.origins, c.data, c.source, c.rev, c.updated
FROM (
	SELECT contact_id, MIN(rev * 8 + op) AS first, MAX(rev) AS last, group_concat(DISTINCT hex(origin)) AS origins
	FROM changes
	WHERE rev > ?
	GROUP BY contact_id
) AS f
LEFT JOIN contacts AS c ON c.id = f.contact_id
ORDER BY f.contact_id`

// replayFolded yields one task per contact changed after start, which must not be followed by a clear.
func replayFolded(ctx context.Context, tx *sql.Tx, start uint64, e *emitter) error {
	rows, err := tx.QueryContext(ctx, foldQuery, int64(start))
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
		existedBefore := Op(first%8) != OpAdd
		task := Task{ID: id, Rev: uint64(last)}
		switch {
		case rev.Valid && existedBefore:
			task.Op = OpUpdate
		case rev.Valid:
			task.Op = OpAdd
		case existedBefore:
			task.Op = OpRemove
		default:
			continue // added and removed after start: the consumer never needs to hear of it
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
		if !e.emit(task) {
			return nil
		}
	}
	return rows.Err()
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
