package changelog_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/changelog/storetest"
)

var _ storetest.Tx = (*changelog.Tx)(nil)

// sqliteSubject runs the conformance suite on the SQLite store: its Update and View hand the *changelog.Tx on as
// a storetest.Tx, and the consumer's own state is a table of its own, written through Tx.Exec as the engine
// writes its mirror.
type sqliteSubject struct{ *changelog.Store }

var stateSchema = fstest.MapFS{"0001_state.sql": {Data: []byte(`CREATE TABLE storetest_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);`)}}

func (s sqliteSubject) Update(ctx context.Context, fn func(storetest.Tx) error) error {
	return s.Store.Update(ctx, func(tx *changelog.Tx) error { return fn(tx) })
}

func (s sqliteSubject) View(ctx context.Context, fn func(storetest.Tx) error) error {
	return s.Store.View(ctx, func(tx *changelog.Tx) error { return fn(tx) })
}

func (sqliteSubject) PutState(tx storetest.Tx, key, value string) error {
	_, err := tx.(*changelog.Tx).Exec(`INSERT INTO storetest_state (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

func (sqliteSubject) State(tx storetest.Tx, key string) (value string, err error) {
	err = tx.(*changelog.Tx).QueryRow(`SELECT value FROM storetest_state WHERE key = ?`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		err = changelog.ErrNotFound
	}
	return value, err
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Subject {
		s, err := changelog.Open(filepath.Join(t.TempDir(), "contacts.db"), changelog.WithMigrations("storetest", stateSchema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return sqliteSubject{s}
	})
}
