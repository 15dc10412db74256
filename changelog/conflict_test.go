package changelog

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestConflictsRecordListResolve(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Add(ctx, Local, card("a", 1)); err != nil {
		t.Fatal(err)
	}
	c := Conflict{ID: "c1", ContactID: "a", Property: "NOTE", Kind: "edit", Winner: "NOTE:mine", Loser: "NOTE:theirs",
		Side: "remote", Remote: "home", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for range 2 { // recording the same conflict twice keeps one
		if err := s.Update(ctx, func(tx *Tx) error { return tx.RecordConflict(c) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.RecordConflict(Conflict{ContactID: "a"}) }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("conflict without ID: %v, want ErrInvalid", err)
	}
	open, err := s.Conflicts(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].Loser != "NOTE:theirs" || open[0].Remote != "home" || !open[0].At.Equal(c.At) || open[0].ResolvedRev != 0 {
		t.Fatalf("open conflicts = %+v", open)
	}

	// Resolving is a change in the log: the edit and the resolution commit together.
	err = s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.Replace(Local, card("a", 2)); err != nil {
			return err
		}
		return tx.ResolveConflict("c1", "took-loser")
	})
	if err != nil {
		t.Fatal(err)
	}
	last, _ := s.LastRevision(ctx)
	if open, _ := s.Conflicts(ctx, false); len(open) != 0 {
		t.Fatalf("still open after resolve: %+v", open)
	}
	all, _ := s.Conflicts(ctx, true)
	if len(all) != 1 || all[0].ResolvedRev != last || all[0].Resolution != "took-loser" {
		t.Fatalf("all conflicts = %+v, want c1 resolved at %d", all, last)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.ResolveConflict("c1", "kept-winner") }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("resolving twice: %v, want ErrNotFound", err)
	}

	// A failed transaction records nothing.
	boom := errors.New("boom")
	_ = s.Update(ctx, func(tx *Tx) error {
		if err := tx.RecordConflict(Conflict{ID: "c2", ContactID: "a", Property: "FN", Kind: "edit", Side: "local"}); err != nil {
			return err
		}
		return boom
	})
	if all, _ := s.Conflicts(ctx, true); len(all) != 1 {
		t.Fatalf("a rolled-back conflict was kept: %+v", all)
	}
}
