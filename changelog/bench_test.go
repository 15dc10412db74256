package changelog

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// benchBatch is the number of changes per Apply in BenchmarkAppendBatch: an import's batch.
const benchBatch = 1000

// benchReplay is the number of changes BenchmarkReplay replays.
const benchReplay = 10_000

// benchCard returns a realistic vCard of about 500 bytes (the size of a typical phone contact with a few
// numbers, addresses and a note; no photo).
func benchCard(i int) Contact {
	id := fmt.Sprintf("urn:uuid:6f1c2a8e-3b7d-4c1e-9a5f-%012d", i)
	data := fmt.Appendf(nil, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nFN:Firstname%d Lastname%d\r\n"+
		"N:Lastname%d;Firstname%d;;;\r\nORG:Example Widgets Ltd.;Research\r\nTITLE:Senior Engineer\r\n"+
		"TEL;TYPE=CELL:+44 7700 900%03d\r\nTEL;TYPE=WORK,VOICE:+44 20 7946 0%03d\r\n"+
		"EMAIL;TYPE=INTERNET,WORK:first.last%d@example.com\r\nEMAIL;TYPE=INTERNET,HOME:person%d@example.org\r\n"+
		"ADR;TYPE=WORK:;;12 High Street;Cambridge;;CB2 1TN;United Kingdom\r\n"+
		"item1.URL:https://example.com/people/%d\r\nitem1.X-ABLabel:profile\r\nBDAY:1980-01-%02d\r\n"+
		"NOTE:Met at the conference\\, talked about sync engines.\r\nEND:VCARD\r\n",
		id, i, i, i, i, i%1000, i%1000, i, i, i, i%28+1)
	return Contact{ID: id, Data: data}
}

// openRaw opens a plain database/sql handle on a new file with the store's driver and pragmas and a table
// shaped like the store's contacts table: the reference the store is measured against.
func openRaw(b *testing.B) *sql.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "raw.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1&_busy_timeout=10000&_txlock=immediate&_stmt_cache_size=32")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE raw (id TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL, source TEXT NOT NULL, rev INTEGER NOT NULL, updated INTEGER NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	return db
}

// rawInsert writes cards in one transaction with a plain INSERT loop.
func rawInsert(b *testing.B, db *sql.DB, cards []Contact, firstRev int) {
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i, c := range cards {
		if _, err := tx.Exec(`INSERT INTO raw (id, data, source, rev, updated) VALUES (?, ?, ?, ?, ?)`,
			c.ID, c.Data, c.Source, firstRev+i, int64(firstRev+i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func changesOf(cards []Contact) []Change {
	out := make([]Change, len(cards))
	for i, c := range cards {
		out[i] = Change{Op: OpAdd, Contact: c}
	}
	return out
}

// BenchmarkAppendBatch measures an import: benchBatch new contacts per Apply, against a raw INSERT loop of the
// same rows in one transaction. Each iteration appends a fresh batch, so the table grows as it would.
func BenchmarkAppendBatch(b *testing.B) {
	cards := func(iter int) []Contact {
		out := make([]Contact, benchBatch)
		for i := range out {
			out[i] = benchCard(iter*benchBatch + i)
		}
		return out
	}
	b.Run("changelog", func(b *testing.B) {
		s := openTest(b)
		ctx := context.Background()
		iter := 0
		for b.Loop() {
			b.StopTimer()
			batch := changesOf(cards(iter))
			iter++
			b.StartTimer()
			if _, err := s.Apply(ctx, Local, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(iter*benchBatch)/b.Elapsed().Seconds(), "changes/s")
	})
	b.Run("raw", func(b *testing.B) {
		db := openRaw(b)
		iter := 0
		for b.Loop() {
			b.StopTimer()
			batch := cards(iter)
			b.StartTimer()
			rawInsert(b, db, batch, iter*benchBatch+1)
			iter++
		}
		b.ReportMetric(float64(iter*benchBatch)/b.Elapsed().Seconds(), "changes/s")
	})
}

// BenchmarkReplay measures Sync(0) over benchReplay added contacts, against a raw SELECT scan of the same rows.
func BenchmarkReplay(b *testing.B) {
	cards := make([]Contact, benchReplay)
	for i := range cards {
		cards[i] = benchCard(i)
	}
	ctx := context.Background()
	b.Run("changelog", func(b *testing.B) {
		s := openTest(b)
		if _, err := s.Apply(ctx, Local, changesOf(cards)); err != nil {
			b.Fatal(err)
		}
		var n int
		for b.Loop() {
			for task, err := range s.Sync(ctx, 0) {
				if err != nil {
					b.Fatal(err)
				}
				n += len(task.Contact.Data) & 1
				n++
			}
		}
		b.ReportMetric(float64(benchReplay*b.N)/b.Elapsed().Seconds(), "changes/s")
	})
	b.Run("raw", func(b *testing.B) {
		db := openRaw(b)
		rawInsert(b, db, cards, 1)
		var n int
		for b.Loop() {
			rows, err := db.Query(`SELECT id, data, source, rev, updated FROM raw`)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var c Contact
				var rev, updated int64
				if err := rows.Scan(&c.ID, &c.Data, &c.Source, &rev, &updated); err != nil {
					b.Fatal(err)
				}
				n += len(c.Data) & 1
				n++
			}
			if err := rows.Err(); err != nil {
				b.Fatal(err)
			}
			rows.Close()
		}
		b.ReportMetric(float64(benchReplay*b.N)/b.Elapsed().Seconds(), "changes/s")
	})
}
