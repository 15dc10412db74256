package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/contactsync/contactsync/changelog"
)

func checkEmpty(t *testing.T, open Opener) {
	f := use(t, open)
	if last, h := f.last(), f.horizon(); last != 0 || h != 0 {
		t.Errorf("new store: LastRevision %d, Horizon %d; want 0 and 0", last, h)
	}
	if got := renderAll(f.tasks(0)); len(got) != 1 || got[0] != "done@0" {
		t.Errorf("Sync(0) on a new store = %v, want [done@0]", got)
	}
	if len(f.contents()) != 0 {
		t.Errorf("new store holds contacts: %v", f.contents())
	}
	if _, err := f.s.Get(f.ctx, "a"); !errors.Is(err, changelog.ErrNotFound) {
		t.Errorf("Get on a new store = %v, want ErrNotFound", err)
	}
	if cs, err := f.s.Cursors(f.ctx); err != nil || len(cs) != 0 {
		t.Errorf("Cursors on a new store = %v, %v; want none", cs, err)
	}
	if cs, err := f.s.Conflicts(f.ctx, true); err != nil || len(cs) != 0 {
		t.Errorf("Conflicts on a new store = %v, %v; want none", cs, err)
	}
}

func checkAdd(t *testing.T, open Opener) {
	f := use(t, open)
	// Bytes that are not UTF-8, a NUL and bare CRs must come back exactly as given; Rev and Updated are the
	// store's to set.
	data := []byte("BEGIN:VCARD\r\nN;CHARSET=ISO-8859-1:M\xfcller\r\nNOTE:a\x00b\rc\nEND:VCARD\r\n")
	stored := f.add(changelog.Local, changelog.Contact{ID: "a", Data: data, Source: "facebook", Rev: 99})
	if stored.ID != "a" || string(stored.Data) != string(data) || stored.Source != "facebook" || stored.Rev != 1 || stored.Updated.IsZero() {
		t.Errorf("Add returned %+v, want a at revision 1 with its data, source and a time", stored)
	}
	got, err := f.s.Get(f.ctx, "a")
	if err != nil || !contactEqual(got, stored) {
		t.Errorf("Get = %+v, %v; want what Add returned, %+v", got, err, stored)
	}
	err = f.s.Update(f.ctx, func(tx Tx) error { _, err := tx.Add(home, card("a", 2)); return err })
	wantErr(t, "Add of a taken ID", err, changelog.ErrExists)
	if again := f.add(changelog.Local, card("b", 1)); again.Rev != 2 {
		t.Errorf("Add after a refused Add took revision %d, want 2: a refused change takes no revision", again.Rev)
	}
	if got, _ := f.s.Get(f.ctx, "a"); string(got.Data) != string(data) {
		t.Errorf("a refused Add changed the contact: %q", got.Data)
	}
}

func checkReplace(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, changelog.Contact{ID: "a", Data: []byte("v1"), Source: "facebook"})
	var replaced changelog.Contact
	f.update(func(tx Tx) (err error) {
		replaced, err = tx.Replace(home, changelog.Contact{ID: "a", Data: []byte("v2")})
		return err
	})
	got, err := f.s.Get(f.ctx, "a")
	if err != nil || string(got.Data) != "v2" || got.Source != "" || got.Rev != 2 || !contactEqual(got, replaced) {
		t.Errorf("after Replace, Get = %+v, %v; want data v2, the source cleared, revision 2, as Replace returned (%+v)", got, err, replaced)
	}
	err = f.s.Update(f.ctx, func(tx Tx) error { _, err := tx.Replace(changelog.Local, card("b", 1)); return err })
	wantErr(t, "Replace of an absent contact", err, changelog.ErrNotFound)
	if f.last() != 2 {
		t.Errorf("LastRevision = %d after a refused Replace, want 2", f.last())
	}
}

func checkRemove(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, card("a", 1))
	f.add(changelog.Local, card("b", 1))
	f.update(func(tx Tx) error { return tx.Remove(home, "a") })
	f.wantContents(map[string]int{"b": 1})
	err := f.s.Update(f.ctx, func(tx Tx) error { return tx.Remove(changelog.Local, "a") })
	wantErr(t, "Remove of an absent contact", err, changelog.ErrNotFound)
	if _, err := f.s.Get(f.ctx, "a"); !errors.Is(err, changelog.ErrNotFound) {
		t.Errorf("Get of a removed contact = %v, want ErrNotFound", err)
	}
	if f.last() != 3 {
		t.Errorf("LastRevision = %d, want 3", f.last())
	}
	// The ID is free again, and its new add takes a new revision.
	if c := f.add(changelog.Local, card("a", 2)); c.Rev != 4 {
		t.Errorf("re-adding a removed ID took revision %d, want 4", c.Rev)
	}
}

