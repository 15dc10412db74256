package changelog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"
)

func TestTrim(t *testing.T) {
	tests := []struct {
		name      string
		retention Retention
		cursors   map[string]uint64
		want      uint64 // horizon after trimming a log of 10 changes made an hour apart
	}{
		{name: "no cursors trims everything", want: 10},
		{name: "oldest cursor bounds the trim", cursors: map[string]uint64{"a": 7, "b": 3}, want: 3},
		{name: "a cursor at zero keeps everything", cursors: map[string]uint64{"a": 0, "b": 9}, want: 0},
		{name: "min revisions keep more than the cursors need", retention: Retention{MinRevisions: 4}, cursors: map[string]uint64{"a": 9}, want: 6},
		{name: "min revisions do not drop what a cursor needs", retention: Retention{MinRevisions: 4}, cursors: map[string]uint64{"a": 2}, want: 2},
		{name: "min revisions beyond the log keep all", retention: Retention{MinRevisions: 40}, want: 0},
		{name: "max revisions drop what a stale cursor needs", retention: Retention{MaxRevisions: 4}, cursors: map[string]uint64{"a": 2}, want: 6},
		{name: "max revisions above the cursor change nothing", retention: Retention{MaxRevisions: 9}, cursors: map[string]uint64{"a": 5}, want: 5},
		// Change r is made at hour r; the trim runs at hour 10.
		{name: "min age keeps young changes", retention: Retention{MinAge: 3*time.Hour + time.Minute}, want: 6},
		{name: "min age at an exact change time keeps it", retention: Retention{MinAge: 3 * time.Hour}, want: 6},
		{name: "max age drops old changes a cursor needs", retention: Retention{MaxAge: 2 * time.Hour}, cursors: map[string]uint64{"a": 1}, want: 7},
		{name: "max age with nothing that old", retention: Retention{MaxAge: 20 * time.Hour}, cursors: map[string]uint64{"a": 1}, want: 1},
		{name: "min and max together", retention: Retention{MinRevisions: 2, MaxRevisions: 5}, cursors: map[string]uint64{"a": 1, "b": 9}, want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clock := newTestClock()
			s := openTest(t, WithClock(clock.Now), WithRetention(tt.retention))
			for i := 1; i <= 10; i++ {
				clock.Advance(time.Hour)
				if _, err := s.Add(ctx, Local, card(fmt.Sprint(i), 1)); err != nil {
					t.Fatal(err)
				}
			}
			for name, rev := range tt.cursors {
				if err := s.SetCursor(ctx, name, rev); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Trim(ctx)
			if err != nil || got != tt.want {
				t.Fatalf("Trim = %d, %v; want %d", got, err, tt.want)
			}
			if h, err := s.Horizon(ctx); err != nil || h != tt.want {
				t.Errorf("Horizon = %d, %v; want %d", h, err, tt.want)
			}
			checkIntegrity(t, s.readers)
			if n := len(readLog(t, s)); n != 10-int(tt.want) {
				t.Errorf("log keeps %d rows, want %d", n, 10-tt.want)
			}
			// Every cursor at or above the horizon still replays from the log; one below it starts over.
			for name, rev := range tt.cursors {
				tasks := collect(t, s, rev)
				if startsOver := tasks[0].Op == OpClear; startsOver != (rev < tt.want) {
					t.Errorf("cursor %s at %d: replay starts with clear = %v, horizon %d", name, rev, startsOver, tt.want)
				}
			}
		})
	}
}

func TestTrimNeverMovesBack(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	runScript(t, s, map[string]int{}, []string{"add a", "add b", "add c", "cursor w"})
	if h, err := s.Trim(ctx); err != nil || h != 3 {
		t.Fatalf("Trim = %d, %v; want 3", h, err)
	}
	if err := s.SetCursor(ctx, "w", 1); err != nil {
		t.Fatal(err)
	}
	if h, err := s.Trim(ctx); err != nil || h != 3 {
		t.Fatalf("Trim after a cursor moved back = %d, %v; want 3 still", h, err)
	}
	runScript(t, s, map[string]int{"a": 1}, []string{"update a", "clear", "add d"})
	if err := s.DeleteCursor(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	if h, err := s.Trim(ctx); err != nil || h != 6 {
		t.Fatalf("Trim with no cursor left = %d, %v; want 6", h, err)
	}
	// Revisions go on from the counter, not from what the log still holds.
	if c, err := s.Add(ctx, Local, card("e", 1)); err != nil || c.Rev != 7 {
		t.Fatalf("Add after trimming the whole log = rev %d, %v; want 7", c.Rev, err)
	}
	checkIntegrity(t, s.readers)
}

func TestCursors(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	runScript(t, s, map[string]int{}, []string{"add a", "add b"})
	if _, err := s.Cursor(ctx, "w"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Cursor(unsaved) = %v, want ErrNotFound", err)
	}
	steps := []struct {
		name    string
		set     string
		rev     uint64
		wantErr error
	}{
		{"save", "w", 2, nil},
		{"another", "carddav:home", 1, nil},
		{"move back", "w", 0, nil},
		{"future", "w", 3, ErrFutureRevision},
		{"empty name", "", 1, ErrInvalid},
		{"name not UTF-8", "\xff", 1, ErrInvalid},
	}
	for _, st := range steps {
		if err := s.SetCursor(ctx, st.set, st.rev); !errors.Is(err, st.wantErr) || (err == nil) != (st.wantErr == nil) {
			t.Errorf("%s: SetCursor(%q, %d) = %v, want %v", st.name, st.set, st.rev, err, st.wantErr)
		}
	}
	got, err := s.Cursors(ctx)
	if want := map[string]uint64{"w": 0, "carddav:home": 1}; err != nil || !maps.Equal(got, want) {
		t.Errorf("Cursors = %v, %v; want %v", got, err, want)
	}
	// Inside a transaction a cursor may point at a revision the same transaction made.
	err = s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.Add(Local, card("c", 1)); err != nil {
			return err
		}
		if err := tx.SetCursor("w", 3); err != nil {
			return err
		}
		rev, err := tx.Cursor("w")
		if err == nil && rev != 3 {
			err = fmt.Errorf("tx.Cursor = %d, want 3", rev)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCursor(ctx, "carddav:home"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCursor(ctx, "carddav:home"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteCursor = %v, want ErrNotFound", err)
	}
	if got, err := s.Cursors(ctx); err != nil || !maps.Equal(got, map[string]uint64{"w": 3}) {
		t.Errorf("Cursors = %v, %v; want only w at 3", got, err)
	}
}
