package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/contactsync/contactsync/changelog"
)

// conflictOn is a conflict on a contact with made-up content lines.
func conflictOn(id, contact string) changelog.Conflict {
	return changelog.Conflict{ID: id, ContactID: contact, Property: "NOTE", Kind: "edit", Winner: "NOTE:mine", Loser: "NOTE:theirs", Side: "remote", Remote: "home"}
}

// conflictIDs returns the IDs of the open conflicts, or of all with all set.
func (f *fixture) conflictIDs(all bool) []string {
	f.t.Helper()
	cs, err := f.s.Conflicts(f.ctx, all)
	if err != nil {
		f.t.Fatalf("Conflicts: %v", err)
	}
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

func checkCommitTogether(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, card("a", 1))
	f.update(func(tx Tx) error {
		if _, err := tx.Replace(home, card("a", 2)); err != nil {
			return err
		}
		if _, err := tx.Add(home, card("b", 1)); err != nil {
			return err
		}
		if err := f.s.PutState(tx, "etag a", "2"); err != nil {
			return err
		}
		if err := tx.RecordConflict(conflictOn("c1", "a")); err != nil {
			return err
		}
		return tx.SetCursor("w", tx.LastRevision())
	})
	f.wantContents(map[string]int{"a": 2, "b": 1})
	if f.last() != 3 || f.cursor("w") != 3 || f.state("etag a") != "2" || !slices.Equal(f.conflictIDs(false), []string{"c1"}) {
		t.Errorf("after one transaction: LastRevision %d, cursor %d, state %q, conflicts %v; want 3, 3, \"2\", [c1]",
			f.last(), f.cursor("w"), f.state("etag a"), f.conflictIDs(false))
	}
}

// before is what checkFailedCallback and friends set up: a contact, a cursor, some state and an open conflict.
func (f *fixture) before() {
	f.t.Helper()
	f.add(changelog.Local, card("a", 1))
	f.update(func(tx Tx) error {
		if err := tx.SetCursor("w", 1); err != nil {
			return err
		}
		if err := tx.RecordConflict(conflictOn("c0", "a")); err != nil {
			return err
		}
		return f.s.PutState(tx, "k", "before")
	})
}

// everything does one of each change through tx; a callback that then fails must leave no trace of any.
func (f *fixture) everything(tx Tx) error {
	if _, err := tx.Replace(home, card("a", 2)); err != nil {
		return err
	}
	if _, err := tx.Add(changelog.Local, card("b", 1)); err != nil {
		return err
	}
	if _, err := tx.Apply(changelog.Local, []changelog.Change{{Op: changelog.OpAdd, Contact: card("c", 1)}}); err != nil {
		return err
	}
	if err := tx.ResolveConflict("c0", "took-loser"); err != nil {
		return err
	}
	if err := tx.RecordConflict(conflictOn("c1", "b")); err != nil {
		return err
	}
	if err := tx.SetCursor("w", tx.LastRevision()); err != nil {
		return err
	}
	if err := tx.SetCursor("new", tx.LastRevision()); err != nil {
		return err
	}
	if err := f.s.PutState(tx, "k", "after"); err != nil {
		return err
	}
	return f.s.PutState(tx, "k2", "after")
}

// wantBefore checks that the store is exactly as before left it.
func (f *fixture) wantBefore(notify <-chan struct{}) {
	f.t.Helper()
	f.wantContents(map[string]int{"a": 1})
	if last := f.last(); last != 1 {
		f.t.Errorf("LastRevision = %d, want 1", last)
	}
	if w, n := f.cursor("w"), f.cursor("new"); w != 1 || n != -1 {
		f.t.Errorf("cursors w = %d, new = %d; want 1 and none", w, n)
	}
	if k, k2 := f.state("k"), f.state("k2"); k != "before" || k2 != "" {
		f.t.Errorf("state k = %q, k2 = %q; want \"before\" and none", k, k2)
	}
	if open, all := f.conflictIDs(false), f.conflictIDs(true); !slices.Equal(open, []string{"c0"}) || !slices.Equal(all, []string{"c0"}) {
		f.t.Errorf("conflicts open %v, all %v; want c0 open and nothing else", open, all)
	}
	if isClosed(notify) {
		f.t.Error("a callback that kept nothing closed the Notify channel")
	}
	// The revisions the callback's changes had are handed out again: no gap.
	if c := f.add(changelog.Local, card("d", 1)); c.Rev != 2 {
		f.t.Errorf("the next add took revision %d, want 2", c.Rev)
	}
}