func checkClear(t *testing.T, open Opener) {
	f := use(t, open)
	f.update(func(tx Tx) error { return tx.Clear(home) })
	if f.last() != 1 {
		t.Errorf("Clear of an empty store: LastRevision %d, want 1 (a clear always takes a revision)", f.last())
	}
	f.add(changelog.Local, card("a", 1))
	f.add(changelog.Local, card("b", 1))
	f.update(func(tx Tx) error { return tx.Clear(changelog.Local) })
	f.wantContents(map[string]int{})
	if f.last() != 4 {
		t.Errorf("LastRevision = %d, want 4 (one revision for the clear of two contacts)", f.last())
	}
}

func checkInvalid(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, card("a", 1))
	tests := []struct {
		name string
		do   func(Tx) error
	}{
		{"add with an empty ID", func(tx Tx) error { _, err := tx.Add(changelog.Local, card("", 1)); return err }},
		{"add with an empty vCard", func(tx Tx) error { _, err := tx.Add(changelog.Local, changelog.Contact{ID: "b"}); return err }},
		{"add with an ID that is not UTF-8", func(tx Tx) error { _, err := tx.Add(changelog.Local, card("\xff", 1)); return err }},
		{"add with a source that is not UTF-8", func(tx Tx) error {
			c := card("b", 1)
			c.Source = "\xff"
			_, err := tx.Add(changelog.Local, c)
			return err
		}},
		{"add from an unknown origin", func(tx Tx) error { _, err := tx.Add("elsewhere", card("b", 1)); return err }},
		{"replace with an empty vCard", func(tx Tx) error { _, err := tx.Replace(changelog.Local, changelog.Contact{ID: "a"}); return err }},
		{"remove with an empty ID", func(tx Tx) error { return tx.Remove(changelog.Local, "") }},
		{"remove from a remote without a name", func(tx Tx) error { return tx.Remove(changelog.FromRemote(""), "a") }},
		{"clear from an empty origin", func(tx Tx) error { return tx.Clear("") }},
		{"apply from an unknown origin", func(tx Tx) error {
			_, err := tx.Apply("elsewhere", []changelog.Change{{Op: changelog.OpAdd, Contact: card("b", 1)}})
			return err
		}},
		{"apply of done", func(tx Tx) error {
			_, err := tx.Apply(changelog.Local, []changelog.Change{{Op: changelog.OpDone}})
			return err
		}},
		{"cursor with an empty name", func(tx Tx) error { return tx.SetCursor("", 0) }},
		{"conflict without an ID", func(tx Tx) error { return tx.RecordConflict(changelog.Conflict{ContactID: "a"}) }},
		{"conflict without a contact", func(tx Tx) error { return tx.RecordConflict(changelog.Conflict{ID: "c"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name, f.s.Update(f.ctx, tt.do), changelog.ErrInvalid)
			if f.last() != 1 {
				t.Fatalf("LastRevision = %d, want 1: a refused change took a revision", f.last())
			}
		})
	}
	f.wantContents(map[string]int{"a": 1})
}

// checkRefusedChange makes every kind of refused change inside one callback that then commits: each takes no
// revision, and the changes around them commit.
func checkRefusedChange(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, card("a", 1))
	f.update(func(tx Tx) error {
		_, err := tx.Add(changelog.Local, card("a", 2))
		wantErr(t, "Add of a taken ID", err, changelog.ErrExists)
		_, err = tx.Replace(changelog.Local, card("x", 1))
		wantErr(t, "Replace of an absent ID", err, changelog.ErrNotFound)
		wantErr(t, "Remove of an absent ID", tx.Remove(changelog.Local, "x"), changelog.ErrNotFound)
		_, err = tx.Add(changelog.Local, changelog.Contact{ID: "b"})
		wantErr(t, "Add of an empty vCard", err, changelog.ErrInvalid)
		if tx.LastRevision() != 1 {
			t.Errorf("tx.LastRevision = %d after refused changes, want 1", tx.LastRevision())
		}
		c, err := tx.Add(changelog.Local, card("b", 1))
		if err != nil {
			return err
		}
		if c.Rev != 2 {
			t.Errorf("the add after refused changes took revision %d, want 2", c.Rev)
		}
		return nil
	})
	f.wantContents(map[string]int{"a": 1, "b": 1})
	if f.last() != 2 {
		t.Errorf("LastRevision = %d, want 2", f.last())
	}
}

