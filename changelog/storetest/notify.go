package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/contactsync/contactsync/changelog"
)

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func checkNotify(t *testing.T, open Opener) {
	f := use(t, open)
	f.before()
	boom := errors.New("boom")
	tests := []struct {
		name string
		do   func(Tx) error
		wake bool
	}{
		{"add", func(tx Tx) error { _, err := tx.Add(changelog.Local, card("b", 1)); return err }, true},
		{"replace", func(tx Tx) error { _, err := tx.Replace(home, card("b", 2)); return err }, true},
		{"remove", func(tx Tx) error { return tx.Remove(home, "b") }, true},
		{"batch", func(tx Tx) error {
			_, err := tx.Apply(changelog.Local, []changelog.Change{{Op: changelog.OpAdd, Contact: card("c", 1)}, {Op: changelog.OpRemove, Contact: changelog.Contact{ID: "c"}}})
			return err
		}, true},
		{"a change with a cursor save and state", func(tx Tx) error {
			if _, err := tx.Add(changelog.Local, card("d", 1)); err != nil {
				return err
			}
			if err := f.s.PutState(tx, "k", "d"); err != nil {
				return err
			}
			return tx.SetCursor("w", tx.LastRevision())
		}, true},
		// A consumer saving its cursor or its own state must not wake itself, or it would spin.
		{"cursor save", func(tx Tx) error { return tx.SetCursor("w", 1) }, false},
		{"cursor delete", func(tx Tx) error { return tx.DeleteCursor("w") }, false},
		{"state alone", func(tx Tx) error { return f.s.PutState(tx, "k", "alone") }, false},
		{"conflict alone", func(tx Tx) error { return tx.RecordConflict(conflictOn("c9", "a")) }, false},
		{"empty batch", func(tx Tx) error { _, err := tx.Apply(changelog.Local, nil); return err }, false},
		{"failed batch", func(tx Tx) error {
			if _, err := tx.Apply(changelog.Local, []changelog.Change{{Op: changelog.OpRemove, Contact: changelog.Contact{ID: "zz"}}}); !errors.Is(err, changelog.ErrNotFound) {
				return err
			}
			return nil
		}, false},
		{"refused add", func(tx Tx) error {
			if _, err := tx.Add(changelog.Local, changelog.Contact{ID: "x"}); !errors.Is(err, changelog.ErrInvalid) {
				return err
			}
			return nil
		}, false},
		{"rolled back add", func(tx Tx) error {
			if _, err := tx.Add(changelog.Local, card("e", 1)); err != nil {
				return err
			}
			return boom
		}, false},
		{"clear", func(tx Tx) error { return tx.Clear(changelog.Local) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := f.s.Notify()
			if isClosed(ch) {
				t.Fatal("Notify returned a closed channel before any commit")
			}
			if err := f.s.Update(f.ctx, tt.do); err != nil && !errors.Is(err, boom) {
				t.Fatal(err)
			}
			// The channel is closed before the committing call returns, so there is nothing to wait for.
			if got := isClosed(ch); got != tt.wake {
				t.Errorf("channel closed = %v, want %v", got, tt.wake)
			}
		})
	}
	t.Run("trim", func(t *testing.T) {
		ch := f.s.Notify()
		if h, err := f.s.Trim(f.ctx); err != nil || h == 0 {
			t.Fatalf("Trim = %d, %v; want a horizon above 0", h, err)
		}
		if isClosed(ch) {
			t.Error("Trim closed the Notify channel")
		}
	})
	t.Run("view and sync", func(t *testing.T) {
		ch := f.s.Notify()
		f.view(func(Tx) error { return nil })
		f.tasks(f.last())
		if isClosed(ch) {
			t.Error("a View or a Sync closed the Notify channel")
		}
	})
}

// checkNotifyWakes is the worker's loop: take the channel, replay, wait. A commit made by someone else while
// the worker waits must wake it, and its replay must then see the commit.
func checkNotifyWakes(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, card("a", 1))
	wake := f.s.Notify()
	done := f.tasks(0)
	cursor := done[len(done)-1].Rev
	woke := make(chan struct{})
	go func() {
		<-wake
		close(woke)
	}()
	f.add(home, card("b", 1))
	select {
	case <-woke:
	case <-time.After(10 * time.Second):
		t.Fatal("a waiter was not woken by a commit within 10 s")
	}
	if got := renderAll(f.tasks(cursor)); len(got) != 2 || got[0] != "add b@2 [remote:home]" {
		t.Errorf("the replay after the wake-up = %v, want the add of b and done", got)
	}
	if isClosed(f.s.Notify()) {
		t.Error("a new Notify channel is closed with no commit since")
	}
}
