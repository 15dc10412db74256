package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/contactsync/contactsync/changelog"
)

func checkConflicts(t *testing.T, open Opener) {
	f := use(t, open)
	f.add(changelog.Local, card("a", 1))
	c := changelog.Conflict{ID: "c1", ContactID: "a", Property: "NOTE", Group: "item1", Kind: "edit", Winner: "NOTE:mine",
		Loser: "NOTE:theirs", Side: "remote", Remote: "home", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.update(func(tx Tx) error {
		if err := tx.RecordConflict(c); err != nil {
			return err
		}
		if got, err := tx.Conflict("c1"); err != nil || got.Loser != c.Loser {
			t.Errorf("Conflict(c1) in the recording tx = %+v, %v", got, err)
		}
		return nil
	})
	// Recording an ID already kept changes nothing (a retried sync, another device).
	again := c
	again.Loser = "NOTE:other"
	f.update(func(tx Tx) error { return tx.RecordConflict(again) })
	kept, err := f.s.Conflicts(f.ctx, false)
	if err != nil || len(kept) != 1 {
		t.Fatalf("open conflicts = %+v, %v; want c1 alone", kept, err)
	}
	got := kept[0]
	if got.ID != c.ID || got.ContactID != c.ContactID || got.Property != c.Property || got.Group != c.Group || got.Kind != c.Kind ||
		got.Winner != c.Winner || got.Loser != c.Loser || got.Side != c.Side || got.Remote != c.Remote || !got.At.Equal(c.At) ||
		got.Recorded.IsZero() || got.ResolvedRev != 0 || got.Resolution != "" {
		t.Errorf("conflict kept as %+v, want %+v, open, with the time it was recorded", got, c)
	}

	err = f.s.Update(f.ctx, func(tx Tx) error { return tx.ResolveConflict("nope", "kept-winner") })
	wantErr(t, "ResolveConflict of an unknown ID", err, changelog.ErrNotFound)
	// Resolving is a change in the log: the edit first, then the resolution, in one tx.
	f.update(func(tx Tx) error {
		if _, err := tx.Replace(changelog.Local, card("a", 2)); err != nil {
			return err
		}
		return tx.ResolveConflict("c1", "took-loser")
	})
	if ids := f.conflictIDs(false); len(ids) != 0 {
		t.Errorf("open conflicts after resolving = %v, want none", ids)
	}
	all, err := f.s.Conflicts(f.ctx, true)
	if err != nil || len(all) != 1 || all[0].ResolvedRev != 2 || all[0].Resolution != "took-loser" {
		t.Errorf("all conflicts = %+v, %v; want c1 resolved at 2, took-loser", all, err)
	}
	err = f.s.Update(f.ctx, func(tx Tx) error { return tx.ResolveConflict("c1", "kept-winner") })
	wantErr(t, "ResolveConflict of a resolved conflict", err, changelog.ErrNotFound)

	// Both roll back with their transaction.
	f.update(func(tx Tx) error { return tx.RecordConflict(conflictOn("c2", "a")) })
	boom := errors.New("boom")
	err = f.s.Update(f.ctx, func(tx Tx) error {
		if err := tx.RecordConflict(conflictOn("c3", "a")); err != nil {
			return err
		}
		if _, err := tx.Replace(changelog.Local, card("a", 3)); err != nil {
			return err
		}
		if err := tx.ResolveConflict("c2", "kept-winner"); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "Update that fails", err, boom)
	if openIDs, all := f.conflictIDs(false), f.conflictIDs(true); !slices.Equal(openIDs, []string{"c2"}) || !slices.Equal(all, []string{"c1", "c2"}) {
		t.Errorf("after a rolled-back record and resolve: open %v, all %v; want [c2] and [c1 c2]", openIDs, all)
	}
}
