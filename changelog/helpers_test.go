package changelog

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// failer is what checks shared by ordinary and rapid tests need (testing.TB and *rapid.T both have it).
type failer interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// testClock is a settable clock for deterministic timestamps and retention ages.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openTest opens a store in a fresh temporary directory and closes it when the test ends.
func openTest(t testing.TB, opts ...Option) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "contacts.db"), opts...)
}

func openAt(t testing.TB, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// card returns a small vCard for id whose text varies with version, so tests can tell versions apart.
func card(id string, version int) Contact {
	return Contact{ID: id, Data: fmt.Appendf(nil, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:%s\r\nFN:Person %s v%d\r\nEND:VCARD\r\n", id, id, version)}
}

// collect runs Sync and returns its tasks, failing the test on an error.
func collect(t testing.TB, s *Store, from uint64) []Task {
	t.Helper()
	tasks, err := trySync(s, from)
	if err != nil {
		t.Fatalf("Sync(%d): %v", from, err)
	}
	return tasks
}

func trySync(s *Store, from uint64) ([]Task, error) {
	var tasks []Task
	for task, err := range s.Sync(context.Background(), from) {
		if err != nil {
			return tasks, err
		}
		tasks = append(tasks, task)
	}
	return tasks, nil
}

// snapshot reads the whole store into a map by ID.
func snapshot(t testing.TB, s *Store) map[string]Contact {
	t.Helper()
	out := map[string]Contact{}
	for c, err := range s.All(context.Background()) {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		out[c.ID] = c
	}
	return out
}
