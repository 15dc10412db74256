package storetest

import (
	"slices"
	"testing"

	"github.com/contactsync/contactsync/changelog"
)

func (f *fixture) trim() uint64 {
	f.t.Helper()
	h, err := f.s.Trim(f.ctx)
	if err != nil {
		f.t.Fatalf("Trim: %v", err)
	}
	if got := f.horizon(); got != h {
		f.t.Errorf("Trim returned horizon %d, Horizon says %d", h, got)
	}
	return h
}

func checkTrim(t *testing.T, open Opener) {
	f := use(t, open)
	f.script(map[string]int{}, "add a", "add b", "add c")
	if h := f.trim(); h != 3 {
		t.Errorf("Trim with no cursor = %d, want 3: the whole log", h)
	}
	if got := renderAll(f.tasks(3)); !slices.Equal(got, []string{"done@3"}) {
		t.Errorf("Sync(3) at the horizon = %v, want [done@3]", got)
	}
	if got := renderAll(f.tasks(2)); !slices.Equal(got, []string{"clear@3", "add a@1", "add b@2", "add c@3", "done@3"}) {
		t.Errorf("Sync(2) below the horizon = %v, want clear and every contact", got)
	}
	// Revisions go on from the last one, not from what the log still holds.
	if c := f.add(changelog.Local, card("d", 1)); c.Rev != 4 {
		t.Errorf("the add after a trim of the whole log took revision %d, want 4", c.Rev)
	}
	f.script(map[string]int{}, "cursor w", "add e", "add f")
	if h := f.trim(); h != 4 {
		t.Errorf("Trim with a cursor at 4 = %d, want 4", h)
	}
	// A cursor may be set below the horizon (it then starts over), but the horizon never moves back.
	wantErr(t, "SetCursor(v, 1)", f.s.SetCursor(f.ctx, "v", 1), nil)
	if h := f.trim(); h != 4 {
		t.Errorf("Trim with a cursor below the horizon = %d, want 4 (never back)", h)
	}
	if got := renderAll(f.tasks(4)); !slices.Equal(got, []string{"add e@5 [local]", "add f@6 [local]", "done@6"}) {
		t.Errorf("Sync(4) from the horizon = %v, want the adds of e and f from the log", got)
	}
	wantErr(t, "DeleteCursor(v)", f.s.DeleteCursor(f.ctx, "v"), nil)
	wantErr(t, "SetCursor(w, 5)", f.s.SetCursor(f.ctx, "w", 5), nil)
	if h := f.trim(); h != 5 {
		t.Errorf("Trim once the cursors are at 5 = %d, want 5", h)
	}
	f.wantContents(map[string]int{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1})
}
