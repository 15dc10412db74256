package carddavserver_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddavserver"
	"github.com/contactsync/contactsync/changelog"
)

// withUmask runs the test under umask 022, the usual one, under which SQLite creates its files 0644.
func withUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
}

// modes lists the regular files below dir with their permissions, by path relative to dir.
func modes(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = fi.Mode().Perm()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkPrivate fails unless every file below dir is 0600 and each pattern of want (filepath.Match, relative
// to dir) matches a file.
func checkPrivate(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := modes(t, dir)
	for name, perm := range got {
		if perm != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", name, perm)
		}
	}
	for _, w := range want {
		found := false
		for name := range got {
			if ok, _ := filepath.Match(w, name); ok {
				found = true
			}
		}
		if !found {
			t.Errorf("no file %s among %v", w, got)
		}
	}
}

func TestFilesArePrivate(t *testing.T) {
	withUmask(t)
	ctx := context.Background()

	t.Run("server", func(t *testing.T) {
		dir := t.TempDir()
		srv, err := carddavserver.Open(dir, carddavserver.WithPasswordIterations(carddavserver.MinPasswordIterations))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		if err := srv.AddUser(ctx, "alice", "a password"); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Import(ctx, "alice", carddavserver.DefaultBook, [][]byte{card("mode-1", "Mode Person")}); err != nil {
			t.Fatal(err)
		}
		// While the server runs, WAL mode keeps each database's -wal and -shm files beside it.
		checkPrivate(t, dir, "accounts.db", "accounts.db-wal", "accounts.db-shm",
			"books/*.db", "books/*.db-wal", "books/*.db-shm")
	})

	t.Run("client store in an existing directory", func(t *testing.T) {
		dir := t.TempDir()
		s, err := changelog.Open(filepath.Join(dir, "contacts.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		checkPrivate(t, dir, "contacts.db", "contacts.db-wal", "contacts.db-shm")
	})

	t.Run("files an older version made readable", func(t *testing.T) {
		dir := t.TempDir()
		for _, name := range []string{"accounts.db", "accounts.db-shm"} {
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if perm := modes(t, dir)["accounts.db"]; perm != 0o644 {
			t.Fatalf("set-up: accounts.db is %04o, want 0644", perm)
		}
		srv, err := carddavserver.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		checkPrivate(t, dir, "accounts.db", "accounts.db-shm")
	})
}
