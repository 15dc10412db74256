package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine/storage"
)

// Worker keeps a device in sync with its remotes in the background: it pushes soon after each local commit
// (waiting the debounce so a burst of edits goes out together), pulls every pull interval and when triggered,
// and backs off with jitter from a remote that fails. It runs entirely in the goroutine that calls Serve.
//
// Killing the process at any instant is safe: every effect commits with the state that records it, so the
// next Serve resumes where this one stopped.
type Worker struct {
	store   *changelog.Store
	syncers []*Syncer
	cfg     config
	trigger chan struct{}
}

// NewWorker returns a Worker for the given Syncers. Its options are those of timing, clock, randomness and
// logging; merge, meter and the like belong to each Syncer.
func NewWorker(store *changelog.Store, syncers []*Syncer, opts ...Option) (*Worker, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if len(syncers) == 0 {
		return nil, fmt.Errorf("engine: %w: a worker needs at least one remote", ErrInvalid)
	}
	return &Worker{store: store, syncers: syncers, cfg: cfg, trigger: make(chan struct{}, 1)}, nil
}

// Trigger asks the worker to pull every remote now (SIGUSR1 in the CLI). It never blocks.
func (w *Worker) Trigger() {
	select {
	case w.trigger <- struct{}{}:
	default:
	}
}

// remoteSlot is the worker's bookkeeping for one remote.
type remoteSlot struct {
	s                  *Syncer
	needPush, needPull bool
	failures           int
	retryAt            time.Time
	stopped            bool
}

// Serve syncs until ctx is cancelled, then returns nil. It returns an error only when it cannot go on at all
// (the store was closed). A remote whose credentials are rejected is left alone; the others go on.
func (w *Worker) Serve(ctx context.Context) error {
	clk := w.cfg.clock
	slots := make([]*remoteSlot, len(w.syncers))
	for i, s := range w.syncers {
		slots[i] = &remoteSlot{s: s, needPush: true, needPull: true}
	}
	notify := w.store.Notify()
	nextPull := clk.Now().Add(w.cfg.pullInterval)
	var pushAt time.Time
	for {
		if ctx.Err() != nil {
			return nil
		}
		now := clk.Now()
		if !now.Before(nextPull) {
			nextPull = now.Add(w.cfg.pullInterval)
			for _, sl := range slots {
				sl.needPull = true
			}
		}
		if !pushAt.IsZero() && !now.Before(pushAt) {
			pushAt = time.Time{}
			for _, sl := range slots {
				sl.needPush = true
			}
		}
		for _, sl := range slots {
			if sl.stopped || (!sl.needPush && !sl.needPull) || now.Before(sl.retryAt) {
				continue
			}
			if err := w.runSlot(ctx, sl); err != nil {
				return err
			}
		}
		wake := nextPull
		if !pushAt.IsZero() && pushAt.Before(wake) {
			wake = pushAt
		}
		for _, sl := range slots {
			if !sl.stopped && (sl.needPush || sl.needPull) && sl.retryAt.Before(wake) {
				wake = sl.retryAt
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-notify:
			notify = w.store.Notify()
			if pushAt.IsZero() {
				pushAt = clk.Now().Add(w.cfg.debounce)
			}
		case <-w.trigger:
			for _, sl := range slots {
				sl.needPull, sl.retryAt = true, time.Time{}
			}
		case <-clk.After(wake.Sub(clk.Now())):
		}
	}
}

// runSlot syncs one remote and updates its bookkeeping; it returns an error only for one that ends Serve.
func (w *Worker) runSlot(ctx context.Context, sl *remoteSlot) error {
	var st Stats
	var err error
	if sl.needPull {
		st, err = sl.s.Sync(ctx)
	} else {
		st, err = sl.s.Push(ctx)
	}
	log := w.cfg.logger.With("remote", sl.s.name)
	switch {
	case err == nil:
		sl.needPush, sl.needPull, sl.failures, sl.retryAt = false, false, 0, time.Time{}
		if st.Uploaded+st.Downloaded+st.Merged+st.DeletedLocal+st.DeletedRemote+st.SetAside > 0 {
			log.Info("synced", "uploaded", st.Uploaded, "downloaded", st.Downloaded, "merged", st.Merged,
				"deleted_remote", st.DeletedRemote, "deleted_local", st.DeletedLocal, "conflicts", st.Conflicts,
				"set_aside", st.SetAside, "requests", st.Requests, "duration", st.Duration)
		}
		return nil
	case ctx.Err() != nil:
		return nil
	case errors.Is(err, changelog.ErrClosed):
		return fmt.Errorf("engine: worker: the store was closed: %w", changelog.ErrClosed)
	case errors.Is(err, ErrCredentialsRejected):
		sl.stopped = true
		log.Error("credentials rejected; this remote is stopped until they are replaced", "err", err)
		return nil
	}
	sl.failures++
	wait := backoff(sl.failures, time.Second, w.cfg.maxBackoff, w.cfg.random)
	if ra := storage.RetryAfter(err); ra > wait {
		wait = ra
	}
	sl.retryAt = w.cfg.clock.Now().Add(wait)
	log.Warn("sync failed; will retry", "err", err, "attempt", sl.failures, "retry_in", wait.Round(time.Millisecond))
	return nil
}
