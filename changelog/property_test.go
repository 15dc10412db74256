package changelog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// model is what the store should hold, kept by the property test independently of the store: the contacts, a
// snapshot after every revision, the whole log, the cursors and the trim horizon.
type model struct {
	contacts  map[string]Contact
	snapshots []map[string]Contact // snapshots[r] is the store as of revision r
	log       []logRow             // log[r-1] is revision r; never trimmed here
	cursors   map[string]uint64
	horizon   uint64
	retention Retention
}

func (m *model) last() uint64 { return uint64(len(m.log)) }

// apply makes one change on the model, or reports the error the store must give without changing anything.
func (m *model) apply(origin Origin, ch Change, at time.Time) error {
	c := ch.Contact
	_, exists := m.contacts[c.ID]
	switch {
	case ch.Op == OpAdd && exists:
		return ErrExists
	case (ch.Op == OpUpdate || ch.Op == OpRemove) && !exists:
		return ErrNotFound
	}
	rev := m.last() + 1
	switch ch.Op {
	case OpAdd, OpUpdate:
		m.contacts[c.ID] = Contact{ID: c.ID, Data: bytes.Clone(c.Data), Source: c.Source, Rev: rev, Updated: at.UTC()}
	case OpRemove:
		delete(m.contacts, c.ID)
	case OpClear:
		clear(m.contacts)
		c.ID = ""
	}
	m.log = append(m.log, logRow{Rev: rev, Op: ch.Op, ID: c.ID, Origin: origin})
	m.snapshots = append(m.snapshots, maps.Clone(m.contacts))
	return nil
}

// trim is Trim's rule, restated for revision-based retention.
func (m *model) trim() uint64 {
	point := m.last()
	for _, rev := range m.cursors {
		point = min(point, rev)
	}
	if r := m.retention.MinRevisions; r > 0 {
		point = min(point, m.last()-min(m.last(), r))
	}
	if r := m.retention.MaxRevisions; r > 0 {
		point = max(point, m.last()-min(m.last(), r))
	}
	m.horizon = max(m.horizon, point)
	return m.horizon
}

// expectedOrigins is the sorted set of origins of the changes to id (or of the clears, for id "") after start.
func (m *model) expectedOrigins(id string, start uint64, op Op) (origins []Origin, lastRev uint64) {
	for _, r := range m.log[start:] {
		if r.ID == id && (id != "" || r.Op == op) {
			if !slices.Contains(origins, r.Origin) {
				origins = append(origins, r.Origin)
			}
			lastRev = r.Rev
		}
	}
	slices.Sort(origins)
	return origins, lastRev
}

