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

	"github.com/contactsync/contactsync/adapters/carddavserver/carddavservertest"
	"github.com/contactsync/contactsync/bench"
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

// BenchmarkPut measures one vCard upload: an HTTP PUT with If-None-Match: * to the server on loopback (its
// own transaction, fsynced, with the changelog entry, the members row and the checks), against a plain
// INSERT of the same body in its own transaction.
func BenchmarkPut(b *testing.B) {
	b.Run("server", func(b *testing.B) {
		srv := carddavservertest.Start(b)
		client := &http.Client{}
		b.ResetTimer()
		for i := range b.N {
			body := bench.Card(1, i)
			req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("%saddressbooks/test/contacts/bench-1-%08d.vcf", srv.URL, i), bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.SetBasicAuth(srv.Username, srv.Password)
			req.Header.Set("Content-Type", "text/vcard")
			req.Header.Set("If-None-Match", "*")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Fatalf("PUT: %s", resp.Status)
			}
		}
		b.SetBytes(int64(len(bench.Card(1, 0))))
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
			body := bench.Card(1, i)
			if _, err := stmt.Exec(fmt.Sprintf("bench-1-%08d.vcf", i), rawETag(body), body); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(bench.Card(1, 0))))
	})
}

// BenchmarkSyncCollection measures an initial listing of benchSyncSize contacts: a sync-collection REPORT
// with an empty token asking for getetag, read to the end, against reading the same names and ETags from a
// plain table.
func BenchmarkSyncCollection(b *testing.B) {
	cards := make([][]byte, benchSyncSize)
	for i := range cards {
		cards[i] = bench.Card(2, i)
	}
	b.Run("server", func(b *testing.B) {
		srv := carddavservertest.Start(b)
		if _, err := srv.Srv.Import(context.Background(), srv.Username, "contacts", cards); err != nil {
			b.Fatal(err)
		}
		client := &http.Client{}
		const report = `<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
		b.ResetTimer()
		for range b.N {
			req, err := http.NewRequest("REPORT", srv.AddressBookURL, bytes.NewReader([]byte(report)))
			if err != nil {
				b.Fatal(err)
			}
			req.SetBasicAuth(srv.Username, srv.Password)
			req.Header.Set("Content-Type", "application/xml")
			req.Header.Set("Depth", "0")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusMultiStatus || n < benchSyncSize*100 {
				b.Fatalf("REPORT: %s, %d bytes", resp.Status, n)
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
