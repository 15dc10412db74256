package changelog

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// notifier hands out a channel that is closed on the next commit that adds a revision. Closing a channel wakes
// every waiter at once and needs no goroutine, and a waiter that was busy when several commits happened sees
// one wake-up rather than a queue of them.
type notifier struct {
	mu     sync.Mutex
	ch     chan struct{}
	closed bool
	rev    uint64 // the newest revision a broadcast announced
}

func newNotifier() *notifier { return &notifier{ch: make(chan struct{})} }

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

// broadcast wakes the waiters for a commit whose last revision is rev, unless a broadcast already announced it
// (the watcher and the committing call can both see the same commit).
func (n *notifier) broadcast(rev uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || rev <= n.rev {
		return
	}
	n.rev = rev
	close(n.ch)
	n.ch = make(chan struct{})
}

// close wakes every waiter for good: after Close, Notify returns a closed channel so nobody waits forever on a
// store that will never commit again.
func (n *notifier) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.closed = true
		close(n.ch)
	}
}

// watcher notices commits made through other connections to the database file: another process (the CLI
// adding a contact while a worker runs) or another Store on the same file. SQLite's PRAGMA data_version, asked
// on one connection, changes whenever any other connection has committed since it was last asked; only then is
// the log's last revision read, so an idle database costs one PRAGMA per interval. Polling was chosen over
// watching the WAL file: it needs no platform-specific file notification, works whatever the journal's
// checkpointing does to the file, and cannot miss a commit (the version is compared, not an event received).
type watcher struct {
	start  sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// watch starts the watcher the first time someone waits; a store nobody waits on (a CLI command) never polls.
// The watcher takes its first look before Notify returns, so what other connections committed before the first
// Notify is not news to it.
func (s *Store) watch() {
	s.watcher.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		conn, err := s.readers.Conn(ctx)
		if err != nil {
			cancel() // the store is closing: Notify's channel is closed by Close
			return
		}
		version, rev, err := look(ctx, conn)
		if err != nil {
			version = -1 // taken again at the first tick
		} else {
			s.notify.broadcast(rev)
		}
		s.watcher.cancel, s.watcher.done = cancel, make(chan struct{})
		go s.poll(ctx, conn, version, s.watcher.done)
	})
}

// stopWatch ends the watcher, if it ever started, and waits for it.
func (s *Store) stopWatch() {
	s.watcher.start.Do(func() {}) // no watcher may start after this
	if s.watcher.cancel != nil {
		s.watcher.cancel()
		<-s.watcher.done
	}
}

// look reads the connection's data_version and the log's last revision.
func look(ctx context.Context, conn *sql.Conn) (version int64, rev uint64, err error) {
	if err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&version); err != nil {
		return 0, 0, err
	}
	var r int64
	if err := conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'last_rev'`).Scan(&r); err != nil {
		return 0, 0, err
	}
	return version, uint64(r), nil
}

// poll looks every watch interval; one connection serves the watcher's whole life, because data_version
// compares against that connection's previous look.
func (s *Store) poll(ctx context.Context, conn *sql.Conn, last int64, done chan<- struct{}) {
	defer close(done)
	defer conn.Close()
	tick := time.NewTicker(s.watchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var version int64
		// A failed look (the file briefly locked by a checkpoint, say) is simply taken again at the next tick.
		if err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&version); err != nil || version == last {
			continue
		}
		if v, rev, err := look(ctx, conn); err == nil {
			last = v
			s.notify.broadcast(rev)
		}
	}
}
