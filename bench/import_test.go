package bench

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
)

const importContacts = 10_000

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// contactsyncBinary builds the CLI once per benchmark process, so the import is measured as a user runs it.
func contactsyncBinary(b *testing.B) string {
	b.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "contactsync-bench-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "contactsync")
		_, self, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/contactsync")
		cmd.Dir = filepath.Join(filepath.Dir(self), "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{err: err, out: string(out)}
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "build contactsync: " + e.err.Error() + "\n" + e.out }

// BenchmarkImport measures `contactsync import` of a 10,000-contact file, against a raw SQLite insert loop of the
// same vCard texts (the parse the import must do to find UIDs is done outside the reference's timer: the
// reference is the database's own limit). Reported per contact.
func BenchmarkImport(b *testing.B) {
	file := filepath.Join(b.TempDir(), "book.vcf")
	book := synthetic.AddressBook(1, importContacts)
	if err := os.WriteFile(file, book, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Run("contactsync", func(b *testing.B) {
		bin := contactsyncBinary(b)
		b.SetBytes(int64(len(book)) / importContacts)
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			db := filepath.Join(b.TempDir(), "contacts.db")
			b.StartTimer()
			if out, err := exec.Command(bin, "--db", db, "import", file).CombinedOutput(); err != nil {
				b.Fatalf("import: %v\n%s", err, out)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*importContacts), "ns/contact")
	})
	b.Run("raw-insert", func(b *testing.B) {
		cards, err := vcard.Parse(book)
		if err != nil {
			b.Fatal(err)
		}
		type row struct {
			id   string
			data []byte
		}
		rows := make([]row, len(cards))
		for i, c := range cards {
			rows[i] = row{c.UID(), c.Bytes()}
		}
		b.SetBytes(int64(len(book)) / importContacts)
		for b.Loop() {
			b.StopTimer()
			path := filepath.Join(b.TempDir(), "raw.db")
			b.StartTimer()
			db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := db.Exec(`CREATE TABLE contacts (id TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL)`); err != nil {
				b.Fatal(err)
			}
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range rows {
				if _, err := tx.Exec(`INSERT INTO contacts (id, data) VALUES (?, ?)`, r.id, r.data); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			db.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*importContacts), "ns/contact")
	})
}