func checkFailedCallback(t *testing.T, open Opener) {
	f := use(t, open)
	f.before()
	notify := f.s.Notify()
	boom := errors.New("boom")
	err := f.s.Update(f.ctx, func(tx Tx) error {
		if err := f.everything(tx); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", boom)
	})
	wantErr(t, "Update whose callback fails", err, boom)
	f.wantBefore(notify)
}

func checkPanickingCallback(t *testing.T, open Opener) {
	f := use(t, open)
	f.before()
	notify := f.s.Notify()
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		_ = f.s.Update(f.ctx, func(tx Tx) error {
			if err := f.everything(tx); err != nil {
				return err
			}
			panic("callback panics")
		})
	}()
	if recovered != "callback panics" {
		t.Errorf("recovered %v from Update, want the callback's panic to go on up", recovered)
	}
	f.wantBefore(notify)
}

func checkCancelledUpdate(t *testing.T, open Opener) {
	f := use(t, open)
	f.before()
	notify := f.s.Notify()
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	err := f.s.Update(ctx, func(tx Tx) error {
		if err := f.everything(tx); err != nil {
			return err
		}
		cancel()
		return nil
	})
	wantErr(t, "Update whose context ends before the commit", err, context.Canceled)
	f.wantBefore(notify)
}

// checkIsolation reads the store from outside a transaction while the transaction is open, from inside its
// callback: reads of the store are allowed there and see the last committed state.
func checkIsolation(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, card("a", 1))
	f.update(func(tx Tx) error {
		if _, err := tx.Replace(home, card("a", 2)); err != nil {
			return err
		}
		if _, err := tx.Add(changelog.Local, card("b", 1)); err != nil {
			return err
		}
		// The transaction sees its own changes.
		if a, err := tx.Get("a"); err != nil || string(a.Data) != string(card("a", 2).Data) || a.Rev != 2 {
			t.Errorf("tx.Get(a) = %+v, %v; want the uncommitted update at revision 2", a, err)
		}
		if missing, err := tx.Missing([]string{"a", "b", "x"}); err != nil || !slices.Equal(missing, []string{"x"}) {
			t.Errorf("tx.Missing = %v, %v; want [x]", missing, err)
		}
		if tx.LastRevision() != 3 {
			t.Errorf("tx.LastRevision = %d, want 3", tx.LastRevision())
		}
		if err := tx.SetCursor("w", 3); err != nil {
			return err
		}
		if rev, err := tx.Cursor("w"); err != nil || rev != 3 {
			t.Errorf("tx.Cursor(w) = %d, %v; want 3", rev, err)
		}
		if err := f.s.PutState(tx, "k", "mine"); err != nil {
			return err
		}
		if v, err := f.s.State(tx, "k"); err != nil || v != "mine" {
			t.Errorf("State(k) in the tx = %q, %v; want mine", v, err)
		}
		if err := tx.RecordConflict(conflictOn("c1", "a")); err != nil {
			return err
		}
		if c, err := tx.Conflict("c1"); err != nil || c.ContactID != "a" {
			t.Errorf("tx.Conflict(c1) = %+v, %v; want the conflict just recorded", c, err)
		}
		// Nobody else sees them yet.
		if a, err := f.s.Get(f.ctx, "a"); err != nil || a.Rev != 1 {
			t.Errorf("Get(a) outside the tx = %+v, %v; want revision 1", a, err)
		}
		if _, err := f.s.Get(f.ctx, "b"); !errors.Is(err, changelog.ErrNotFound) {
			t.Errorf("Get(b) outside the tx = %v, want ErrNotFound", err)
		}
		if last := f.last(); last != 1 {
			t.Errorf("LastRevision outside the tx = %d, want 1", last)
		}
		if c := f.cursor("w"); c != -1 {
			t.Errorf("Cursor(w) outside the tx = %d, want none", c)
		}
		if k := f.state("k"); k != "" {
			t.Errorf("state k in a View beside the tx = %q, want none", k)
		}
		if all := f.conflictIDs(true); len(all) != 0 {
			t.Errorf("Conflicts outside the tx = %v, want none", all)
		}
		if got := renderAll(f.tasks(0)); !slices.Equal(got, []string{"add a@1 [local]", "done@1"}) {
			t.Errorf("Sync(0) outside the tx = %v, want only the committed add", got)
		}
		return nil
	})
	if f.last() != 3 || f.cursor("w") != 3 || f.state("k") != "mine" {
		t.Errorf("after the commit: LastRevision %d, cursor %d, state %q; want 3, 3, mine", f.last(), f.cursor("w"), f.state("k"))
	}
}

