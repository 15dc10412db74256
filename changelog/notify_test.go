package changelog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// closedWithin reports whether ch is closed within d.
func closedWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestNotify(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Add(ctx, Local, card("a", 1)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() error
		wake bool
	}{
		{"add", func() error { _, err := s.Add(ctx, Local, card("b", 1)); return err }, true},
		{"replace", func() error { _, err := s.Replace(ctx, FromRemote("home"), card("b", 2)); return err }, true},
		{"batch", func() error {
			_, err := s.Apply(ctx, Local, []Change{{Op: OpAdd, Contact: card("c", 1)}, {Op: OpRemove, Contact: Contact{ID: "c"}}})
			return err
		}, true},
		{"clear", func() error { return s.Clear(ctx, Local) }, true},
		// A consumer saving its cursor must not wake itself (or it would spin).
		{"cursor save", func() error { return s.SetCursor(ctx, "w", 1) }, false},
		{"trim", func() error { _, err := s.Trim(ctx); return err }, false},
		{"failed add", func() error {
			if _, err := s.Add(ctx, Local, Contact{ID: "x"}); !errors.Is(err, ErrInvalid) {
				return fmt.Errorf("Add = %v, want ErrInvalid", err)
			}
			return nil
		}, false},
		{"rolled back update", func() error {
			boom := errors.New("boom")
			err := s.Update(ctx, func(tx *Tx) error {
				if _, err := tx.Add(Local, card("d", 1)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				return err
			}
			return nil
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := s.Notify()
			if isClosed(ch) {
				t.Fatal("Notify returned a closed channel before any commit")
			}
			if err := tt.do(); err != nil {
				t.Fatal(err)
			}
			// The broadcast happens before the write returns, so no waiting is needed either way.
			if got := isClosed(ch); got != tt.wake {
				t.Errorf("channel closed = %v, want %v", got, tt.wake)
			}
		})
	}
}

func TestNotifyWakesWaiterAndClose(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	woke := make(chan struct{})
	ch := s.Notify()
	go func() {
		<-ch
		close(woke)
	}()
	if _, err := s.Add(ctx, Local, card("a", 1)); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(woke, 10*time.Second) {
		t.Fatal("waiter not woken by a commit")
	}
	pending := s.Notify()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !isClosed(pending) || !isClosed(s.Notify()) {
		t.Error("Close must wake waiters and Notify must return a closed channel after Close")
	}
	if _, err := s.Add(ctx, Local, card("b", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close = %v, want ErrClosed", err)
	}
	if _, err := trySync(s, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

// TestCloseWaitsForReplay checks that Close waits for a Sync that is still being iterated.
func TestCloseWaitsForReplay(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for i := range 3 {
		if _, err := s.Add(ctx, Local, card(fmt.Sprint(i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	inLoop, release := make(chan struct{}), make(chan struct{})
	var replayDone atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		n := 0
		for _, err := range s.Sync(ctx, 0) {
			if err != nil {
				t.Error(err)
				return
			}
			if n++; n == 1 {
				close(inLoop)
				<-release
			}
		}
		replayDone.Store(true)
	})
	<-inLoop
	closed := make(chan error)
	go func() {
		err := s.Close()
		if !replayDone.Load() {
			err = errors.New("Close returned while a replay was still running")
		}
		closed <- err
	}()
	close(release)
	if err := <-closed; err != nil {
		t.Error(err)
	}
	wg.Wait()
}

// TestConcurrentReadersAndWorker runs a writer of atomic batches against readers that check every replay is one
// consistent snapshot, and a worker that follows the log through Notify alone and must end with the store.
func TestConcurrentReadersAndWorker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openTest(t)
	const adds, updates, batches = 20, 5, 40
	const perBatch = adds + updates

	var wg sync.WaitGroup
	writerDone := make(chan struct{})
	wg.Go(func() {
		defer close(writerDone)
		for k := range batches {
			var changes []Change
			for i := range adds {
				changes = append(changes, Change{Op: OpAdd, Contact: card(fmt.Sprintf("%d-%d", k, i), 1)})
			}
			for i := range updates {
				changes = append(changes, Change{Op: OpUpdate, Contact: card(fmt.Sprintf("%d-%d", k, i), 2)})
			}
			if _, err := s.Apply(ctx, Local, changes); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for r := range 3 {
		wg.Go(func() {
			var lastSeen uint64
			for {
				finished := isClosed(writerDone) // one more replay after the writer stops sees its last batch
				tasks, err := trySync(s, 0)
				if err != nil {
					t.Error(err)
					return
				}
				done := tasks[len(tasks)-1]
				if done.Rev < lastSeen || done.Rev%perBatch != 0 || uint64(len(tasks)-1) != done.Rev/perBatch*adds {
					t.Errorf("reader %d: replay of %d tasks ends at revision %d (after %d): not one snapshot of whole batches",
						r, len(tasks), done.Rev, lastSeen)
					return
				}
				for _, task := range tasks[:len(tasks)-1] {
					if task.Op != OpAdd || task.Contact.Rev > done.Rev {
						t.Errorf("reader %d: %s %s at %d in a replay up to %d", r, task.Op, task.ID, task.Contact.Rev, done.Rev)
						return
					}
				}
				lastSeen = done.Rev
				if finished {
					return
				}
			}
		})
	}
	// The worker keeps a replica from the log, waking only on Notify.
	replica := map[string]Contact{}
	wg.Go(func() {
		var cursor uint64
		for {
			finished := isClosed(writerDone)
			wake := s.Notify()
			for task, err := range s.Sync(ctx, cursor) {
				if err != nil {
					t.Error(err)
					return
				}
				switch task.Op {
				case OpAdd, OpUpdate:
					replica[task.ID] = task.Contact
				case OpRemove:
					delete(replica, task.ID)
				case OpClear:
					clear(replica)
				case OpDone:
					cursor = task.Rev
				}
			}
			if finished {
				return
			}
			select {
			case <-wake:
			case <-writerDone:
			}
		}
	})
	wg.Wait()
	if !contactsEqual(replica, snapshot(t, s)) {
		t.Errorf("the worker's replica differs from the store (%d vs %d contacts)", len(replica), len(snapshot(t, s)))
	}
	if t.Failed() {
		return
	}
	if n := len(snapshot(t, s)); n != batches*adds {
		t.Errorf("store holds %d contacts, want %d", n, batches*adds)
	}
}

// TestNotifySeesOtherConnections checks that a commit made through another Store on the same file — what
// another process does — wakes a waiter within a few watch intervals, and that a commit adding no revision (a
// cursor save) does not.
func TestNotifySeesOtherConnections(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "contacts.db")
	waiter, err := Open(path, WithWatchInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Add(ctx, Local, card("before", 1)); err != nil {
		t.Fatal(err)
	}
	ch := waiter.Notify()
	// What was committed before the first Notify is not news: the channel stays open.
	if closedWithin(ch, 100*time.Millisecond) {
		t.Fatal("Notify closed without a commit after it was taken")
	}
	if err := other.SetCursor(ctx, "consumer", 1); err != nil {
		t.Fatal(err)
	}
	if closedWithin(ch, 100*time.Millisecond) {
		t.Fatal("a cursor save by another connection closed Notify; only new revisions should")
	}
	start := time.Now()
	if _, err := other.Add(ctx, Local, card("a", 1)); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(ch, 5*time.Second) {
		t.Fatal("a commit by another connection did not close Notify")
	}
	t.Logf("noticed another connection's commit after %v", time.Since(start))
	// The next channel waits for the next commit, and this Store's own commits still close it at once.
	ch = waiter.Notify()
	if isClosed(ch) {
		t.Fatal("a new Notify channel is closed before any further commit")
	}
	if _, err := waiter.Add(ctx, Local, card("b", 1)); err != nil {
		t.Fatal(err)
	}
	if !isClosed(ch) {
		t.Fatal("the Store's own commit did not close Notify at once")
	}
}
