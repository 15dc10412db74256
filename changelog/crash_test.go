package changelog

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// crashChildEnv, when set, makes the test binary run crashChild on the database it names.
	crashChildEnv = "CHANGELOG_CRASH_CHILD"
	// crashBatch is the number of changes in each of the child's transactions.
	crashBatch = 200
)

// crashMigrations is the consumer schema the child writes in the same transactions as its batches.
func crashMigrations() Option {
	return WithMigrations("crashtest", os.DirFS(filepath.Join("testdata", "migrations", "crash")))
}

// crashBatchChanges is batch k (from 1): adds of b<k>-0 … and, after the first batch, an update and a remove of
// contacts of batch k-1; always crashBatch changes.
func crashBatchChanges(k int) []Change {
	var out []Change
	adds := crashBatch
	if k > 1 {
		adds -= 2
		prev := fmt.Sprintf("b%d-", k-1)
		out = append(out,
			Change{Op: OpUpdate, Contact: Contact{ID: prev + "0", Data: fmt.Appendf(nil, "updated by batch %d", k)}},
			Change{Op: OpRemove, Contact: Contact{ID: prev + "1"}})
	}
	for i := range adds {
		id := fmt.Sprintf("b%d-%d", k, i)
		out = append(out, Change{Op: OpAdd, Contact: Contact{ID: id, Data: []byte(strings.Repeat(id+";", 40))}})
	}
	return out
}

// crashChild appends batches forever, each in one transaction together with a row of its own table and its
// cursor, and reports every commit on stdout. It resumes after the last committed batch.
func crashChild(path string) int {
	s, err := Open(path, crashMigrations())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	for {
		err := s.Update(ctx, func(tx *Tx) error {
			k := int(tx.LastRevision()/crashBatch) + 1
			last, err := tx.Apply(FromRemote(fmt.Sprintf("batch%d", k)), crashBatchChanges(k))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO crash_progress (batch, last_rev) VALUES (?, ?)`, k, last); err != nil {
				return err
			}
			return tx.SetCursor("crash", last)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		last, err := s.LastRevision(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Printed only after the commit returned: the parent may rely on every printed batch being durable.
		fmt.Printf("committed %d\n", last/crashBatch)
	}
}

// TestCrashSafety SIGKILLs a process in the middle of a long Apply loop, several times, and checks after each
// kill that the database is intact, the revisions contiguous, every batch whole (with the consumer's row and
// cursor that share its transaction), every acknowledged batch present, and that writing resumes.
func TestCrashSafety(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contacts.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	acknowledged := 0
	for round := range 6 {
		waitFor := rng.IntN(20) + 1
		acked := runAndKill(t, path, waitFor, time.Duration(rng.IntN(8000))*time.Microsecond)
		acknowledged = max(acknowledged, acked)
		batches := checkAfterCrash(t, path)
		t.Logf("round %d: killed after %d acknowledged batches; %d batches on disk", round, acked, batches)
		if batches < acknowledged {
			t.Fatalf("round %d: %d batches acknowledged but only %d on disk", round, acknowledged, batches)
		}
	}
	s := openAt(t, path, crashMigrations())
	ctx := context.Background()
	before, err := s.LastRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Add(ctx, Local, card("after-crash", 1))
	if err != nil || c.Rev != before+1 {
		t.Fatalf("Add after the crashes = rev %d, %v; want %d", c.Rev, err, before+1)
	}
}

// runAndKill starts the child, waits until it has acknowledged waitFor batches and then for extra, kills it with
// SIGKILL and returns the number of the last batch it acknowledged.
func runAndKill(t *testing.T, path string, waitFor int, extra time.Duration) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan int)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed ")); err == nil {
				lines <- n
			}
		}
	}()
	acked, seen := 0, 0
	deadline := time.After(60 * time.Second)
	var kill <-chan time.Time
	for {
		select {
		case n, ok := <-lines:
			if !ok {
				t.Fatalf("child exited before being killed: %v", cmd.Wait())
			}
			acked, seen = n, seen+1
			if seen == waitFor {
				// The kill lands at a random point of a later transaction: mid-batch, mid-commit or between.
				kill = time.After(extra)
			}
		case <-kill:
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			for n := range lines { // lines acknowledged before the signal landed still count
				acked = n
			}
			if err := cmd.Wait(); err == nil {
				t.Fatal("child survived SIGKILL")
			}
			return acked
		case <-deadline:
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("child acknowledged %d batches in 60s, waited for %d", seen, waitFor)
		}
	}
}

// checkAfterCrash opens the database left by a killed child and returns the number of whole batches in it.
func checkAfterCrash(t *testing.T, path string) int {
	t.Helper()
	s := openAt(t, path, crashMigrations())
	checkIntegrity(t, s.readers)
	ctx := context.Background()
	last, err := s.LastRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last%crashBatch != 0 {
		t.Fatalf("last revision %d is not a whole number of %d-change batches", last, crashBatch)
	}
	batches := int(last / crashBatch)
	rows, err := s.readers.Query(`SELECT origin, COUNT(*), MIN(rev), MAX(rev) FROM changes GROUP BY origin`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var origin string
		var count, lo, hi int
		if err := rows.Scan(&origin, &count, &lo, &hi); err != nil {
			t.Fatal(err)
		}
		if count != crashBatch || hi-lo != crashBatch-1 {
			t.Errorf("%s has %d changes at revisions %d..%d: a batch was cut", origin, count, lo, hi)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != batches {
		t.Errorf("%d batches in the log, want %d", n, batches)
	}
	var progress, progressRev int
	if err := s.readers.QueryRow(`SELECT COUNT(*), COALESCE(MAX(last_rev), 0) FROM crash_progress`).Scan(&progress, &progressRev); err != nil {
		t.Fatal(err)
	}
	cursor, err := s.Cursor(ctx, "crash")
	if batches > 0 && err != nil {
		t.Fatal(err)
	}
	if progress != batches || uint64(progressRev) != last || cursor != last {
		t.Errorf("consumer row count %d at revision %d, cursor %d; want %d batches at %d: they share the batch's transaction",
			progress, progressRev, cursor, batches, last)
	}
	wantContacts := 0
	if batches > 0 {
		wantContacts = crashBatch + (batches-1)*(crashBatch-3)
	}
	if count, err := s.Count(ctx); err != nil || count != wantContacts {
		t.Errorf("Count = %d, %v; want %d", count, err, wantContacts)
	}
	adds := 0
	for task, err := range s.Sync(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if task.Op == OpAdd {
			adds++
		}
	}
	if adds != wantContacts {
		t.Errorf("Sync(0) yields %d adds, want %d", adds, wantContacts)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return batches
}
