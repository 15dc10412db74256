package storetest

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/contactsync/contactsync/changelog"
)

// history is what a store must hold after a run of random transactions, kept apart from the store: the
// contacts now and after every revision, the whole log (never trimmed here), the cursors and the horizon.
type history struct {
	now     map[string]changelog.Contact // ID, Data, Source and Rev
	at      []map[string]changelog.Contact
	log     []logEntry // log[r-1] is revision r
	cursors map[string]uint64
	horizon uint64
}

type logEntry struct {
	op     changelog.Op
	id     string
	origin changelog.Origin
}

func newHistory() *history {
	return &history{now: map[string]changelog.Contact{}, at: []map[string]changelog.Contact{{}}, cursors: map[string]uint64{}}
}

func (h *history) last() uint64 { return uint64(len(h.log)) }

// clone copies what a transaction may change, so a rolled-back one can be dropped.
func (h *history) clone() *history {
	return &history{now: maps.Clone(h.now), at: slices.Clone(h.at), log: slices.Clone(h.log), cursors: maps.Clone(h.cursors), horizon: h.horizon}
}

// apply makes one change, or gives the error the store must give without changing anything.
func (h *history) apply(origin changelog.Origin, ch changelog.Change) error {
	_, exists := h.now[ch.Contact.ID]
	switch {
	case ch.Op == changelog.OpAdd && exists:
		return changelog.ErrExists
	case (ch.Op == changelog.OpUpdate || ch.Op == changelog.OpRemove) && !exists:
		return changelog.ErrNotFound
	}
	rev := h.last() + 1
	e := logEntry{op: ch.Op, id: ch.Contact.ID, origin: origin}
	switch ch.Op {
	case changelog.OpAdd, changelog.OpUpdate:
		h.now[e.id] = changelog.Contact{ID: e.id, Data: ch.Contact.Data, Source: ch.Contact.Source, Rev: rev}
	case changelog.OpRemove:
		delete(h.now, e.id)
	case changelog.OpClear:
		clear(h.now)
		e.id = ""
	}
	h.log = append(h.log, e)
	h.at = append(h.at, maps.Clone(h.now))
	return nil
}

// expect is what Sync(from) must yield, rendered, with the contacts' tasks sorted by ID.
func (h *history) expect(from uint64) []string {
	var out []string
	done := fmt.Sprintf("done@%d", h.last())
	if from < h.horizon {
		out = append(out, fmt.Sprintf("clear@%d", h.horizon))
		for _, id := range slices.Sorted(maps.Keys(h.now)) {
			out = append(out, fmt.Sprintf("add %s@%d", id, h.now[id].Rev))
		}
		return append(out, done)
	}
	start := from
	clearTask := changelog.Task{Op: changelog.OpClear}
	for rev := from + 1; rev <= h.last(); rev++ {
		if e := h.log[rev-1]; e.op == changelog.OpClear {
			clearTask.Rev, start = rev, rev
			addOrigin(&clearTask, e.origin)
		}
	}
	if clearTask.Rev != 0 {
		out = append(out, render(clearTask))
	}
	folded := map[string]*changelog.Task{}
	for rev := start + 1; rev <= h.last(); rev++ {
		e := h.log[rev-1]
		if folded[e.id] == nil {
			folded[e.id] = &changelog.Task{ID: e.id}
		}
		folded[e.id].Rev = rev
		addOrigin(folded[e.id], e.origin)
	}
	for _, id := range slices.Sorted(maps.Keys(folded)) {
		task := folded[id]
		_, existed := h.at[start][id]
		_, exists := h.now[id]
		switch {
		case existed && exists:
			task.Op = changelog.OpUpdate
		case existed:
			task.Op = changelog.OpRemove
		case exists:
			task.Op = changelog.OpAdd
		default:
			continue
		}
		out = append(out, render(*task))
	}
	return append(out, done)
}

func addOrigin(t *changelog.Task, o changelog.Origin) {
	if !slices.Contains(t.Origins, o) {
		t.Origins = append(t.Origins, o)
		slices.Sort(t.Origins)
	}
}

// randomRun drives one store and its history with random transactions.
type randomRun struct {
	f       *fixture
	rng     *rand.Rand
	h       *history
	version int
}

var (
	randomIDs     = []string{"a", "b", "c", "d", "e"}
	randomOrigins = []changelog.Origin{changelog.Local, home, changelog.FromRemote("a,b")}
)

func (r *randomRun) change() changelog.Change {
	id := randomIDs[r.rng.IntN(len(randomIDs))]
	r.version++
	c := card(id, r.version)
	if r.rng.IntN(4) == 0 {
		c.Source = "facebook"
	}
	switch n := r.rng.IntN(20); {
	case n == 0:
		return changelog.Change{Op: changelog.OpClear}
	case n < 9:
		return changelog.Change{Op: changelog.OpAdd, Contact: c}
	case n < 15:
		return changelog.Change{Op: changelog.OpUpdate, Contact: c}
	default:
		return changelog.Change{Op: changelog.OpRemove, Contact: changelog.Contact{ID: id}}
	}
}

