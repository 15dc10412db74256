package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/changelog"
)

// Opener makes a new, empty store for one test and closes it when the test ends (with t.Cleanup). The store
// must have the default retention: Trim drops exactly what every cursor has passed.
type Opener func(t *testing.T) Subject

// Run checks every point of the contract (see the package doc) on stores made by open, one subtest per point.
// Each subtest opens its own store or stores.
func Run(t *testing.T, open Opener) {
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.run(t, open) })
	}
}

type check struct {
	name string
	run  func(t *testing.T, open Opener)
}

// checks is the suite, in the order of the package doc.
var checks = []check{
	{"new store is empty", checkEmpty},
	{"add", checkAdd},
	{"replace", checkReplace},
	{"remove", checkRemove},
	{"clear", checkClear},
	{"invalid arguments", checkInvalid},
	{"refused change leaves the tx usable", checkRefusedChange},
	{"revisions are contiguous", checkRevisions},
	{"apply is all or nothing", checkApply},
	{"tx commits everything together", checkCommitTogether},
	{"failed callback keeps nothing", checkFailedCallback},
	{"panicking callback keeps nothing", checkPanickingCallback},
	{"cancelled context keeps nothing", checkCancelledUpdate},
	{"tx sees its own changes, nobody else does", checkIsolation},
	{"missing", checkMissing},
	{"cursors", checkCursors},
	{"cursor commits with the effects", checkCursorWithEffects},
	{"view reads one snapshot", checkViewSnapshot},
	{"view refuses changes", checkViewReadOnly},
	{"all in ID order", checkAll},
	{"sync folds per contact", checkSyncFolding},
	{"sync origins and OnlyFrom", checkSyncOrigins},
	{"sync reads one snapshot", checkSyncSnapshot},
	{"sync ahead of the store", checkSyncFuture},
	{"sync below the horizon", checkSyncBelowHorizon},
	{"sync stopped early", checkSyncStoppedEarly},
	{"sync with a cancelled context", checkSyncCancelled},
	{"notify", checkNotify},
	{"notify wakes a waiter", checkNotifyWakes},
	{"trim", checkTrim},
	{"conflicts", checkConflicts},
	{"random histories", checkRandomHistories},
}

// fixture is one store under test and the helpers the checks share. Its helpers fail the test on an error
// nobody expected.
type fixture struct {
	t   *testing.T
	ctx context.Context
	s   Subject
}

func use(t *testing.T, open Opener) *fixture {
	t.Helper()
	return &fixture{t: t, ctx: t.Context(), s: open(t)}
}

