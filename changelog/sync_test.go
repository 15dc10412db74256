package changelog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
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