// do runs one change through tx and checks it against staged.
func (r *randomRun) do(tx Tx, staged *history, origin changelog.Origin, ch changelog.Change) {
	t := r.f.t
	t.Helper()
	want := staged.apply(origin, ch)
	var err error
	rev := uint64(0)
	switch ch.Op {
	case changelog.OpAdd:
		var c changelog.Contact
		c, err = tx.Add(origin, ch.Contact)
		rev = c.Rev
	case changelog.OpUpdate:
		var c changelog.Contact
		c, err = tx.Replace(origin, ch.Contact)
		rev = c.Rev
	case changelog.OpRemove:
		err = tx.Remove(origin, ch.Contact.ID)
		rev = tx.LastRevision()
	case changelog.OpClear:
		err = tx.Clear(origin)
		rev = tx.LastRevision()
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s %q from %s = %v, want %v", ch.Op, ch.Contact.ID, origin, err, want)
	}
	if err == nil && rev != staged.last() {
		t.Fatalf("%s %q took revision %d, want %d", ch.Op, ch.Contact.ID, rev, staged.last())
	}
}

// batch runs a random batch through tx.Apply: all of it, or on a refused change none of it.
func (r *randomRun) batch(tx Tx, staged *history, origin changelog.Origin) {
	t := r.f.t
	changes := make([]changelog.Change, 1+r.rng.IntN(3))
	for i := range changes {
		changes[i] = r.change()
	}
	trial := staged.clone()
	var want error
	for _, ch := range changes {
		if want = trial.apply(origin, ch); want != nil {
			break
		}
	}
	last, err := tx.Apply(origin, changes)
	if !errors.Is(err, want) {
		t.Fatalf("Apply of %d changes = %v, want %v", len(changes), err, want)
	}
	if err == nil {
		*staged = *trial
		if last != staged.last() {
			t.Fatalf("Apply ended at %d, want %d", last, staged.last())
		}
	}
	if tx.LastRevision() != staged.last() {
		t.Fatalf("tx.LastRevision after Apply = %d, want %d", tx.LastRevision(), staged.last())
	}
}

// step runs one random transaction (or a trim, or a cursor's deletion) on the store and the history.
func (r *randomRun) step() {
	t, f := r.f.t, r.f
	switch n := r.rng.IntN(20); {
	case n < 2:
		h := r.h.last()
		for _, rev := range r.h.cursors {
			h = min(h, rev)
		}
		r.h.horizon = max(r.h.horizon, h)
		if got := f.trim(); got != r.h.horizon {
			t.Fatalf("Trim = %d, want %d", got, r.h.horizon)
		}
	case n < 3:
		name := []string{"w", "v"}[r.rng.IntN(2)]
		_, exists := r.h.cursors[name]
		want := error(nil)
		if !exists {
			want = changelog.ErrNotFound
		}
		wantErr(t, "DeleteCursor", f.s.DeleteCursor(f.ctx, name), want)
		delete(r.h.cursors, name)
	default:
		staged := r.h.clone()
		rollback := r.rng.IntN(6) == 0
		errRollback := errors.New("rolled back")
		err := f.s.Update(f.ctx, func(tx Tx) error {
			for range 1 + r.rng.IntN(4) {
				origin := randomOrigins[r.rng.IntN(len(randomOrigins))]
				switch m := r.rng.IntN(10); {
				case m < 6:
					r.do(tx, staged, origin, r.change())
				case m < 8:
					r.batch(tx, staged, origin)
				default:
					name, rev := []string{"w", "v"}[r.rng.IntN(2)], r.rng.Uint64N(staged.last()+1)
					if err := tx.SetCursor(name, rev); err != nil {
						return err
					}
					staged.cursors[name] = rev
				}
			}
			if rollback {
				return errRollback
			}
			return nil
		})
		if rollback {
			wantErr(t, "Update rolled back", err, errRollback)
		} else if err != nil {
			t.Fatalf("Update: %v", err)
		} else {
			r.h = staged
		}
	}
	if last := f.last(); last != r.h.last() {
		t.Fatalf("LastRevision = %d, want %d", last, r.h.last())
	}
}

// checkRandomHistories runs random transactions (changes, refused changes, batches that fail half way,
// rollbacks, cursor saves, trims) and then checks the store against its history: the contacts, the cursors,
// the horizon, and the replay from every revision, folding and origins included.
func checkRandomHistories(t *testing.T, open Opener) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			r := &randomRun{f: use(t, open), rng: rand.New(rand.NewPCG(seed, 0x5eed)), h: newHistory()}
			for range 60 {
				r.step()
			}
			f, h := r.f, r.h
			got := f.contents()
			if len(got) != len(h.now) {
				t.Errorf("store holds %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(h.now)))
			}
			for id, want := range h.now {
				if c := got[id]; string(c.Data) != string(want.Data) || c.Source != want.Source || c.Rev != want.Rev {
					t.Errorf("contact %q = %q (source %q) at %d, want %q (source %q) at %d", id, c.Data, c.Source, c.Rev, want.Data, want.Source, want.Rev)
				}
			}
			if cs, err := f.s.Cursors(f.ctx); err != nil || !maps.Equal(cs, h.cursors) {
				t.Errorf("Cursors = %v, %v; want %v", cs, err, h.cursors)
			}
			if got := f.horizon(); got != h.horizon {
				t.Errorf("Horizon = %d, want %d", got, h.horizon)
			}
			for from := range h.last() + 1 {
				if got, want := renderAll(f.tasks(from)), h.expect(from); !slices.Equal(got, want) {
					t.Errorf("Sync(%d) =\n  %v\nwant\n  %v", from, got, want)
				}
			}
		})
	}
}