// card returns a small vCard for id whose text changes with version, so versions can be told apart.
func card(id string, version int) changelog.Contact {
	return changelog.Contact{ID: id, Data: fmt.Appendf(nil, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:%s\r\nFN:%s v%d\r\nEND:VCARD\r\n", id, id, version)}
}

var home = changelog.FromRemote("home")

func (f *fixture) update(fn func(Tx) error) {
	f.t.Helper()
	if err := f.s.Update(f.ctx, fn); err != nil {
		f.t.Fatalf("Update: %v", err)
	}
}

func (f *fixture) view(fn func(Tx) error) {
	f.t.Helper()
	if err := f.s.View(f.ctx, fn); err != nil {
		f.t.Fatalf("View: %v", err)
	}
}

func (f *fixture) add(origin changelog.Origin, c changelog.Contact) changelog.Contact {
	f.t.Helper()
	var stored changelog.Contact
	f.update(func(tx Tx) (err error) { stored, err = tx.Add(origin, c); return err })
	return stored
}

func (f *fixture) last() uint64 {
	f.t.Helper()
	last, err := f.s.LastRevision(f.ctx)
	if err != nil {
		f.t.Fatalf("LastRevision: %v", err)
	}
	return last
}

func (f *fixture) horizon() uint64 {
	f.t.Helper()
	h, err := f.s.Horizon(f.ctx)
	if err != nil {
		f.t.Fatalf("Horizon: %v", err)
	}
	return h
}

// state reads the consumer's state under key as committed, "" when there is none.
func (f *fixture) state(key string) string {
	f.t.Helper()
	var v string
	f.view(func(tx Tx) error {
		var err error
		if v, err = f.s.State(tx, key); errors.Is(err, changelog.ErrNotFound) {
			v, err = "", nil
		}
		return err
	})
	return v
}

// cursor reads a committed cursor, -1 when there is none.
func (f *fixture) cursor(name string) int64 {
	f.t.Helper()
	rev, err := f.s.Cursor(f.ctx, name)
	if errors.Is(err, changelog.ErrNotFound) {
		return -1
	}
	if err != nil {
		f.t.Fatalf("Cursor(%q): %v", name, err)
	}
	return int64(rev)
}

func (f *fixture) contents() map[string]changelog.Contact {
	f.t.Helper()
	out := map[string]changelog.Contact{}
	for c, err := range f.s.All(f.ctx) {
		if err != nil {
			f.t.Fatalf("All: %v", err)
		}
		out[c.ID] = c
	}
	return out
}

// replay collects a Sync, stopping at its error.
func (f *fixture) replay(from uint64) ([]changelog.Task, error) {
	var tasks []changelog.Task
	for task, err := range f.s.Sync(f.ctx, from) {
		if err != nil {
			return tasks, err
		}
		tasks = append(tasks, task)
	}
	return tasks, nil
}

// tasks replays from, checks the replay's shape (at most one clear, first; one task per contact; done last,
// once; an add or update carrying the contact as the store holds it now) and returns it with the contacts'
// tasks sorted by ID, since a store yields them in no particular order.
func (f *fixture) tasks(from uint64) []changelog.Task {
	f.t.Helper()
	tasks, err := f.replay(from)
	if err != nil {
		f.t.Fatalf("Sync(%d): %v", from, err)
	}
	if len(tasks) == 0 || tasks[len(tasks)-1].Op != changelog.OpDone {
		f.t.Fatalf("Sync(%d) = %s: does not end with done", from, renderAll(tasks))
	}
	now := f.contents()
	seen := map[string]bool{}
	for i, task := range tasks {
		switch task.Op {
		case changelog.OpClear:
			if i != 0 {
				f.t.Errorf("Sync(%d) = %s: clear is not the first task", from, renderAll(tasks))
			}
		case changelog.OpDone:
			if i != len(tasks)-1 {
				f.t.Errorf("Sync(%d) = %s: done before the end", from, renderAll(tasks))
			}
		case changelog.OpAdd, changelog.OpUpdate, changelog.OpRemove:
			if task.ID == "" || seen[task.ID] {
				f.t.Errorf("Sync(%d) = %s: task for ID %q is empty or not the only one", from, renderAll(tasks), task.ID)
			}
			seen[task.ID] = true
			if task.Op == changelog.OpRemove {
				break
			}
			cur, ok := now[task.ID]
			if !ok || !contactEqual(task.Contact, cur) || task.Rev != cur.Rev {
				f.t.Errorf("Sync(%d): %s carries %+v, want the contact as it is now, %+v", from, render(task), task.Contact, cur)
			}
		default:
			f.t.Errorf("Sync(%d) yields a task with op %s", from, task.Op)
		}
	}
	contacts := tasks[:len(tasks)-1]
	if len(contacts) > 0 && contacts[0].Op == changelog.OpClear {
		contacts = contacts[1:]
	}
	slices.SortFunc(contacts, func(a, b changelog.Task) int { return strings.Compare(a.ID, b.ID) })
	return tasks
}

// render gives a task as "op id@rev [origins]".
func render(t changelog.Task) string {
	out := t.Op.String()
	if t.ID != "" {
		out += " " + t.ID
	}
	out += fmt.Sprintf("@%d", t.Rev)
	if len(t.Origins) > 0 {
		out += fmt.Sprintf(" %v", t.Origins)
	}
	return out
}

func renderAll(tasks []changelog.Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = render(t)
	}
	return out
}

// contactEqual compares what a store keeps of a contact: ID, bytes, source, revision and time.
func contactEqual(a, b changelog.Contact) bool {
	return a.ID == b.ID && string(a.Data) == string(b.Data) && a.Source == b.Source && a.Rev == b.Rev && a.Updated.Equal(b.Updated)
}

// wantContents checks that the store holds exactly the given contacts, each at the given version of card.
func (f *fixture) wantContents(want map[string]int) {
	f.t.Helper()
	got := f.contents()
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
		f.t.Errorf("store holds %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for id, v := range want {
		if c, ok := got[id]; ok && string(c.Data) != string(card(id, v).Data) {
			f.t.Errorf("contact %q holds %q, want version %d", id, c.Data, v)
		}
	}
}

// wantErr checks that err is (or wraps) want; a nil want asks for no error.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s = %v, want %v", what, err, want)
	}
}
