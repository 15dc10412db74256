package carddavserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
)

// benchSyncSize is the address book BenchmarkSyncCollection lists.
const benchSyncSize = 10_000

// openRawDB opens the reference: a plain SQLite table with the changelog's pragmas (WAL, synchronous FULL).
func openRawDB(b *testing.B) *sql.DB {
	b.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE raw (name TEXT PRIMARY KEY NOT NULL, etag TEXT NOT NULL, data BLOB NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	return db
}

func rawETag(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
}

// benchRequest sends one request as the test user, reads the answer to the end and returns its status and size.
func benchRequest(b *testing.B, client *http.Client, srv *carddavtest.Server, method, url string, body []byte, header ...string) (int, int64) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.SetBasicAuth(srv.Username, srv.Password)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return resp.StatusCode, n
}

// BenchmarkPut measures one vCard upload: an HTTP PUT with If-None-Match: * to the server on loopback (its
// own transaction, fsynced, with the changelog entry, the members row and the checks), against a plain
// INSERT of the same body in its own transaction.
func BenchmarkPut(b *testing.B) {
	b.Run("server", func(b *testing.B) {
		srv := carddavtest.Start(b, "embedded")
		client := &http.Client{}
		b.ResetTimer()
		for i := range b.N {
			status, _ := benchRequest(b, client, srv, http.MethodPut, fmt.Sprintf("%saddressbooks/test/contacts/bench-1-%08d.vcf", srv.URL, i),
				synthetic.Card(1, i), "Content-Type", "text/vcard", "If-None-Match", "*")
			if status != http.StatusCreated {
				b.Fatalf("PUT: %d", status)
			}
		}
		b.SetBytes(int64(len(synthetic.Card(1, 0))))
	})
	b.Run("raw-sqlite", func(b *testing.B) {
		db := openRawDB(b)
		stmt, err := db.Prepare(`INSERT INTO raw (name, etag, data) VALUES (?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		b.ResetTimer()
		for i := range b.N {
			body := synthetic.Card(1, i)
			if _, err := stmt.Exec(fmt.Sprintf("bench-1-%08d.vcf", i), rawETag(body), body); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(synthetic.Card(1, 0))))
	})
}

// BenchmarkSyncCollection measures an initial listing of benchSyncSize contacts: a sync-collection REPORT
// with an empty token asking for getetag, read to the end, against reading the same names and ETags from a
// plain table.
func BenchmarkSyncCollection(b *testing.B) {
	cards := make([][]byte, benchSyncSize)
	for i := range cards {
		cards[i] = synthetic.Card(2, i)
	}
	b.Run("server", func(b *testing.B) {
		srv := carddavtest.Start(b, "embedded")
		if _, err := srv.Embedded(b).Import(context.Background(), srv.Username, "contacts", cards); err != nil {
			b.Fatal(err)
		}
		client := &http.Client{}
		const report = `<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
		b.ResetTimer()
		for range b.N {
			status, n := benchRequest(b, client, srv, "REPORT", srv.AddressBookURL, []byte(report), "Content-Type", "application/xml", "Depth", "0")
			if status != http.StatusMultiStatus || n < benchSyncSize*100 {
				b.Fatalf("REPORT: %d, %d bytes", status, n)
			}
		}
	})
	b.Run("raw-sqlite", func(b *testing.B) {
		db := openRawDB(b)
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for i, c := range cards {
			if _, err := tx.Exec(`INSERT INTO raw (name, etag, data) VALUES (?, ?, ?)`, fmt.Sprintf("bench-2-%08d.vcf", i), rawETag(c), c); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for range b.N {
			rows, err := db.Query(`SELECT name, etag FROM raw ORDER BY rowid`)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var name, etag string
				if err := rows.Scan(&name, &etag); err != nil {
					b.Fatal(err)
				}
				n++
			}
			rows.Close()
			if n != benchSyncSize {
				b.Fatalf("read %d rows", n)
			}
		}
	})
}
