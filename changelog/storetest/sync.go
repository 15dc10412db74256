package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/changelog"
)

// script applies steps such as "add a", "home:update a", "remove a", "clear", "trim" or "cursor w" (save cursor w
// at the last revision), each in its own transaction. A step prefixed with "name:" comes from
// changelog.FromRemote(name), any other from changelog.Local. Each add or update of an ID writes the next version
// of card, counted in versions.
func (f *fixture) script(versions map[string]int, steps ...string) {
	f.t.Helper()
	for _, step := range steps {
		origin := changelog.Local
		if name, rest, ok := strings.Cut(step, ":"); ok {
			origin, step = changelog.FromRemote(name), rest
		}
		verb, id, _ := strings.Cut(step, " ")
		var err error
		switch verb {
		case "add", "update":
			versions[id]++
			c := card(id, versions[id])
			err = f.s.Update(f.ctx, func(tx Tx) error {
				if verb == "add" {
					_, err := tx.Add(origin, c)
					return err
				}
				_, err := tx.Replace(origin, c)
				return err
			})
		case "remove":
			err = f.s.Update(f.ctx, func(tx Tx) error { return tx.Remove(origin, id) })
		case "clear":
			err = f.s.Update(f.ctx, func(tx Tx) error { return tx.Clear(origin) })
		case "trim":
			_, err = f.s.Trim(f.ctx)
		case "cursor":
			err = f.s.SetCursor(f.ctx, id, f.last())
		default:
			f.t.Fatalf("bad script step %q", step)
		}
		if err != nil {
			f.t.Fatalf("step %q: %v", step, err)
		}
	}
}

