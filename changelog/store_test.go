package changelog

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// logRow is one row of the changes table, read directly so tests check what is stored, not what Sync says.
type logRow struct {
	Rev    uint64
	Op     Op
	ID     string
	Origin Origin
	At     int64
}

func readLog(t testing.TB, s *Store) []logRow {
	t.Helper()
	rows, err := s.readers.Query(`SELECT rev, op, contact_id, origin, at FROM changes ORDER BY rev`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []logRow
	for rows.Next() {
		var r logRow
		if err := rows.Scan(&r.Rev, &r.Op, &r.ID, &r.Origin, &r.At); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOps(t *testing.T) {
	ctx := context.Background()
	remote := FromRemote("home")
	add := func(id string, v int) func(*Store) error {
		return func(s *Store) error { _, err := s.Add(ctx, Local, card(id, v)); return err }
	}
	replace := func(id string, v int) func(*Store) error {
		return func(s *Store) error { _, err := s.Replace(ctx, remote, card(id, v)); return err }
	}
	remove := func(id string) func(*Store) error {
		return func(s *Store) error { return s.Remove(ctx, Local, id) }
	}
	clear := func(s *Store) error { return s.Clear(ctx, remote) }
	type step struct {
		do      func(*Store) error
		wantErr error
	}
	tests := []struct {
		name     string
		steps    []step
		want     map[string]int // contact ID → version of card() it holds
		wantLog  []logRow       // At is not compared
		wantLast uint64
	}{
		{
			name:     "add",
			steps:    []step{{do: add("a", 1)}},
			want:     map[string]int{"a": 1},
			wantLog:  []logRow{{Rev: 1, Op: OpAdd, ID: "a", Origin: Local}},
			wantLast: 1,
		},
		{
			name:     "add existing fails and takes no revision",
			steps:    []step{{do: add("a", 1)}, {do: add("a", 2), wantErr: ErrExists}, {do: add("b", 1)}},
			want:     map[string]int{"a": 1, "b": 1},
			wantLog:  []logRow{{Rev: 1, Op: OpAdd, ID: "a", Origin: Local}, {Rev: 2, Op: OpAdd, ID: "b", Origin: Local}},
			wantLast: 2,
		},
		{
			name:     "update",
			steps:    []step{{do: add("a", 1)}, {do: replace("a", 2)}},
			want:     map[string]int{"a": 2},
			wantLog:  []logRow{{Rev: 1, Op: OpAdd, ID: "a", Origin: Local}, {Rev: 2, Op: OpUpdate, ID: "a", Origin: remote}},
			wantLast: 2,
		},
		{
			name:     "update missing fails",
			steps:    []step{{do: replace("a", 2), wantErr: ErrNotFound}},
			want:     map[string]int{},
			wantLast: 0,
		},
		{
			name:     "remove",
			steps:    []step{{do: add("a", 1)}, {do: add("b", 1)}, {do: remove("a")}},
			want:     map[string]int{"b": 1},
			wantLog:  []logRow{{Rev: 1, Op: OpAdd, ID: "a", Origin: Local}, {Rev: 2, Op: OpAdd, ID: "b", Origin: Local}, {Rev: 3, Op: OpRemove, ID: "a", Origin: Local}},
			wantLast: 3,
		},
		{
			name:     "remove missing fails",
			steps:    []step{{do: add("a", 1)}, {do: remove("a")}, {do: remove("a"), wantErr: ErrNotFound}},
			want:     map[string]int{},
			wantLog:  []logRow{{Rev: 1, Op: OpAdd, ID: "a", Origin: Local}, {Rev: 2, Op: OpRemove, ID: "a", Origin: Local}},
			wantLast: 2,
		},
		{
			name:     "clear",
			steps:    []step{{do: add("a", 1)}, {do: add("b", 1)}, {do: clear}},
			want:     map[string]int{},
			wantLog:  []logRow{{Rev: 1, Op: OpAdd, ID: "a", Origin: Local}, {Rev: 2, Op: OpAdd, ID: "b", Origin: Local}, {Rev: 3, Op: OpClear, Origin: remote}},
			wantLast: 3,
		},
		{
			name:     "clear of an empty store still takes a revision",
			steps:    []step{{do: clear}},
			want:     map[string]int{},
			wantLog:  []logRow{{Rev: 1, Op: OpClear, Origin: remote}},
			wantLast: 1,
		},
		{
			name:     "add after remove reuses the ID but not the revision",
			steps:    []step{{do: add("a", 1)}, {do: remove("a")}, {do: add("a", 3)}},
			want:     map[string]int{"a": 3},
			wantLog:  []logRow{{Rev: 1, Op: OpAdd, ID: "a", Origin: Local}, {Rev: 2, Op: OpRemove, ID: "a", Origin: Local}, {Rev: 3, Op: OpAdd, ID: "a", Origin: Local}},
			wantLast: 3,
		},
		{
			name:  "invalid input is refused",
			steps: []step{{do: add("", 1), wantErr: ErrInvalid}, {do: func(s *Store) error { _, err := s.Add(ctx, Local, Contact{ID: "a"}); return err }, wantErr: ErrInvalid}, {do: func(s *Store) error { _, err := s.Add(ctx, "elsewhere", card("a", 1)); return err }, wantErr: ErrInvalid}, {do: func(s *Store) error { return s.Remove(ctx, FromRemote(""), "a") }, wantErr: ErrInvalid}, {do: func(s *Store) error { _, err := s.Add(ctx, Local, card("\xff", 1)); return err }, wantErr: ErrInvalid}},
			want:  map[string]int{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			for i, st := range tt.steps {
				err := st.do(s)
				if !errors.Is(err, st.wantErr) || (err == nil) != (st.wantErr == nil) {
					t.Fatalf("step %d: err = %v, want %v", i, err, st.wantErr)
				}
			}
			got := snapshot(t, s)
			if len(got) != len(tt.want) {
				t.Errorf("store holds %v, want %v", slices.Sorted(maps.Keys(got)), tt.want)
			}
			for id, v := range tt.want {
				if c, ok := got[id]; !ok || !bytes.Equal(c.Data, card(id, v).Data) {
					t.Errorf("contact %q = %q, want version %d", id, c.Data, v)
				}
			}
			log := readLog(t, s)
			for i := range log {
				log[i].At = 0
			}
			if !slices.Equal(log, tt.wantLog) {
				t.Errorf("log = %+v\nwant %+v", log, tt.wantLog)
			}
			if last, err := s.LastRevision(ctx); err != nil || last != tt.wantLast {
				t.Errorf("LastRevision = %d, %v; want %d", last, err, tt.wantLast)
			}
		})
	}
}

func TestStoredContact(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	s := openTest(t, WithClock(clock.Now))
	// Bytes that are not UTF-8, a NUL and bare CRs must come back exactly as given.
	data := []byte("BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1:M\xfcller;J\xf6rg\r\nNOTE:a\x00b\rc\nEND:VCARD\r\n")
	added, err := s.Add(ctx, Local, Contact{ID: "x", Data: data, Source: "facebook", Rev: 99, Updated: time.Unix(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if added.Rev != 1 || !added.Updated.Equal(clock.Now()) {
		t.Errorf("Add returned rev %d at %v, want 1 at %v (input Rev and Updated are ignored)", added.Rev, added.Updated, clock.Now())
	}
	got, err := s.Get(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data, data) || got.Source != "facebook" || got.Rev != 1 || !got.Updated.Equal(clock.Now()) {
		t.Errorf("Get = %+v, want the data verbatim, source facebook, rev 1", got)
	}
	clock.Advance(time.Hour)
	replaced, err := s.Replace(ctx, FromRemote("home"), Contact{ID: "x", Data: []byte("v2")})
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.Get(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != "" || string(got.Data) != "v2" || got.Rev != 2 || !got.Updated.Equal(clock.Now()) || got.Rev != replaced.Rev {
		t.Errorf("after Replace, Get = %+v, want source cleared, data v2, rev 2", got)
	}
	if log := readLog(t, s); log[1].At != clock.Now().UnixNano() {
		t.Errorf("log time = %d, want the injected clock's %d", log[1].At, clock.Now().UnixNano())
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	if n, err := s.Count(ctx); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1", n, err)
	}
}

func TestApplyIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Add(ctx, Local, card("a", 1)); err != nil {
		t.Fatal(err)
	}
	batch := []Change{
		{Op: OpAdd, Contact: card("b", 1)},
		{Op: OpUpdate, Contact: card("a", 2)},
		{Op: OpAdd, Contact: card("a", 3)}, // fails: a exists
		{Op: OpAdd, Contact: card("c", 1)},
	}
	_, err := s.Apply(ctx, FromRemote("home"), batch)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("Apply = %v, want ErrExists", err)
	}
	if want := `change 3 of 4`; !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Errorf("error %q does not name the failing change (%s)", err, want)
	}
	if got := snapshot(t, s); len(got) != 1 || !bytes.Equal(got["a"].Data, card("a", 1).Data) {
		t.Errorf("store after a failed batch = %v, want only a at version 1", got)
	}
	last, err := s.Apply(ctx, FromRemote("home"), batch[:2])
	if err != nil || last != 3 {
		t.Fatalf("Apply = %d, %v; want last revision 3 (revisions 2 and 3, none lost to the failed batch)", last, err)
	}
	revs := []uint64{}
	for _, r := range readLog(t, s) {
		revs = append(revs, r.Rev)
	}
	if !slices.Equal(revs, []uint64{1, 2, 3}) {
		t.Errorf("log revisions = %v, want [1 2 3]", revs)
	}
	if last, err := s.Apply(ctx, Local, nil); err != nil || last != 3 {
		t.Errorf("empty Apply = %d, %v; want 3 and no new revision", last, err)
	}
	if _, err := s.Apply(ctx, Local, []Change{{Op: OpDone}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Apply(done) = %v, want ErrInvalid", err)
	}
}

func TestUpdateTransaction(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	t.Run("error rolls back everything", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.Update(ctx, func(tx *Tx) error {
			if _, err := tx.Add(Local, card("a", 1)); err != nil {
				return err
			}
			if err := tx.SetCursor("w", 1); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want the callback's error", err)
		}
		if n, _ := s.Count(ctx); n != 0 {
			t.Errorf("Count = %d after a failed Update, want 0", n)
		}
		if _, err := s.Cursor(ctx, "w"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Cursor after a failed Update = %v, want ErrNotFound", err)
		}
		if last, _ := s.LastRevision(ctx); last != 0 {
			t.Errorf("LastRevision = %d after a failed Update, want 0", last)
		}
	})
	t.Run("a failed batch inside a transaction leaves the rest", func(t *testing.T) {
		err := s.Update(ctx, func(tx *Tx) error {
			if _, err := tx.Apply(Local, []Change{{Op: OpAdd, Contact: card("a", 1)}, {Op: OpRemove, Contact: Contact{ID: "zz"}}}); !errors.Is(err, ErrNotFound) {
				t.Errorf("tx.Apply = %v, want ErrNotFound", err)
			}
			if tx.LastRevision() != 0 {
				t.Errorf("LastRevision inside tx = %d after a failed batch, want 0", tx.LastRevision())
			}
			if _, err := tx.Get("a"); !errors.Is(err, ErrNotFound) {
				t.Errorf("tx.Get(a) = %v after the batch failed, want ErrNotFound", err)
			}
			c, err := tx.Add(Local, card("b", 1))
			if err != nil {
				return err
			}
			if got, err := tx.Get("b"); err != nil || got.Rev != c.Rev {
				t.Errorf("tx.Get(b) = %+v, %v; want the uncommitted add", got, err)
			}
			return tx.SetCursor("w", tx.LastRevision())
		})
		if err != nil {
			t.Fatal(err)
		}
		got := snapshot(t, s)
		if _, ok := got["a"]; ok || len(got) != 1 || got["b"].Rev != 1 {
			t.Errorf("store = %v, want only b at revision 1", got)
		}
		if rev, err := s.Cursor(ctx, "w"); err != nil || rev != 1 {
			t.Errorf("Cursor = %d, %v; want 1 saved with the add", rev, err)
		}
	})
	t.Run("the caller's statements see this transaction's log", func(t *testing.T) {
		err := s.Update(ctx, func(tx *Tx) error {
			var before, after, queried int
			if err := tx.QueryRow(`SELECT COUNT(*) FROM changes`).Scan(&before); err != nil {
				return err
			}
			for i := range logChunk + 3 { // more than one chunk, so both ways of writing the log are seen
				if _, err := tx.Add(Local, card(fmt.Sprint("log", i), 1)); err != nil {
					return err
				}
			}
			if err := tx.QueryRow(`SELECT COUNT(*) FROM changes`).Scan(&after); err != nil {
				return err
			}
			if err := tx.Remove(Local, "log0"); err != nil {
				return err
			}
			rows, err := tx.Query(`SELECT rev FROM changes WHERE op = 3 AND contact_id = 'log0'`)
			if err != nil {
				return err
			}
			for rows.Next() {
				queried++
			}
			rows.Close()
			if _, err := tx.Exec(`CREATE TEMP TABLE seen AS SELECT rev FROM changes`); err != nil {
				return err
			}
			var copied int
			if err := tx.QueryRow(`SELECT COUNT(*) FROM seen`).Scan(&copied); err != nil {
				return err
			}
			if after != before+logChunk+3 || queried != 1 || copied != after+1 {
				return fmt.Errorf("log rows seen: %d then %d (want +%d), remove seen %d times, copied %d", before, after, logChunk+3, queried, copied)
			}
			_, err = tx.Exec(`DROP TABLE seen`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		checkIntegrity(t, s.readers)
	})
	t.Run("panic rolls back", func(t *testing.T) {
		func() {
			defer func() { _ = recover() }()
			_ = s.Update(ctx, func(tx *Tx) error {
				if _, err := tx.Add(Local, card("p", 1)); err != nil {
					return err
				}
				panic("callback panics")
			})
		}()
		if _, err := s.Get(ctx, "p"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(p) after a panicking Update = %v, want ErrNotFound", err)
		}
		// The writer connection must be usable again.
		if _, err := s.Add(ctx, Local, card("q", 1)); err != nil {
			t.Errorf("Add after a panicking Update: %v", err)
		}
	})
}

// TestFullDiskLosesNothing makes SQLite run out of room (max_page_count stands in for a full disk: both give
// SQLITE_FULL) and checks that the error surfaces and everything committed before survives.
func TestFullDiskLosesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "contacts.db")
	s := openAt(t, path)
	if _, err := s.Add(ctx, Local, card("kept", 1)); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := s.writer.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The pragma holds for the writer's one connection from now on.
	if _, err := s.writer.Exec(`PRAGMA max_page_count = ` + strconv.Itoa(pages+2)); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 64<<10)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = s.Add(ctx, Local, Contact{ID: "big" + strconv.Itoa(i), Data: big})
	}
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("full")) {
		t.Fatalf("writing past the page limit gave %v, want a database-full error", err)
	}
	if _, err := s.writer.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openAt(t, path)
	checkIntegrity(t, s2.readers)
	if _, err := s2.Get(ctx, "kept"); err != nil {
		t.Errorf("committed contact lost: %v", err)
	}
	last, err := s2.LastRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s2.Count(ctx); uint64(n) != last {
		t.Errorf("%d contacts but last revision %d: a failed write left a trace", n, last)
	}
	if _, err := s2.Add(ctx, Local, card("after", 1)); err != nil {
		t.Errorf("Add after the disk filled: %v", err)
	}
}

// checkIntegrity runs SQLite's own consistency check and the store's invariants: the log's revisions are
// contiguous from the horizon up to the revision counter, and every contact's revision is a logged change.
func checkIntegrity(t failer, db *sql.DB) {
	t.Helper()
	var result string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&result); err != nil || result != "ok" {
		t.Fatalf("integrity_check = %q, %v", result, err)
	}
	var last, horizon, n, minRev, maxRev int64
	if err := db.QueryRow(`SELECT
		(SELECT value FROM meta WHERE key = 'last_rev'), (SELECT value FROM meta WHERE key = 'horizon'),
		COUNT(*), COALESCE(MIN(rev), 0), COALESCE(MAX(rev), 0) FROM changes`).Scan(&last, &horizon, &n, &minRev, &maxRev); err != nil {
		t.Fatal(err)
	}
	if n != last-horizon || (n > 0 && (minRev != horizon+1 || maxRev != last)) {
		t.Fatalf("log holds %d revisions %d..%d, want %d..%d contiguous (horizon %d, counter %d)", n, minRev, maxRev, horizon+1, last, horizon, last)
	}
	var orphans int
	if err := db.QueryRow(`SELECT COUNT(*) FROM contacts c WHERE c.rev > ? AND NOT EXISTS
		(SELECT 1 FROM changes ch WHERE ch.rev = c.rev AND ch.contact_id = c.id AND ch.op IN (1, 2))`, horizon).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d contacts carry a revision that is not their logged add or update", orphans)
	}
}

// TestTwoStoresOneFile runs two stores on one file at once, as the CLI does while a worker runs: their writes
// interleave through SQLite's lock and the revisions stay contiguous.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contacts.db")
	stores := []*Store{openAt(t, path), openAt(t, path)}
	const each = 40
	errs := make(chan error, len(stores))
	for i, s := range stores {
		go func() {
			var err error
			for j := 0; j < each && err == nil; j++ {
				_, err = s.Add(context.Background(), Local, card(fmt.Sprintf("s%d-%d", i, j), 1))
			}
			errs <- err
		}()
	}
	for range stores {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range stores {
		if last, err := s.LastRevision(context.Background()); err != nil || last != 2*each {
			t.Errorf("LastRevision = %d, %v; want %d", last, err, 2*each)
		}
		if n := len(collect(t, s, 0)); n != 2*each+1 {
			t.Errorf("Sync(0) gives %d tasks, want %d adds and done", n, 2*each)
		}
	}
	checkIntegrity(t, stores[0].readers)
}

func TestCancelledUpdate(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	err := s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.Add(Local, card("a", 1)); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update whose context was cancelled before commit = %v, want context.Canceled", err)
	}
	if last, _ := s.LastRevision(context.Background()); last != 0 {
		t.Errorf("LastRevision = %d after a cancelled Update, want 0", last)
	}
	if _, err := s.Add(context.Background(), Local, card("a", 1)); err != nil {
		t.Errorf("Add after a cancelled Update: %v", err)
	}
}
