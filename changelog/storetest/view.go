package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/contactsync/contactsync/changelog"
)

// checkViewSnapshot commits a write from inside a View's callback: the write must go through (a View holds no
// writer up) and the View must go on reading the state it started with.
func checkViewSnapshot(t *testing.T, open Opener) {
	f := use(t, open)
	f.before()
	f.view(func(tx Tx) error {
		if a, err := tx.Get("a"); err != nil || a.Rev != 1 {
			t.Errorf("Get(a) in the View = %+v, %v; want revision 1", a, err)
		}
		f.update(func(tx Tx) error {
			if err := f.everything(tx); err != nil {
				return err
			}
			return tx.RecordConflict(conflictOn("c2", "a"))
		})
		if f.last() != 4 {
			t.Fatalf("LastRevision after the write = %d, want 4", f.last())
		}
		if a, err := tx.Get("a"); err != nil || string(a.Data) != string(card("a", 1).Data) || a.Rev != 1 {
			t.Errorf("Get(a) in the View after a commit = %+v, %v; want version 1 at revision 1", a, err)
		}
		if _, err := tx.Get("b"); !errors.Is(err, changelog.ErrNotFound) {
			t.Errorf("Get(b) in the View after a commit added it = %v, want ErrNotFound", err)
		}
		if missing, err := tx.Missing([]string{"a", "b", "c"}); err != nil || !slices.Equal(missing, []string{"b", "c"}) {
			t.Errorf("Missing in the View = %v, %v; want [b c]", missing, err)
		}
		if tx.LastRevision() != 1 {
			t.Errorf("LastRevision in the View = %d, want 1", tx.LastRevision())
		}
		if rev, err := tx.Cursor("w"); err != nil || rev != 1 {
			t.Errorf("Cursor(w) in the View = %d, %v; want 1", rev, err)
		}
		if _, err := tx.Cursor("new"); !errors.Is(err, changelog.ErrNotFound) {
			t.Errorf("Cursor(new) in the View = %v, want ErrNotFound", err)
		}
		if v, err := f.s.State(tx, "k"); err != nil || v != "before" {
			t.Errorf("State(k) in the View = %q, %v; want before", v, err)
		}
		if c, err := tx.Conflict("c0"); err != nil || c.ResolvedRev != 0 {
			t.Errorf("Conflict(c0) in the View = %+v, %v; want it open", c, err)
		}
		if _, err := tx.Conflict("c2"); !errors.Is(err, changelog.ErrNotFound) {
			t.Errorf("Conflict(c2) in the View = %v, want ErrNotFound", err)
		}
		return nil
	})
	f.view(func(tx Tx) error {
		if a, err := tx.Get("a"); err != nil || a.Rev != 2 || tx.LastRevision() != 4 {
			t.Errorf("a new View: Get(a) = %+v, %v, LastRevision %d; want revision 2 of 4", a, err, tx.LastRevision())
		}
		if c, err := tx.Conflict("c0"); err != nil || c.ResolvedRev != 4 {
			t.Errorf("a new View: Conflict(c0) = %+v, %v; want it resolved at 4", c, err)
		}
		return nil
	})
}

func checkViewReadOnly(t *testing.T, open Opener) {
	f := use(t, open)
	f.before()
	notify := f.s.Notify()
	changes := []struct {
		name string
		do   func(Tx) error
	}{
		{"Add", func(tx Tx) error { _, err := tx.Add(changelog.Local, card("b", 1)); return err }},
		{"Replace", func(tx Tx) error { _, err := tx.Replace(changelog.Local, card("a", 2)); return err }},
		{"Remove", func(tx Tx) error { return tx.Remove(changelog.Local, "a") }},
		{"Clear", func(tx Tx) error { return tx.Clear(changelog.Local) }},
		{"Apply", func(tx Tx) error {
			_, err := tx.Apply(changelog.Local, []changelog.Change{{Op: changelog.OpAdd, Contact: card("b", 1)}})
			return err
		}},
		{"SetCursor", func(tx Tx) error { return tx.SetCursor("w", 0) }},
		{"DeleteCursor", func(tx Tx) error { return tx.DeleteCursor("w") }},
		{"RecordConflict", func(tx Tx) error { return tx.RecordConflict(conflictOn("c1", "a")) }},
		{"ResolveConflict", func(tx Tx) error { return tx.ResolveConflict("c0", "kept-winner") }},
	}
	err := f.s.View(f.ctx, func(tx Tx) error {
		for _, c := range changes {
			wantErr(t, c.name+" in a View", c.do(tx), changelog.ErrReadOnly)
		}
		if err := f.s.PutState(tx, "k", "after"); err == nil {
			t.Error("PutState in a View succeeded, want an error")
		}
		if tx.LastRevision() != 1 {
			t.Errorf("LastRevision in the View = %d after refused changes, want 1", tx.LastRevision())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View = %v", err)
	}
	boom := errors.New("boom")
	wantErr(t, "View whose callback fails", f.s.View(f.ctx, func(Tx) error { return boom }), boom)
	// wantBefore also checks that the refused changes closed no Notify channel.
	f.wantBefore(notify)
}

func checkAll(t *testing.T, open Opener) {
	f := use(t, open)
	for _, id := range []string{"c", "a", "d", "b"} {
		f.add(changelog.Local, card(id, 1))
	}
	var ids []string
	for c, err := range f.s.All(f.ctx) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{"a", "b", "c", "d"}) {
		t.Errorf("All yields %v, want ID order", ids)
	}
	n := 0
	for _, err := range f.s.All(f.ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			break // the iterator must not yield again (the runtime panics if it does)
		}
	}
	if n != 2 {
		t.Errorf("broke out of All after %d contacts, want 2", n)
	}
}
