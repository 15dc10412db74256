package changelog

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func sqlFiles(files map[string]string) fstest.MapFS {
	out := fstest.MapFS{}
	for name, text := range files {
		out[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return out
}

var (
	extV1 = map[string]string{
		"0001_items.sql": `CREATE TABLE ext_items (k TEXT PRIMARY KEY, v INTEGER NOT NULL);`,
		"README.md":      "files that are not .sql are ignored",
	}
	extV2 = map[string]string{
		"0001_items.sql": extV1["0001_items.sql"],
		"0002_seed.sql":  `INSERT INTO ext_items (k, v) VALUES ('seed', 1); CREATE INDEX ext_items_v ON ext_items (v);`,
	}
)

func schemaVersion(t *testing.T, s *Store, namespace string) int {
	t.Helper()
	var v int
	if err := s.readers.QueryRow(`SELECT version FROM schema_versions WHERE namespace = ?`, namespace).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contacts.db")
	reopen := func(files map[string]string) (*Store, error) {
		return Open(path, WithMigrations("ext", sqlFiles(files)))
	}
	s, err := reopen(extV1)
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaVersion(t, s, "ext"); got != 1 {
		t.Errorf("ext at version %d, want 1", got)
	}
	if got, want := schemaVersion(t, s, coreNamespace), len(mustLoad(t, coreMigrations)); got != want {
		t.Errorf("changelog at version %d, want %d", got, want)
	}
	s.Close()

	// A later build adds 0002: only it runs (its INSERT would fail on a second run of 0001).
	for range 2 {
		if s, err = reopen(extV2); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.readers.QueryRow(`SELECT COUNT(*) FROM ext_items`).Scan(&n); err != nil || n != 1 {
			t.Errorf("ext_items holds %d rows, %v; want the one seed row", n, err)
		}
		s.Close()
	}

	// The old build must refuse the newer schema rather than run against it.
	if _, err := reopen(extV1); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("opening a version-2 schema with version-1 code: %v, want ErrSchemaTooNew", err)
	}

	// A failing migration applies nothing: not its own first statement, nor the other namespaces'.
	broken := map[string]string{
		"0001_items.sql": extV1["0001_items.sql"],
		"0002_seed.sql":  extV2["0002_seed.sql"],
		"0003_bad.sql":   `CREATE TABLE ext_more (x); INSERT INTO no_such_table VALUES (1);`,
	}
	_, err = Open(path, WithMigrations("ext", sqlFiles(broken)), WithMigrations("other", sqlFiles(extV1)))
	if err == nil || !strings.Contains(err.Error(), "0003_bad.sql") {
		t.Fatalf("Open with a broken migration = %v, want an error naming 0003_bad.sql", err)
	}
	s, err = reopen(extV2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var tables int
	if err := s.readers.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('ext_more')`).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("a failed migration left %d tables behind (%v)", tables, err)
	}
	if got := schemaVersion(t, s, "ext"); got != 2 {
		t.Errorf("ext at version %d after a failed migration, want 2", got)
	}
	var others int
	if err := s.readers.QueryRow(`SELECT COUNT(*) FROM schema_versions WHERE namespace = 'other'`).Scan(&others); err != nil || others != 0 {
		t.Errorf("namespace other was recorded although its transaction failed (%d, %v)", others, err)
	}
}

func mustLoad(t *testing.T, fsys fs.FS) []migration {
	t.Helper()
	migs, err := migrationSet{namespace: "test", fsys: fsys}.load()
	if err != nil {
		t.Fatal(err)
	}
	return migs
}

func TestCoreSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contacts.db")
	s := openAt(t, path)
	if _, err := s.writer.Exec(`UPDATE schema_versions SET version = 99 WHERE namespace = 'changelog'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("Open = %v, want ErrSchemaTooNew naming version 99", err)
	}
}

func TestMigrationOptionsRefused(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
	}{
		{"bad file name", []Option{WithMigrations("ext", sqlFiles(map[string]string{"1_x.sql": "SELECT 1;"}))}},
		{"gap", []Option{WithMigrations("ext", sqlFiles(map[string]string{"0001_a.sql": "SELECT 1;", "0003_c.sql": "SELECT 1;"}))}},
		{"repeat", []Option{WithMigrations("ext", sqlFiles(map[string]string{"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 1;"}))}},
		{"no zero", []Option{WithMigrations("ext", sqlFiles(map[string]string{"0000_a.sql": "SELECT 1;"}))}},
		{"namespace twice", []Option{WithMigrations("ext", sqlFiles(extV1)), WithMigrations("ext", sqlFiles(extV1))}},
		{"the store's own namespace", []Option{WithMigrations(coreNamespace, sqlFiles(extV1))}},
		{"empty namespace", []Option{WithMigrations("", sqlFiles(extV1))}},
		{"nil clock", []Option{WithClock(nil)}},
		{"retention max below min", []Option{WithRetention(Retention{MinRevisions: 10, MaxRevisions: 5})}},
		{"negative age", []Option{WithRetention(Retention{MinAge: -1})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "contacts.db"), tt.opts...)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Open = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(\"\") = %v, want ErrInvalid", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "dir", "contacts.db")); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
	// A path with characters that mean something in a URI must still name the file.
	path := filepath.Join(t.TempDir(), "my contacts?#%.db")
	s := openAt(t, path)
	if s.Path() != path {
		t.Errorf("Path = %q, want %q", s.Path(), path)
	}
	if _, err := s.Add(t.Context(), Local, card("a", 1)); err != nil {
		t.Fatal(err)
	}
	var file string
	if err := s.readers.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil || file != path {
		t.Errorf("database file = %q, %v; want %q", file, err, path)
	}
}