func checkSyncFolding(t *testing.T, open Opener) {
	tests := []struct {
		name   string
		before []string // applied before the consumer's cursor is taken
		after  []string
		want   []string // the contacts' tasks sorted by ID
	}{
		{name: "nothing new", before: []string{"add a"}, want: []string{"done@1"}},
		{name: "add", after: []string{"add a"}, want: []string{"add a@1 [local]", "done@1"}},
		{name: "updates fold into the add", after: []string{"add a", "home:update a", "update a"},
			want: []string{"add a@3 [local remote:home]", "done@3"}},
		{name: "add and remove cancel out", after: []string{"add a", "update a", "remove a"}, want: []string{"done@3"}},
		{name: "updates fold into one", before: []string{"add a"}, after: []string{"home:update a", "home:update a"},
			want: []string{"update a@3 [remote:home]", "done@3"}},
		{name: "remove drops earlier updates", before: []string{"add a"}, after: []string{"update a", "home:remove a"},
			want: []string{"remove a@3 [local remote:home]", "done@3"}},
		{name: "remove then add of an existing contact is an update", before: []string{"add a"}, after: []string{"remove a", "home:add a"},
			want: []string{"update a@3 [local remote:home]", "done@3"}},
		{name: "remove then add of a new contact is an add", after: []string{"add a", "remove a", "add a"},
			want: []string{"add a@3 [local]", "done@3"}},
		{name: "contacts fold independently", before: []string{"add a", "add b"}, after: []string{"update b", "add c", "remove a", "update c"},
			want: []string{"remove a@5 [local]", "update b@3 [local]", "add c@6 [local]", "done@6"}},
		{name: "clear then every contact as add", before: []string{"add a", "add b"},
			after: []string{"update a", "home:clear", "add c", "add a"},
			want:  []string{"clear@4 [remote:home]", "add a@6 [local]", "add c@5 [local]", "done@6"}},
		{name: "clear of everything", before: []string{"add a"}, after: []string{"clear"}, want: []string{"clear@2 [local]", "done@2"}},
		{name: "clears fold into one", after: []string{"add a", "clear", "add b", "home:clear", "add c", "update c"},
			want: []string{"clear@4 [local remote:home]", "add c@6 [local]", "done@6"}},
		{name: "clear before the cursor is not replayed", before: []string{"add a", "clear", "add b"}, after: []string{"update b"},
			want: []string{"update b@4 [local]", "done@4"}},
		{name: "the worked example of docs/changelog.md", before: []string{"add a", "add b"},
			after: []string{"home:update a", "remove b", "add c", "home:update c", "add d", "remove d", "remove a", "add a"},
			want:  []string{"update a@10 [local remote:home]", "remove b@4 [local]", "add c@6 [local remote:home]", "done@10"}},
		{name: "trim up to the cursor leaves its replay whole", before: []string{"add a", "add b", "update a", "remove b", "add c"},
			after: []string{"cursor keep", "trim", "update c"},
			want:  []string{"update c@6 [local]", "done@6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := use(t, open)
			versions := map[string]int{}
			f.script(versions, tt.before...)
			from := f.last()
			f.script(versions, tt.after...)
			if got := renderAll(f.tasks(from)); !slices.Equal(got, tt.want) {
				t.Errorf("Sync(%d) =\n  %s\nwant\n  %s", from, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func checkSyncOrigins(t *testing.T, open Opener) {
	f := use(t, open)
	comma := changelog.FromRemote("a,b") // a comma must not split an origin
	f.script(map[string]int{}, "add mine", "add theirs", "add mixed", "add gone")
	from := f.last()
	f.script(map[string]int{}, "home:update theirs", "home:update theirs", "home:update mixed", "update mixed", "home:remove gone", "home:add new")
	f.update(func(tx Tx) error { _, err := tx.Add(comma, card("comma", 1)); return err })
	onlyFrom := map[string][2]bool{ // ID → OnlyFrom(home), OnlyFrom(Local)
		"theirs": {true, false},
		"mixed":  {false, false},
		"gone":   {true, false},
		"new":    {true, false},
		"comma":  {false, false},
	}
	tasks := f.tasks(from)
	for _, task := range tasks[:len(tasks)-1] {
		want, ok := onlyFrom[task.ID]
		if !ok {
			t.Errorf("unexpected task %s", render(task))
			continue
		}
		delete(onlyFrom, task.ID)
		if task.OnlyFrom(home) != want[0] || task.OnlyFrom(changelog.Local) != want[1] {
			t.Errorf("%s: OnlyFrom(home) = %v, OnlyFrom(local) = %v; want %v", render(task), task.OnlyFrom(home), task.OnlyFrom(changelog.Local), want)
		}
		if task.ID == "comma" && (!slices.Equal(task.Origins, []changelog.Origin{comma}) || !task.OnlyFrom(comma)) {
			t.Errorf("%s: origins %q, want exactly [%s]", render(task), task.Origins, comma)
		}
		if task.ID == "mixed" && !slices.Equal(task.Origins, []changelog.Origin{changelog.Local, home}) {
			t.Errorf("%s: origins %q, want [local remote:home], sorted", render(task), task.Origins)
		}
	}
	if len(onlyFrom) != 0 {
		t.Errorf("no task for %v in %v", onlyFrom, renderAll(tasks))
	}
	// From below the horizon the history is unknown: no origins, and OnlyFrom is false for everyone.
	f.script(map[string]int{}, "cursor w", "trim")
	f.add(changelog.Local, card("late", 1))
	for _, task := range f.tasks(0) {
		if len(task.Origins) != 0 || task.OnlyFrom(home) || task.OnlyFrom(changelog.Local) {
			t.Errorf("%s from below the horizon: origins %v, OnlyFrom(home) %v, OnlyFrom(local) %v; want none and false",
				render(task), task.Origins, task.OnlyFrom(home), task.OnlyFrom(changelog.Local))
		}
	}
}

// checkSyncSnapshot commits a write while a replay is being iterated: the replay must not include it.
func checkSyncSnapshot(t *testing.T, open Opener) {
	f := use(t, open)
	f.script(map[string]int{}, "add a", "add b", "add c")
	var tasks []changelog.Task
	for task, err := range f.s.Sync(f.ctx, 0) {
		if err != nil {
			t.Fatalf("Sync(0): %v", err)
		}
		tasks = append(tasks, task)
		if len(tasks) == 1 {
			f.update(func(tx Tx) error {
				for _, id := range []string{"a", "b", "c"} {
					if _, err := tx.Replace(home, card(id, 2)); err != nil {
						return err
					}
				}
				if err := tx.Remove(changelog.Local, "a"); err != nil {
					return err
				}
				_, err := tx.Add(changelog.Local, card("d", 1))
				return err
			})
		}
	}
	var got []string
	for _, task := range tasks {
		got = append(got, render(task))
		if task.Op == changelog.OpAdd && string(task.Contact.Data) != string(card(task.ID, 1).Data) {
			t.Errorf("%s carries %q, written after the replay began", render(task), task.Contact.Data)
		}
	}
	slices.Sort(got[:len(got)-1])
	if want := []string{"add a@1 [local]", "add b@2 [local]", "add c@3 [local]", "done@3"}; !slices.Equal(got, want) {
		t.Errorf("a replay during a commit = %v, want the state before it, %v", got, want)
	}
	if f.last() != 8 {
		t.Errorf("LastRevision = %d, want 8: the commit made during the replay went through", f.last())
	}
}

func checkSyncFuture(t *testing.T, open Opener) {
	f := use(t, open)
	f.script(map[string]int{}, "add a", "add b")
	tasks, err := f.replay(3)
	if !errors.Is(err, changelog.ErrFutureRevision) || len(tasks) != 0 {
		t.Errorf("Sync(3) on a store at 2 = %v, %v; want no task and ErrFutureRevision", renderAll(tasks), err)
	}
	if got := renderAll(f.tasks(2)); !slices.Equal(got, []string{"done@2"}) {
		t.Errorf("Sync(2) = %v, want [done@2]", got)
	}
	// A cursor ahead of the store is never saved either.
	wantErr(t, "SetCursor(w, 3)", f.s.SetCursor(f.ctx, "w", 3), changelog.ErrFutureRevision)
}

func checkSyncBelowHorizon(t *testing.T, open Opener) {
	f := use(t, open)
	f.script(map[string]int{}, "add a", "add b", "home:update a", "remove b", "add c", "cursor w", "add d", "trim")
	if h := f.horizon(); h != 5 {
		t.Fatalf("Horizon = %d, want 5 (the cursor)", h)
	}
	dump := []string{"clear@5", "add a@3", "add c@5", "add d@6", "done@6"}
	tests := []struct {
		from uint64
		want []string
	}{
		{0, dump},
		{4, dump},
		{5, []string{"add d@6 [local]", "done@6"}},
		{6, []string{"done@6"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("from ", tt.from), func(t *testing.T) {
			if got := renderAll(f.tasks(tt.from)); !slices.Equal(got, tt.want) {
				t.Errorf("Sync(%d) = %v, want %v", tt.from, got, tt.want)
			}
		})
	}
}

func checkSyncStoppedEarly(t *testing.T, open Opener) {
	f := use(t, open)
	f.script(map[string]int{}, "add a", "add b", "add c")
	// More early stops than a backend is likely to have readers: each must give back what it held.
	for range 20 {
		n := 0
		for _, err := range f.s.Sync(f.ctx, 0) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 2 {
				break // the iterator must not yield again (the runtime panics if it does)
			}
		}
		if n != 2 {
			t.Fatalf("broke out of Sync after %d tasks, want 2", n)
		}
	}
	f.add(changelog.Local, card("d", 1))
	if got := renderAll(f.tasks(3)); !slices.Equal(got, []string{"add d@4 [local]", "done@4"}) {
		t.Errorf("Sync(3) after stopped replays = %v", got)
	}
}

func checkSyncCancelled(t *testing.T, open Opener) {
	f := use(t, open)
	f.script(map[string]int{}, "add a", "add b")
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	var errs []error
	for _, err := range f.s.Sync(ctx, 0) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("Sync with a cancelled context yielded the errors %v, want one wrapping context.Canceled", errs)
	}
}