// checkReplay replays Sync(from) onto the snapshot at from, strictly (an add of a present contact, or an update
// or remove of an absent one, is a failure), and checks it ends at the current store, with the revisions and
// origins the log says.
func (m *model) checkReplay(t *rapid.T, s *Store, from uint64) {
	tasks, err := trySync(s, from)
	if err != nil {
		t.Fatalf("Sync(%d): %v", from, err)
	}
	replica := maps.Clone(m.snapshots[from])
	// The fold starts after the last clear in the range; a cursor below the horizon gets the whole store.
	start := from
	for _, r := range m.log[from:] {
		if r.Op == OpClear {
			start = r.Rev
		}
	}
	dump := from < m.horizon
	seen := map[string]bool{}
	for i, task := range tasks {
		where := fmt.Sprintf("Sync(%d) task %d (%s %q @%d %v)", from, i, task.Op, task.ID, task.Rev, task.Origins)
		switch task.Op {
		case OpClear:
			if i != 0 {
				t.Fatalf("%s: clear is not first", where)
			}
			clear(replica)
			wantRev, wantOrigins := m.horizon, []Origin(nil)
			if !dump {
				wantOrigins, wantRev = m.expectedOrigins("", from, OpClear)
			}
			if task.Rev != wantRev || !slices.Equal(task.Origins, wantOrigins) {
				t.Fatalf("%s: want clear @%d %v", where, wantRev, wantOrigins)
			}
			continue
		case OpDone:
			if i != len(tasks)-1 || task.Rev != m.last() {
				t.Fatalf("%s: want done last, at revision %d", where, m.last())
			}
			continue
		case OpAdd, OpUpdate:
			if _, ok := replica[task.ID]; ok != (task.Op == OpUpdate) {
				t.Fatalf("%s: contact present before = %v", where, ok)
			}
			replica[task.ID] = task.Contact
		case OpRemove:
			if _, ok := replica[task.ID]; !ok {
				t.Fatalf("%s: removes an absent contact", where)
			}
			delete(replica, task.ID)
		default:
			t.Fatalf("%s: unexpected op", where)
		}
		if seen[task.ID] {
			t.Fatalf("%s: second task for the same contact", where)
		}
		seen[task.ID] = true
		if dump {
			if task.Op != OpAdd || task.Origins != nil || task.Rev != task.Contact.Rev {
				t.Fatalf("%s: a replay from below the horizon must be plain adds with unknown origins", where)
			}
			continue
		}
		wantOrigins, wantRev := m.expectedOrigins(task.ID, start, 0)
		if task.Rev != wantRev || !slices.Equal(task.Origins, wantOrigins) {
			t.Fatalf("%s: want @%d %v", where, wantRev, wantOrigins)
		}
	}
	if len(tasks) == 0 || tasks[len(tasks)-1].Op != OpDone {
		t.Fatalf("Sync(%d) did not end with done: %v", from, tasks)
	}
	if !contactsEqual(replica, m.contacts) {
		t.Fatalf("Sync(%d) replayed onto the store as of %d gives\n%v\nwant\n%v", from, from, replica, m.contacts)
	}
}

func contactsEqual(a, b map[string]Contact) bool {
	return maps.EqualFunc(a, b, func(x, y Contact) bool {
		return x.ID == y.ID && bytes.Equal(x.Data, y.Data) && x.Source == y.Source && x.Rev == y.Rev && x.Updated.Equal(y.Updated)
	})
}

