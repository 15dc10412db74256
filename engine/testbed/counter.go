package testbed

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// The engine's log messages that mark a retry: a request tried again (debug level) and a sync the worker
// will try again after it failed. The test bed counts them, in this process through a slog.Handler and in a
// worker process from its log.
const (
	msgRetrying   = "retrying"
	msgSyncFailed = "sync failed; will retry"
)

// counter is a slog.Handler that counts the engine's retries and passes every record on to next.
type counter struct {
	retries, syncRetries *atomic.Int64
	next                 slog.Handler
}

func newCounter(next slog.Handler) *counter {
	if next == nil {
		next = slog.DiscardHandler
	}
	return &counter{retries: new(atomic.Int64), syncRetries: new(atomic.Int64), next: next}
}

// Enabled is true at every level: the retries are logged at debug.
func (c *counter) Enabled(context.Context, slog.Level) bool { return true }

func (c *counter) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case msgRetrying:
		c.retries.Add(1)
	case msgSyncFailed:
		c.syncRetries.Add(1)
	}
	if c.next.Enabled(ctx, r.Level) {
		return c.next.Handle(ctx, r)
	}
	return nil
}

func (c *counter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &counter{retries: c.retries, syncRetries: c.syncRetries, next: c.next.WithAttrs(attrs)}
}

func (c *counter) WithGroup(name string) slog.Handler {
	return &counter{retries: c.retries, syncRetries: c.syncRetries, next: c.next.WithGroup(name)}
}
