package changelog

import (
	"context"
	"fmt"
	"time"
)

// Retention tunes how much of the log [Store.Trim] keeps. The zero value trims exactly up to the oldest cursor,
// or the whole log when there are no cursors.
type Retention struct {
	// MinRevisions and MinAge keep at least the last MinRevisions revisions and the changes younger than MinAge,
	// even when every cursor has passed them, so a consumer that has not saved a cursor yet can still catch up
	// from a recent revision instead of starting over.
	MinRevisions uint64
	MinAge       time.Duration
	// MaxRevisions and MaxAge let Trim drop history that a stale cursor still needs, so one consumer that stopped
	// cannot make the log grow without bound: anything older than the last MaxRevisions revisions or older than
	// MaxAge goes. That consumer's next Sync yields clear and then the whole store. Zero means never.
	MaxRevisions uint64
	MaxAge       time.Duration
}

func (r Retention) validate() error {
	if r.MinAge < 0 || r.MaxAge < 0 {
		return fmt.Errorf("%w: retention ages must not be negative", ErrInvalid)
	}
	if r.MaxRevisions > 0 && r.MaxRevisions < r.MinRevisions {
		return fmt.Errorf("%w: retention keeps at most %d revisions but at least %d", ErrInvalid, r.MaxRevisions, r.MinRevisions)
	}
	if r.MaxAge > 0 && r.MaxAge < r.MinAge {
		return fmt.Errorf("%w: retention keeps at most %v of history but at least %v", ErrInvalid, r.MaxAge, r.MinAge)
	}
	return nil
}

// Trim deletes the log rows every consumer has passed and returns the new horizon: the newest revision no
// longer in the log. It deletes the revisions up to the oldest cursor (up to the last revision when there are
// no cursors), less what [Retention] MinRevisions/MinAge keep, plus what MaxRevisions/MaxAge drop. It never
// moves the horizon back. The horizon is saved with the deletion, so a later Sync from below it yields clear and
// then every contact, never a replay with a hole in it.
func (s *Store) Trim(ctx context.Context) (horizon uint64, err error) {
	if err := s.gate.enter(); err != nil {
		return 0, err
	}
	defer s.gate.leave()
	err = s.update(ctx, func(t *Tx) error {
		horizon, err = t.trim(s.retention)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("changelog: trim: %w", err)
	}
	return horizon, nil
}

func (t *Tx) trim(r Retention) (uint64, error) {
	if err := t.flush(); err != nil {
		return 0, err
	}
	var horizon, oldestCursor int64 = 0, -1
	if err := t.tx.QueryRowContext(t.ctx, `SELECT
		(SELECT value FROM meta WHERE key = 'horizon'),
		(SELECT COALESCE(MIN(rev), -1) FROM cursors)`).Scan(&horizon, &oldestCursor); err != nil {
		return 0, err
	}
	now := t.clock()
	point := t.last
	if oldestCursor >= 0 {
		point = min(point, uint64(oldestCursor))
	}
	if r.MinRevisions > 0 {
		point = min(point, t.last-min(t.last, r.MinRevisions))
	}
	if r.MinAge > 0 {
		before, err := t.lastBefore(now.Add(-r.MinAge))
		if err != nil {
			return 0, err
		}
		point = min(point, before)
	}
	if r.MaxRevisions > 0 {
		point = max(point, t.last-min(t.last, r.MaxRevisions))
	}
	if r.MaxAge > 0 {
		before, err := t.lastBefore(now.Add(-r.MaxAge))
		if err != nil {
			return 0, err
		}
		point = max(point, before)
	}
	if point <= uint64(horizon) {
		return uint64(horizon), nil
	}
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM changes WHERE rev <= ?`, int64(point)); err != nil {
		return 0, t.fail(err)
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE meta SET value = ? WHERE key = 'horizon'`, int64(point)); err != nil {
		return 0, t.fail(err)
	}
	return point, nil
}

// lastBefore returns the revision just before the first change made at or after cutoff (the last revision if
// there is none): trimming up to it keeps every change from cutoff on. With a clock that went backwards a change
// may carry an earlier time than the one before it; the first change at or after cutoff still bounds the trim, so
// nothing younger than cutoff is ever dropped.
func (t *Tx) lastBefore(cutoff time.Time) (uint64, error) {
	var first int64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COALESCE(MIN(rev), ?) FROM changes WHERE at >= ?`,
		int64(t.last)+1, cutoff.UnixNano()).Scan(&first); err != nil {
		return 0, err
	}
	return uint64(first) - 1, nil
}