// TestPropertyReplay drives the store with random operations, batches, cursors and trims, and checks after
// every step that it matches the model, and at the end that replaying Sync(r) onto the store as of r gives the
// current store for every revision r.
func TestPropertyReplay(t *testing.T) {
	dir := t.TempDir()
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		run++
		clock := newTestClock()
		retention := Retention{
			MinRevisions: rapid.SampledFrom([]uint64{0, 0, 2, 5}).Draw(rt, "minRevisions"),
		}
		if rapid.Bool().Draw(rt, "maxRetention") {
			retention.MaxRevisions = retention.MinRevisions + rapid.Uint64Range(1, 8).Draw(rt, "maxRevisions")
		}
		s, err := Open(filepath.Join(dir, fmt.Sprintf("run%d.db", run)), WithClock(clock.Now), WithRetention(retention))
		if err != nil {
			rt.Fatal(err)
		}
		defer s.Close()
		m := &model{contacts: map[string]Contact{}, snapshots: []map[string]Contact{{}}, cursors: map[string]uint64{}, retention: retention}

		ids := rapid.SampledFrom([]string{"a", "b", "c", "d", "e", "p00", "p01", "p02"})
		origins := rapid.SampledFrom([]Origin{Local, FromRemote("home"), FromRemote("work,phone")})
		data := rapid.OneOf(
			rapid.Map(rapid.IntRange(0, 1000), func(i int) []byte { return fmt.Appendf(nil, "BEGIN:VCARD\r\nFN:v%d\r\nEND:VCARD\r\n", i) }),
			rapid.SliceOfN(rapid.Byte(), 1, 40), // arbitrary bytes, not UTF-8 at all
		)
		change := rapid.Custom(func(t *rapid.T) Change {
			op := rapid.SampledFrom([]Op{OpAdd, OpAdd, OpUpdate, OpUpdate, OpRemove, OpClear}).Draw(t, "op")
			c := Contact{ID: ids.Draw(t, "id")}
			if op == OpAdd || op == OpUpdate {
				c.Data = data.Draw(t, "data")
				c.Source = rapid.SampledFrom([]string{"", "", "facebook"}).Draw(t, "source")
			}
			return Change{Op: op, Contact: c}
		})
		// write applies a batch to the store and, if the model accepts every change, to the model.
		write := func(t *rapid.T, origin Origin, changes []Change) {
			clock.Advance(time.Second)
			trial := &model{contacts: maps.Clone(m.contacts), log: slices.Clone(m.log)}
			var want error
			for _, ch := range changes {
				if want = trial.apply(origin, ch, clock.Now()); want != nil {
					break
				}
			}
			_, err := s.Apply(ctx, origin, changes)
			if !errors.Is(err, want) || (err == nil) != (want == nil) {
				t.Fatalf("Apply(%v) = %v, want %v", changes, err, want)
			}
			if want == nil {
				for _, ch := range changes {
					_ = m.apply(origin, ch, clock.Now())
				}
			}
		}

		// A preloaded store is large enough against short ranges for Sync to walk the rev index instead of
		// scanning, so both plans are checked.
		if rapid.Bool().Draw(rt, "preload") {
			var preload []Change
			for i := range 40 {
				preload = append(preload, Change{Op: OpAdd, Contact: Contact{ID: fmt.Sprintf("p%02d", i), Data: []byte{byte(i)}}})
			}
			write(rt, Local, preload)
		}

		rt.Repeat(map[string]func(*rapid.T){
			"change": func(t *rapid.T) {
				write(t, origins.Draw(t, "origin"), []Change{change.Draw(t, "change")})
			},
			"batch": func(t *rapid.T) {
				write(t, origins.Draw(t, "origin"), rapid.SliceOfN(change, 1, 6).Draw(t, "batch"))
			},
			"cursor": func(t *rapid.T) {
				name := rapid.SampledFrom([]string{"w1", "w2"}).Draw(t, "name")
				if rapid.IntRange(0, 4).Draw(t, "delete") == 0 {
					err := s.DeleteCursor(ctx, name)
					if _, ok := m.cursors[name]; ok != (err == nil) || (!ok && !errors.Is(err, ErrNotFound)) {
						t.Fatalf("DeleteCursor(%s) = %v with cursors %v", name, err, m.cursors)
					}
					delete(m.cursors, name)
					return
				}
				rev := rapid.Uint64Range(0, m.last()).Draw(t, "rev")
				if err := s.SetCursor(ctx, name, rev); err != nil {
					t.Fatal(err)
				}
				m.cursors[name] = rev
			},
			"trim": func(t *rapid.T) {
				got, err := s.Trim(ctx)
				if want := m.trim(); err != nil || got != want {
					t.Fatalf("Trim = %d, %v; want %d (cursors %v, retention %+v, last %d)", got, err, want, m.cursors, m.retention, m.last())
				}
			},
			"replay": func(t *rapid.T) {
				m.checkReplay(t, s, rapid.Uint64Range(0, m.last()).Draw(t, "from"))
			},
			"": func(t *rapid.T) {
				if last, err := s.LastRevision(ctx); err != nil || last != m.last() {
					t.Fatalf("LastRevision = %d, %v; want %d", last, err, m.last())
				}
				if n, err := s.Count(ctx); err != nil || n != len(m.contacts) {
					t.Fatalf("Count = %d, %v; want %d", n, err, len(m.contacts))
				}
				got := map[string]Contact{}
				for c, err := range s.All(ctx) {
					if err != nil {
						t.Fatal(err)
					}
					got[c.ID] = c
				}
				if !contactsEqual(got, m.contacts) {
					t.Fatalf("store holds\n%v\nwant\n%v", got, m.contacts)
				}
			},
		})
		for from := range m.last() + 1 {
			m.checkReplay(rt, s, from)
		}
		checkIntegrity(rt, s.readers)
		if _, err := trySync(s, m.last()+1); !errors.Is(err, ErrFutureRevision) {
			rt.Fatalf("Sync(last+1) = %v, want ErrFutureRevision", err)
		}
	})
}
