package changelog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// runScript applies steps such as "add a", "home:update a", "remove a", "clear", "trim" or "cursor w" (save
// cursor w at the last revision). A step prefixed with "name:" comes from Remote(name), otherwise from Local.
// Each add or update of an ID writes the next version of card().
func runScript(t *testing.T, s *Store, versions map[string]int, steps []string) {
	t.Helper()
	ctx := context.Background()
	for _, step := range steps {
		origin := Local
		if name, rest, ok := strings.Cut(step, ":"); ok {
			origin, step = FromRemote(name), rest
		}
		verb, id, _ := strings.Cut(step, " ")
		var err error
		switch verb {
		case "add":
			versions[id]++
			_, err = s.Add(ctx, origin, card(id, versions[id]))
		case "update":
			versions[id]++
			_, err = s.Replace(ctx, origin, card(id, versions[id]))
		case "remove":
			err = s.Remove(ctx, origin, id)
		case "clear":
			err = s.Clear(ctx, origin)
		case "trim":
			_, err = s.Trim(ctx)
		case "cursor":
			var last uint64
			if last, err = s.LastRevision(ctx); err == nil {
				err = s.SetCursor(ctx, id, last)
			}
		default:
			t.Fatalf("bad script step %q", step)
		}
		if err != nil {
			t.Fatalf("step %q: %v", step, err)
		}
	}
}

