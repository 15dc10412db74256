package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine/storage"
)

// Syncer pushes the device's changes to one remote and pulls the remote's changes into the store. Its methods
// are safe for concurrent use and run one at a time. It starts no goroutines.
type Syncer struct {
	store  *changelog.Store
	name   string
	origin changelog.Origin
	remote Remote
	cfg    config
	mu     sync.Mutex

	// checked is set once a run of uploads was fetched back (by this Syncer or, recorded in the ledger, an earlier
	// one); rewrites once that showed the storage keeping other bytes than it was sent (see checkUploads).
	checked, rewrites bool
}

// NewSyncer returns a Syncer for the configured remote called name, talking to it through remote.
func NewSyncer(ctx context.Context, store *changelog.Store, name string, remote Remote, opts ...Option) (*Syncer, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if remote == nil {
		return nil, fmt.Errorf("engine: %w: nil remote", ErrInvalid)
	}
	if err := store.View(ctx, func(tx *changelog.Tx) error {
		_, err := ledger{tx: tx, remote: name}.load()
		return err
	}); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return &Syncer{store: store, name: name, origin: changelog.FromRemote(name), remote: remote, cfg: cfg}, nil
}

// Name returns the remote's name.
func (s *Syncer) Name() string { return s.name }

// Push sends the device's changes made since the last complete push.
func (s *Syncer) Push(ctx context.Context) (Stats, error) {
	return s.run(ctx, false, func(st *Stats) error {
		rs, err := s.state(ctx)
		if err != nil {
			return err
		}
		return s.push(ctx, rs, st)
	})
}

// Pull applies the remote's changes made since the last pull.
func (s *Syncer) Pull(ctx context.Context) (Stats, error) {
	return s.run(ctx, true, func(st *Stats) error {
		rs, err := s.state(ctx)
		if err != nil {
			return err
		}
		return s.pull(ctx, rs, st)
	})
}

// maxRounds bounds the push/pull rounds of one Sync: each round after the first only sends merges the previous
// pull wrote, which converge at once unless someone keeps editing the same contacts.
const maxRounds = 4

// Sync pushes and pulls until nothing is left to send or fetch. The first sync with a remote pulls first, so
// that contacts both sides already hold are merged by UID instead of uploaded again.
func (s *Syncer) Sync(ctx context.Context) (Stats, error) {
	return s.run(ctx, true, func(st *Stats) error {
		rs, err := s.state(ctx)
		if err != nil {
			return err
		}
		if rs.lastSync.IsZero() && rs.token == "" {
			if err := s.pull(ctx, rs, st); err != nil {
				return err
			}
		}
		for range maxRounds {
			if rs, err = s.state(ctx); err != nil {
				return err
			}
			if err := s.push(ctx, rs, st); err != nil {
				return err
			}
			before := st.localWrites
			if rs, err = s.state(ctx); err != nil {
				return err
			}
			if err := s.pull(ctx, rs, st); err != nil {
				return err
			}
			if st.localWrites == before {
				return nil
			}
		}
		return nil
	})
}

// run serializes the Syncer's work, measures it and records its outcome in the remote's state.
func (s *Syncer) run(ctx context.Context, pulled bool, fn func(*Stats) error) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st Stats
	start := s.cfg.clock.Now()
	var req0, bytes0 int64
	if s.cfg.meter != nil {
		req0, bytes0 = s.cfg.meter.Requests(), s.cfg.meter.Bytes()
	}
	err := fn(&st)
	st.Duration = s.cfg.clock.Now().Sub(start)
	if s.cfg.meter != nil {
		st.Requests, st.Bytes = s.cfg.meter.Requests()-req0, s.cfg.meter.Bytes()-bytes0
	}
	if rerr := s.record(ctx, pulled, err); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return st, fmt.Errorf("engine: %w", err)
	}
	return st, nil
}

// record saves the outcome: a success clears the last error (and, for a pull, stamps last_sync); a 401 stops
// the remote. Cancellation is not an error worth recording.
func (s *Syncer) record(ctx context.Context, pulled bool, err error) error {
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return nil
	}
	return s.store.Update(ctx, func(tx *changelog.Tx) error { return s.ledger(tx).recordOutcome(pulled, err, s.cfg.clock.Now()) })
}

// state reads the remote's row; a remote whose credentials were rejected does nothing until they are replaced.
func (s *Syncer) state(ctx context.Context) (remoteState, error) {
	var rs remoteState
	err := s.store.View(ctx, func(tx *changelog.Tx) error {
		var err error
		rs, err = s.ledger(tx).load()
		return err
	})
	if err == nil && rs.state == StateCredentialsRejected {
		err = fmt.Errorf("remote %s: %w; it is stopped until they are replaced", s.name, ErrCredentialsRejected)
	}
	return rs, err
}

// ResetCredentials marks the remote usable again after its credentials were replaced.
func ResetCredentials(ctx context.Context, store *changelog.Store, name string) error {
	if err := store.Update(ctx, func(tx *changelog.Tx) error { return ledger{tx: tx, remote: name}.resetCredentials() }); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	return nil
}

// call runs one request, trying again with jittered exponential backoff while it fails with a retryable error
// (honouring the server's Retry-After). A 401 becomes ErrCredentialsRejected: the same credentials cannot
// succeed later.
func (s *Syncer) call(ctx context.Context, st *Stats, what string, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, storage.ErrCredentialsRejected) {
			return fmt.Errorf("%s: %w: %w", what, ErrCredentialsRejected, err)
		}
		if !storage.Retryable(err) || attempt >= s.cfg.maxAttempts {
			return fmt.Errorf("%s: %w", what, err)
		}
		wait := backoff(attempt, time.Second, s.cfg.maxRetryWait, s.cfg.random)
		if ra := storage.RetryAfter(err); ra > s.cfg.maxRetryWait {
			return fmt.Errorf("%s: server asks to wait %s: %w", what, ra, err)
		} else if ra > wait {
			wait = ra
		}
		st.Retries++
		s.cfg.logger.Debug("retrying", "remote", s.name, "request", what, "attempt", attempt, "wait", wait, "err", err)
		if err := sleep(ctx, s.cfg.clock, wait); err != nil {
			return err
		}
	}
}

// backoff is the wait before attempt+1: base doubled per attempt up to ceiling, with full jitter on its upper
// half so that many devices failing together do not come back together.
func backoff(attempt int, base, ceiling time.Duration, random func() float64) time.Duration {
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return d/2 + time.Duration(random()*float64(d/2))
}

func sleep(ctx context.Context, clk Clock, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clk.After(d):
		return nil
	}
}

func (s *Syncer) progress(phase string, done, total int) {
	if s.cfg.progress != nil {
		s.cfg.progress(Progress{Remote: s.name, Phase: phase, Done: done, Total: total})
	}
}