func checkMissing(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, card("a", 1))
	f.add(changelog.Local, card("b", 1))
	var many, wantMany []string
	f.update(func(tx Tx) error {
		if missing, err := tx.Missing(nil); err != nil || len(missing) != 0 {
			t.Errorf("Missing(nil) = %v, %v; want none", missing, err)
		}
		if missing, err := tx.Missing([]string{"x", "a", "y", "b"}); err != nil || !slices.Equal(missing, []string{"x", "y"}) {
			t.Errorf("Missing([x a y b]) = %v, %v; want [x y], in their order", missing, err)
		}
		if err := tx.Remove(changelog.Local, "a"); err != nil {
			return err
		}
		if _, err := tx.Add(changelog.Local, card("x", 1)); err != nil {
			return err
		}
		if missing, err := tx.Missing([]string{"a", "x", "z"}); err != nil || !slices.Equal(missing, []string{"a", "z"}) {
			t.Errorf("Missing([a x z]) after removing a and adding x = %v, %v; want [a z]", missing, err)
		}
		// Long lists are answered whole, whatever a backend's limit on one query.
		for i := range 1500 {
			id := fmt.Sprintf("m%04d", 1499-i)
			many = append(many, id)
			if i%3 == 0 {
				if _, err := tx.Add(changelog.Local, card(id, 1)); err != nil {
					return err
				}
			} else {
				wantMany = append(wantMany, id)
			}
		}
		if missing, err := tx.Missing(many); err != nil || !slices.Equal(missing, wantMany) {
			t.Errorf("Missing of %d IDs gave %d (%v), want %d", len(many), len(missing), err, len(wantMany))
		}
		return nil
	})
	f.view(func(tx Tx) error {
		if missing, err := tx.Missing([]string{"a", "b", "x"}); err != nil || !slices.Equal(missing, []string{"a"}) {
			t.Errorf("Missing in a View after the commit = %v, %v; want [a]", missing, err)
		}
		return nil
	})
}

func checkCursors(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, card("a", 1))
	f.add(changelog.Local, card("b", 1))
	if _, err := f.s.Cursor(f.ctx, "w"); !errors.Is(err, changelog.ErrNotFound) {
		t.Errorf("Cursor of a name never saved = %v, want ErrNotFound", err)
	}
	wantErr(t, "DeleteCursor of a name never saved", f.s.DeleteCursor(f.ctx, "w"), changelog.ErrNotFound)
	wantErr(t, "SetCursor(w, 2)", f.s.SetCursor(f.ctx, "w", 2), nil)
	wantErr(t, "SetCursor above the last revision", f.s.SetCursor(f.ctx, "w", 3), changelog.ErrFutureRevision)
	if c := f.cursor("w"); c != 2 {
		t.Errorf("cursor after a refused SetCursor = %d, want 2", c)
	}
	wantErr(t, "SetCursor back to 0", f.s.SetCursor(f.ctx, "w", 0), nil)
	if c := f.cursor("w"); c != 0 {
		t.Errorf("cursor moved back = %d, want 0", c)
	}
	f.update(func(tx Tx) error {
		if _, err := tx.Add(changelog.Local, card("c", 1)); err != nil {
			return err
		}
		// The tx's own revisions count: the cursor may go up to them.
		wantErr(t, "tx.SetCursor above tx.LastRevision", tx.SetCursor("v", 4), changelog.ErrFutureRevision)
		return tx.SetCursor("w", tx.LastRevision())
	})
	wantErr(t, "SetCursor(v, 1)", f.s.SetCursor(f.ctx, "v", 1), nil)
	if cs, err := f.s.Cursors(f.ctx); err != nil || !maps.Equal(cs, map[string]uint64{"w": 3, "v": 1}) {
		t.Errorf("Cursors = %v, %v; want w at 3 and v at 1", cs, err)
	}
	if f.last() != 3 {
		t.Errorf("LastRevision = %d after cursor saves, want 3: a cursor save takes no revision", f.last())
	}
	wantErr(t, "DeleteCursor(v)", f.s.DeleteCursor(f.ctx, "v"), nil)
	_ = f.s.Update(f.ctx, func(tx Tx) error {
		wantErr(t, "tx.DeleteCursor(w)", tx.DeleteCursor("w"), nil)
		if _, err := tx.Cursor("w"); !errors.Is(err, changelog.ErrNotFound) {
			t.Errorf("tx.Cursor after tx.DeleteCursor = %v, want ErrNotFound", err)
		}
		return errors.New("rolled back")
	})
	if cs, err := f.s.Cursors(f.ctx); err != nil || !maps.Equal(cs, map[string]uint64{"w": 3}) {
		t.Errorf("Cursors = %v, %v; want w at 3 (v deleted, w's delete rolled back)", cs, err)
	}
}

