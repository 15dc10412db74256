package changelog

import "sync"

// notifier hands out a channel that is closed on the next commit that adds a revision. Closing a channel wakes
// every waiter at once and needs no goroutine, and a waiter that was busy when several commits happened sees
// one wake-up rather than a queue of them.
type notifier struct {
	mu     sync.Mutex
	ch     chan struct{}
	closed bool
}

func newNotifier() *notifier { return &notifier{ch: make(chan struct{})} }

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *notifier) broadcast() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
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
