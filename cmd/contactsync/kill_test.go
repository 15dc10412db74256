package main

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
)

// TestImportSurvivesKill9 SIGKILLs a real `contactsync import` process at random instants and checks after each
// kill that the store is consistent (integrity check passes, revisions contiguous, only whole batches kept) and
// that running the import again finishes the job without duplicating anything.
func TestImportSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes; skipped in -short mode")
	}
	const (
		total = 20000
		batch = 250
		kills = 5
	)
	dir := t.TempDir()
	file := filepath.Join(dir, "big.vcf")
	if err := os.WriteFile(file, synthetic.AddressBook(42, total), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "contacts.db")
	rng := rand.New(rand.NewPCG(1, 2))

	killed := 0
	for attempt := 0; killed < kills && attempt < 3*kills; attempt++ {
		cmd := cliCommand(db, "import", "--batch", "250", file)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it get somewhere, then kill it at a random instant.
		deadline := time.Now().Add(30 * time.Second)
		start := countContacts(t, db)
		for countContacts(t, db) == start && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if err == nil {
			t.Logf("attempt %d: import finished before the kill", attempt)
			break
		}
		killed++
		n := checkConsistent(t, db)
		if n%batch != 0 && n != total {
			t.Fatalf("after kill %d: %d contacts stored, not a whole number of %d-card batches", killed, n, batch)
		}
		t.Logf("kill %d: %d of %d contacts stored, store consistent", killed, n, total)
	}
	if killed == 0 {
		t.Fatal("no import was killed mid-way; the test proved nothing")
	}

	out, err := cliCommand(db, "import", "--batch", "250", file).CombinedOutput()
	if err != nil {
		t.Fatalf("re-run import: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "rejected 0") {
		t.Fatalf("re-run summary: %s", out)
	}
	if n := checkConsistent(t, db); n != total {
		t.Fatalf("after the re-run: %d contacts, want %d", n, total)
	}
	if revs := lastRevision(t, db); revs != total {
		t.Fatalf("last revision %d after importing %d new cards: some card was written twice", revs, total)
	}
}

// cliCommand runs this test binary as the contactsync CLI (see TestMain).
func cliCommand(db string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"--db", db}, args...)...)
	cmd.Env = append(os.Environ(), "CONTACTSYNC_AS_CLI=1")
	return cmd
}

func openRaw(t *testing.T, db string) *sql.DB {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func countContacts(t *testing.T, db string) int {
	t.Helper()
	if _, err := os.Stat(db); err != nil {
		return 0
	}
	var n int
	// The schema may not exist yet in the first instants of the child's life.
	if err := openRaw(t, db).QueryRowContext(context.Background(), "SELECT count(*) FROM contacts").Scan(&n); err != nil {
		return 0
	}
	return n
}

func lastRevision(t *testing.T, db string) int64 {
	t.Helper()
	var v int64
	if err := openRaw(t, db).QueryRow("SELECT value FROM meta WHERE key = 'last_rev'").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// checkConsistent verifies the store's invariants straight from SQLite and returns the number of contacts.
func checkConsistent(t *testing.T, db string) int {
	t.Helper()
	conn := openRaw(t, db)
	var integrity string
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check = %q, %v", integrity, err)
	}
	var rows, minRev, maxRev, contacts int64
	if err := conn.QueryRow("SELECT count(*), coalesce(min(rev), 0), coalesce(max(rev), 0) FROM changes").Scan(&rows, &minRev, &maxRev); err != nil {
		t.Fatal(err)
	}
	if rows > 0 && maxRev-minRev+1 != rows {
		t.Fatalf("revisions not contiguous: %d rows from %d to %d", rows, minRev, maxRev)
	}
	if last := lastRevision(t, db); last != maxRev {
		t.Fatalf("revision counter %d but newest logged revision %d", last, maxRev)
	}
	if err := conn.QueryRow("SELECT count(*) FROM contacts").Scan(&contacts); err != nil {
		t.Fatal(err)
	}
	var orphans int64
	if err := conn.QueryRow("SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM changes WHERE rev = c.rev AND contact_id = c.id)").Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d contacts whose last revision is not in the log", orphans)
	}
	return int(contacts)
}
