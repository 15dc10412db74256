package changelog

import "sync"

// gate lets Close refuse new calls and wait for the ones in flight before it closes the databases. Unlike a
// RWMutex it never blocks enter, so a call made from inside another (a Get inside an Update callback) cannot
// deadlock against a pending Close.
type gate struct {
	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
}

func (g *gate) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	g.inflight.Add(1)
	return nil
}

func (g *gate) leave() { g.inflight.Done() }

// close reports whether this call closed the gate, after every call in flight has left.
func (g *gate) close() bool {
	g.mu.Lock()
	first := !g.closed
	g.closed = true
	g.mu.Unlock()
	g.inflight.Wait()
	return first
}