// consumer is a sync worker in small: it keeps a copy of every contact in its own state and saves its cursor in
// the transaction of its effects, at done.
type consumer struct {
	f    *fixture
	name string
}

// run replays from the saved cursor, applies every task and saves done's revision, all in one Update that
// fails on purpose when fail is set. It returns the tasks it applied.
func (c consumer) run(fail bool) []string {
	c.f.t.Helper()
	from := max(c.f.cursor(c.name), 0)
	tasks := c.f.tasks(uint64(from))
	err := c.f.s.Update(c.f.ctx, func(tx Tx) error {
		for _, task := range tasks {
			var err error
			switch task.Op {
			case changelog.OpAdd, changelog.OpUpdate:
				err = c.f.s.PutState(tx, "copy "+task.ID, string(task.Contact.Data))
			case changelog.OpRemove:
				err = c.f.s.PutState(tx, "copy "+task.ID, "")
			case changelog.OpDone:
				err = tx.SetCursor(c.name, task.Rev)
			}
			if err != nil {
				return err
			}
		}
		if fail {
			return errors.New("killed before the commit")
		}
		return nil
	})
	if err != nil && !fail {
		c.f.t.Fatalf("consumer: %v", err)
	}
	return renderAll(tasks)
}

func checkCursorWithEffects(t *testing.T, open Opener) {
	f := use(t, open)
	w := consumer{f: f, name: "w"}
	f.add(changelog.Local, card("a", 1))
	f.add(changelog.Local, card("b", 1))
	w.run(false)
	if f.cursor("w") != 2 || f.state("copy a") != string(card("a", 1).Data) || f.state("copy b") != string(card("b", 1).Data) {
		t.Fatalf("after the first run: cursor %d, copies %q and %q", f.cursor("w"), f.state("copy a"), f.state("copy b"))
	}
	f.update(func(tx Tx) error {
		if _, err := tx.Replace(home, card("a", 2)); err != nil {
			return err
		}
		if err := tx.Remove(changelog.Local, "b"); err != nil {
			return err
		}
		_, err := tx.Add(changelog.Local, card("c", 1))
		return err
	})
	failed := w.run(true)
	if f.cursor("w") != 2 || f.state("copy a") != string(card("a", 1).Data) || f.state("copy c") != "" {
		t.Errorf("after a run that failed: cursor %d, copy of a %q, copy of c %q; want everything as before", f.cursor("w"), f.state("copy a"), f.state("copy c"))
	}
	// The run after the failure replays exactly what the failed one did not keep.
	if again := w.run(false); !slices.Equal(again, failed) {
		t.Errorf("the run after a failure applied %v, want the failed run's %v", again, failed)
	}
	if f.cursor("w") != 5 || f.state("copy a") != string(card("a", 2).Data) || f.state("copy b") != "" || f.state("copy c") != string(card("c", 1).Data) {
		t.Errorf("after the second run: cursor %d, copies a %q, b %q, c %q", f.cursor("w"), f.state("copy a"), f.state("copy b"), f.state("copy c"))
	}
	if idle := w.run(false); !slices.Equal(idle, []string{"done@5"}) {
		t.Errorf("a run with nothing new applied %v, want only done@5", idle)
	}
}