// checkRevisions makes changes in every way a store offers, including ones that fail or roll back, and checks
// that each change takes exactly the next revision.
func checkRevisions(t *testing.T, open Opener) {
	f := use(t, open)
	want := uint64(0)
	next := func(what string, rev uint64) {
		t.Helper()
		want++
		if rev != want {
			t.Errorf("%s took revision %d, want %d", what, rev, want)
			want = rev
		}
	}
	next("an add", f.add(changelog.Local, card("a", 1)).Rev)
	f.update(func(tx Tx) error {
		for i, id := range []string{"b", "c", "d"} {
			c, err := tx.Add(home, card(id, 1))
			if err != nil {
				return err
			}
			next("an add in a transaction of three", c.Rev)
			if tx.LastRevision() != want {
				t.Errorf("tx.LastRevision = %d after %d adds, want %d", tx.LastRevision(), i+1, want)
			}
		}
		c, err := tx.Replace(changelog.Local, card("b", 2))
		if err != nil {
			return err
		}
		next("an update", c.Rev)
		if err := tx.Remove(changelog.Local, "c"); err != nil {
			return err
		}
		next("a remove", tx.LastRevision())
		return nil
	})
	_ = f.s.Update(f.ctx, func(tx Tx) error {
		if _, err := tx.Add(changelog.Local, card("e", 1)); err != nil {
			return err
		}
		return errors.New("rolled back")
	})
	var last uint64
	f.update(func(tx Tx) (err error) {
		last, err = tx.Apply(changelog.Local, []changelog.Change{
			{Op: changelog.OpAdd, Contact: card("e", 1)},
			{Op: changelog.OpUpdate, Contact: card("e", 2)},
			{Op: changelog.OpRemove, Contact: changelog.Contact{ID: "d"}},
		})
		return err
	})
	want += 3
	if last != want {
		t.Errorf("a batch of three after a rolled-back add ends at %d, want %d", last, want)
		want = last
	}
	if e, err := f.s.Get(f.ctx, "e"); err != nil || e.Rev != want-1 {
		t.Errorf("e = %+v, %v; want it at revision %d, the batch's update", e, err, want-1)
	}
	f.update(func(tx Tx) error { return tx.Clear(changelog.Local) })
	next("a clear", f.last())
	next("an add after a clear", f.add(changelog.Local, card("a", 3)).Rev)
	if done := f.tasks(0); done[len(done)-1].Rev != want {
		t.Errorf("Sync(0) ends with %s, want done@%d", render(done[len(done)-1]), want)
	}
}

func checkApply(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, card("a", 1))
	batch := []changelog.Change{
		{Op: changelog.OpAdd, Contact: card("b", 1)},
		{Op: changelog.OpUpdate, Contact: card("a", 2)},
		{Op: changelog.OpAdd, Contact: card("a", 3)}, // fails: a exists
		{Op: changelog.OpAdd, Contact: card("c", 1)},
	}
	f.update(func(tx Tx) error {
		if _, err := tx.Apply(home, batch); !errors.Is(err, changelog.ErrExists) {
			t.Errorf("Apply of a batch whose third change adds a taken ID = %v, want ErrExists", err)
		}
		if tx.LastRevision() != 1 {
			t.Errorf("tx.LastRevision = %d after a failed batch, want 1", tx.LastRevision())
		}
		if missing, err := tx.Missing([]string{"a", "b", "c"}); err != nil || !slices.Equal(missing, []string{"b", "c"}) {
			t.Errorf("Missing after a failed batch = %v, %v; want [b c]", missing, err)
		}
		if a, err := tx.Get("a"); err != nil || string(a.Data) != string(card("a", 1).Data) {
			t.Errorf("a after a failed batch = %q, %v; want version 1", a.Data, err)
		}
		if last, err := tx.Apply(home, nil); err != nil || last != 1 {
			t.Errorf("Apply of an empty batch = %d, %v; want 1", last, err)
		}
		// The transaction goes on after the failed batch.
		last, err := tx.Apply(home, batch[:2])
		if err != nil || last != 3 {
			t.Errorf("Apply of two changes = %d, %v; want 3 (none lost to the failed batch)", last, err)
		}
		return err
	})
	f.wantContents(map[string]int{"a": 2, "b": 1})
	if got := renderAll(f.tasks(1)); !slices.Equal(got, []string{"update a@3 [remote:home]", "add b@2 [remote:home]", "done@3"}) {
		t.Errorf("Sync(1) = %v", got)
	}
	err := f.s.Update(f.ctx, func(tx Tx) error {
		_, err := tx.Apply(changelog.Local, []changelog.Change{{Op: changelog.OpRemove, Contact: changelog.Contact{ID: "b"}}, {Op: changelog.OpRemove, Contact: changelog.Contact{ID: "zz"}}})
		return err
	})
	wantErr(t, "Apply that removes an absent contact", err, changelog.ErrNotFound)
	f.wantContents(map[string]int{"a": 2, "b": 1})
}