// sortTasks orders tasks for comparison: Sync yields clear first and done last, and the contacts' tasks in no
// particular order, which tests compare by ID.
func sortTasks(tasks []Task) []Task {
	rank := func(t Task) int {
		switch t.Op {
		case OpClear:
			return 0
		case OpDone:
			return 2
		}
		return 1
	}
	slices.SortStableFunc(tasks, func(a, b Task) int {
		if c := rank(a) - rank(b); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return tasks
}

// describe renders a task as "op id@rev [origins]" and checks that an add or update carries the contact exactly
// as the store holds it now.
func describe(t *testing.T, now map[string]Contact, task Task) string {
	t.Helper()
	if task.Op == OpAdd || task.Op == OpUpdate {
		cur, ok := now[task.ID]
		if !ok || !bytes.Equal(task.Contact.Data, cur.Data) || task.Contact.Rev != cur.Rev || task.Contact.ID != task.ID {
			t.Errorf("%s %s carries %+v, want the current contact %+v", task.Op, task.ID, task.Contact, cur)
		}
		if task.Rev != cur.Rev {
			t.Errorf("%s %s has Rev %d, want the contact's last revision %d", task.Op, task.ID, task.Rev, cur.Rev)
		}
	}
	out := task.Op.String()
	if task.ID != "" {
		out += " " + task.ID
	}
	out += fmt.Sprintf("@%d", task.Rev)
	if len(task.Origins) > 0 {
		out += fmt.Sprintf(" %v", task.Origins)
	}
	return out
}

func TestSyncFolding(t *testing.T) {
	tests := []struct {
		name   string
		before []string // applied before the cursor is taken
		after  []string
		want   []string
	}{
		{name: "empty store", want: []string{"done@0"}},
		{name: "nothing new", before: []string{"add a"}, want: []string{"done@1"}},
		{name: "add", after: []string{"add a"}, want: []string{"add a@1 [local]", "done@1"}},
		{name: "updates fold into the add", after: []string{"add a", "home:update a", "update a"},
			want: []string{"add a@3 [local remote:home]", "done@3"}},
		{name: "add and remove cancel out", after: []string{"add a", "update a", "remove a"}, want: []string{"done@3"}},
		{name: "update", before: []string{"add a"}, after: []string{"home:update a", "home:update a"},
			want: []string{"update a@3 [remote:home]", "done@3"}},
		{name: "remove drops earlier updates", before: []string{"add a"}, after: []string{"update a", "home:remove a"},
			want: []string{"remove a@3 [local remote:home]", "done@3"}},
		{name: "remove then add of an existing ID is an update", before: []string{"add a"}, after: []string{"remove a", "home:add a"},
			want: []string{"update a@3 [local remote:home]", "done@3"}},
		{name: "remove then add of a new ID is an add", after: []string{"add a", "remove a", "add a"},
			want: []string{"add a@3 [local]", "done@3"}},
		{name: "contacts fold independently", before: []string{"add a", "add b"}, after: []string{"update b", "add c", "remove a", "update c"},
			want: []string{"remove a@5 [local]", "update b@3 [local]", "add c@6 [local]", "done@6"}},
		{name: "clear yields clear then every contact as add", before: []string{"add a", "add b"},
			after: []string{"update a", "home:clear", "add c", "add a"},
			want:  []string{"clear@4 [remote:home]", "add a@6 [local]", "add c@5 [local]", "done@6"}},
		{name: "clear of everything", before: []string{"add a"}, after: []string{"clear"}, want: []string{"clear@2 [local]", "done@2"}},
		{name: "several clears fold into one", after: []string{"add a", "clear", "add b", "home:clear", "add c", "update c"},
			want: []string{"clear@4 [local remote:home]", "add c@6 [local]", "done@6"}},
		{name: "clear before the cursor is not replayed", before: []string{"add a", "clear", "add b"}, after: []string{"update b"},
			want: []string{"update b@4 [local]", "done@4"}},
		{name: "the worked example of docs/changelog.md", before: []string{"add a", "add b"},
			after: []string{"home:update a", "remove b", "add c", "home:update c", "add d", "remove d", "remove a", "add a"},
			want:  []string{"update a@10 [local remote:home]", "remove b@4 [local]", "add c@6 [local remote:home]", "done@10"}},
		{name: "a trim up to the cursor leaves its replay whole", before: []string{"add a", "add b", "update a", "remove b", "add c"},
			after: []string{"cursor keep", "trim", "update c"},
			want:  []string{"update c@6 [local]", "done@6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			versions := map[string]int{}
			runScript(t, s, versions, tt.before)
			from, err := s.LastRevision(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			runScript(t, s, versions, tt.after)
			now := snapshot(t, s)
			var got []string
			for _, task := range sortTasks(collect(t, s, from)) {
				got = append(got, describe(t, now, task))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Sync(%d) =\n  %s\nwant\n  %s", from, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestSyncBelowHorizon(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	versions := map[string]int{}
	runScript(t, s, versions, []string{"add a", "add b", "home:update a", "remove b", "add c", "cursor w", "add d", "trim"})
	if h, err := s.Horizon(ctx); err != nil || h != 5 {
		t.Fatalf("Horizon = %d, %v; want 5 (the cursor)", h, err)
	}
	now := snapshot(t, s)
	tests := []struct {
		from uint64
		want []string
	}{
		{0, []string{"clear@5", "add a@3", "add c@5", "add d@6", "done@6"}},
		{4, []string{"clear@5", "add a@3", "add c@5", "add d@6", "done@6"}},
		{5, []string{"add d@6 [local]", "done@6"}},
		{6, []string{"done@6"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("from ", tt.from), func(t *testing.T) {
			var got []string
			for _, task := range sortTasks(collect(t, s, tt.from)) {
				got = append(got, describe(t, now, task))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Sync(%d) = %q, want %q", tt.from, got, tt.want)
			}
		})
	}
}

func TestSyncErrors(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	runScript(t, s, map[string]int{}, []string{"add a", "add b", "add c"})
	t.Run("future revision", func(t *testing.T) {
		tasks, err := trySync(s, 4)
		if !errors.Is(err, ErrFutureRevision) || len(tasks) != 0 {
			t.Errorf("Sync(4) = %v, %v; want no task and ErrFutureRevision", tasks, err)
		}
	})
	t.Run("stopping early", func(t *testing.T) {
		n := 0
		for _, err := range s.Sync(ctx, 0) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			if n == 2 {
				break // the iterator must not yield again (the runtime panics if it does)
			}
		}
		if n != 2 {
			t.Errorf("got %d tasks before breaking, want 2", n)
		}
		// The read connection must have been given back: a Sync per pool slot and one more still work.
		for range maxReaders + 1 {
			for _, err := range s.Sync(ctx, 0) {
				if err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		var err error
		for _, e := range s.Sync(cctx, 0) {
			err = e
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Sync with a cancelled context ended with %v, want context.Canceled", err)
		}
	})
}

// TestSyncStreams replays a long log and checks that the Go heap does not grow with it: the contacts' vCards
// together weigh ~50 MB, far more than the bound.
func TestSyncStreams(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	const n, batch = 100_000, 5_000
	data := bytes.Repeat([]byte("x"), 500)
	for i := 0; i < n; i += batch {
		changes := make([]Change, batch)
		for j := range changes {
			changes[j] = Change{Op: OpAdd, Contact: Contact{ID: fmt.Sprintf("c%07d", i+j), Data: data}}
		}
		if _, err := s.Apply(ctx, Local, changes); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	var before, during runtime.MemStats
	runtime.ReadMemStats(&before)
	count := 0
	for task, err := range s.Sync(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if task.Op == OpAdd {
			count++
		}
		if count == n/2 {
			runtime.GC()
			runtime.ReadMemStats(&during)
		}
	}
	if count != n {
		t.Fatalf("replayed %d adds, want %d", count, n)
	}
	grew := int64(during.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew by %d KiB half way through a replay of %d contacts", grew>>10, n)
	if grew > 8<<20 {
		t.Errorf("heap grew by %d MiB half way through the replay: Sync is holding contacts in memory", grew>>20)
	}
}
