package changelog_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing/fstest"

	"github.com/contactsync/contactsync/changelog"
)

// openExample opens a store in a new temporary directory; close removes it.
func openExample(opts ...changelog.Option) (s *changelog.Store, close func()) {
	dir, err := os.MkdirTemp("", "changelog-example")
	if err != nil {
		log.Fatal(err)
	}
	if s, err = changelog.Open(filepath.Join(dir, "contacts.db"), opts...); err != nil {
		log.Fatal(err)
	}
	return s, func() {
		if err := s.Close(); err != nil {
			log.Fatal(err)
		}
		os.RemoveAll(dir)
	}
}

func vcard(id string, version int) changelog.Contact {
	return changelog.Contact{ID: id, Data: fmt.Appendf(nil, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:%s\r\nFN:%s v%d\r\nEND:VCARD\r\n", id, id, version)}
}

// A consumer replays the log from the revision it saved last time (0 the first time) and saves the cursor at
// done, so a consumer killed half way replays the same changes again rather than skipping any.
func ExampleStore_Sync() {
	s, closeStore := openExample()
	defer closeStore()
	ctx := context.Background()
	home := changelog.FromRemote("home")

	replay := func() {
		from, err := s.Cursor(ctx, "backup")
		if errors.Is(err, changelog.ErrNotFound) {
			from, err = 0, nil // never saved: start from the beginning
		}
		if err != nil {
			log.Fatal(err)
		}
		var seen []string
		for task, err := range s.Sync(ctx, from) {
			if err != nil {
				log.Fatal(err)
			}
			if task.Op != changelog.OpDone {
				// Apply the task here. A task that came from home alone need not go back to home.
				seen = append(seen, fmt.Sprintf("%s %s %v (only from home: %v)", task.Op, task.ID, task.Origins, task.OnlyFrom(home)))
				continue
			}
			if err := s.SetCursor(ctx, "backup", task.Rev); err != nil {
				log.Fatal(err)
			}
			slices.Sort(seen) // the contacts' tasks come in no particular order
			if len(seen) == 0 {
				seen = []string{"nothing new"}
			}
			fmt.Printf("from %d to %d: %s\n", from, task.Rev, strings.Join(seen, "; "))
		}
	}

	if _, err := s.Apply(ctx, changelog.Local, []changelog.Change{
		{Op: changelog.OpAdd, Contact: vcard("alice", 1)},
		{Op: changelog.OpAdd, Contact: vcard("bob", 1)},
	}); err != nil {
		log.Fatal(err)
	}
	replay()

	// bob is edited on the server, carol comes and goes, dave is added: the replay folds each contact.
	if _, err := s.Replace(ctx, home, vcard("bob", 2)); err != nil {
		log.Fatal(err)
	}
	if _, err := s.Add(ctx, changelog.Local, vcard("carol", 1)); err != nil {
		log.Fatal(err)
	}
	if err := s.Remove(ctx, changelog.Local, "carol"); err != nil {
		log.Fatal(err)
	}
	if _, err := s.Add(ctx, changelog.Local, vcard("dave", 1)); err != nil {
		log.Fatal(err)
	}
	replay()
	replay()
	// Output:
	// from 0 to 2: add alice [local] (only from home: false); add bob [local] (only from home: false)
	// from 2 to 6: add dave [local] (only from home: false); update bob [remote:home] (only from home: true)
	// from 6 to 6: nothing new
}

// A consumer that keeps its own table beside the store (registered with WithMigrations) commits what it
// applied and its cursor in one transaction: after a crash it has either all of a replay or none of it.
func ExampleStore_Sync_effects() {
	schema := fstest.MapFS{"0001_sizes.sql": {Data: []byte(`CREATE TABLE sizes (id TEXT PRIMARY KEY, size INTEGER NOT NULL);`)}}
	s, closeStore := openExample(changelog.WithMigrations("sizes", schema))
	defer closeStore()
	ctx := context.Background()

	index := func() {
		from, err := s.Cursor(ctx, "sizes")
		if errors.Is(err, changelog.ErrNotFound) {
			from, err = 0, nil
		}
		if err != nil {
			log.Fatal(err)
		}
		// A short replay is applied in one transaction with its cursor. A long one would commit its effects in
		// chunks that are harmless to apply twice, and the cursor with the last chunk, at done.
		var tasks []changelog.Task
		for task, err := range s.Sync(ctx, from) {
			if err != nil {
				log.Fatal(err)
			}
			tasks = append(tasks, task)
		}
		err = s.Update(ctx, func(tx *changelog.Tx) error {
			for _, task := range tasks {
				var err error
				switch task.Op {
				case changelog.OpAdd, changelog.OpUpdate:
					_, err = tx.Exec(`INSERT INTO sizes (id, size) VALUES (?, ?)
						ON CONFLICT (id) DO UPDATE SET size = excluded.size`, task.ID, len(task.Contact.Data))
				case changelog.OpRemove:
					_, err = tx.Exec(`DELETE FROM sizes WHERE id = ?`, task.ID)
				case changelog.OpClear:
					_, err = tx.Exec(`DELETE FROM sizes`)
				case changelog.OpDone:
					err = tx.SetCursor("sizes", task.Rev)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	show := func() {
		err := s.View(ctx, func(tx *changelog.Tx) error {
			cursor, err := tx.Cursor("sizes")
			if err != nil {
				return err
			}
			var n, total int
			if err := tx.QueryRow(`SELECT COUNT(*), COALESCE(SUM(size), 0) FROM sizes`).Scan(&n, &total); err != nil {
				return err
			}
			fmt.Printf("cursor %d: %d contacts, %d bytes\n", cursor, n, total)
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
	}

	for _, id := range []string{"alice", "bob", "carol"} {
		if _, err := s.Add(ctx, changelog.Local, vcard(id, 1)); err != nil {
			log.Fatal(err)
		}
	}
	index()
	show()
	if err := s.Remove(ctx, changelog.Local, "bob"); err != nil {
		log.Fatal(err)
	}
	index()
	show()
	// Output:
	// cursor 3: 3 contacts, 179 bytes
	// cursor 4: 2 contacts, 122 bytes
}

// View reads several things from one snapshot, so they agree with each other even while other goroutines
// write; its Tx refuses every change.
func ExampleStore_View() {
	s, closeStore := openExample()
	defer closeStore()
	ctx := context.Background()
	for _, id := range []string{"alice", "bob"} {
		if _, err := s.Add(ctx, changelog.Local, vcard(id, 1)); err != nil {
			log.Fatal(err)
		}
	}
	if err := s.SetCursor(ctx, "backup", 1); err != nil {
		log.Fatal(err)
	}

	err := s.View(ctx, func(tx *changelog.Tx) error {
		alice, err := tx.Get("alice")
		if err != nil {
			return err
		}
		backup, err := tx.Cursor("backup")
		if err != nil {
			return err
		}
		missing, err := tx.Missing([]string{"alice", "bob", "carol"})
		if err != nil {
			return err
		}
		fmt.Printf("alice changed at revision %d of %d; backup has seen %d; missing: %v\n", alice.Rev, tx.LastRevision(), backup, missing)

		_, err = tx.Add(changelog.Local, vcard("carol", 1))
		fmt.Println("add in a View refused:", errors.Is(err, changelog.ErrReadOnly))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// alice changed at revision 1 of 2; backup has seen 1; missing: [carol]
	// add in a View refused: true
}
