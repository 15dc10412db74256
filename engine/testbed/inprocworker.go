package testbed

import (
	"context"
	"sync"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// inprocWorker is an engine.Worker served by a goroutine of this process.
type inprocWorker struct {
	w      *engine.Worker
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func startInproc(store *changelog.Store, s *engine.Syncer, opts ...engine.Option) (*inprocWorker, error) {
	w, err := engine.NewWorker(store, []*engine.Syncer{s}, opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	iw := &inprocWorker{w: w, cancel: cancel, done: make(chan error, 1)}
	go func() { iw.done <- w.Serve(ctx) }()
	return iw, nil
}

func (w *inprocWorker) trigger() { w.w.Trigger() }

func (w *inprocWorker) stop() error {
	w.once.Do(func() {
		w.cancel()
		w.err = <-w.done
	})
	return w.err
}
