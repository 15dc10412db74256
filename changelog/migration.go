package changelog

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
)

// coreNamespace is the migration namespace of the store's own tables.
const coreNamespace = "changelog"

//go:embed migrations/*.sql
var embeddedMigrations embed.FS

var coreMigrations = mustSub(embeddedMigrations, "migrations")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the directory is embedded at build time; failing here is a build mistake
	}
	return sub
}

// migrationFile matches NNNN_name.sql; the number is the schema version the file brings the namespace to.
var migrationFile = regexp.MustCompile(`^([0-9]{4})_[A-Za-z0-9_-]+\.sql$`)

// A migrationSet is one namespace's numbered schema files.
type migrationSet struct {
	namespace string
	fsys      fs.FS
}

type migration struct {
	version int
	name    string
	sql     string
}

// load reads and checks the set's files: versions must run 1, 2, 3, … without gaps or repeats, so that two
// builds can never disagree on what version n means.
func (m migrationSet) load() ([]migration, error) {
	entries, err := fs.ReadDir(m.fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations %q: %w", m.namespace, err)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		match := migrationFile.FindStringSubmatch(e.Name())
		if match == nil {
			return nil, fmt.Errorf("migrations %q: %w: file %s is not named NNNN_name.sql", m.namespace, ErrInvalid, e.Name())
		}
		version, _ := strconv.Atoi(match[1]) // four digits always parse
		text, err := fs.ReadFile(m.fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("migrations %q: %w", m.namespace, err)
		}
		out = append(out, migration{version: version, name: e.Name(), sql: string(text)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, mig := range out {
		if mig.version != i+1 {
			return nil, fmt.Errorf("migrations %q: %w: %s should be version %04d (versions start at 0001 and have no gaps or repeats)",
				m.namespace, ErrInvalid, mig.name, i+1)
		}
	}
	return out, nil
}

// migrate brings every registered namespace up to date in one write transaction, so a crash mid-way leaves the
// database at its old versions, never half migrated.
func migrate(ctx context.Context, db *sql.DB, sets []migrationSet) (err error) {
	loaded := make([][]migration, len(sets))
	for i, set := range sets {
		if loaded[i], err = set.load(); err != nil {
			return err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the error being returned says why; the rollback's own result adds nothing
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_versions (
		namespace TEXT PRIMARY KEY NOT NULL,
		version   INTEGER NOT NULL
	) WITHOUT ROWID`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for i, set := range sets {
		if err := applyMigrations(ctx, tx, set.namespace, loaded[i]); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

func applyMigrations(ctx context.Context, tx *sql.Tx, namespace string, migs []migration) error {
	var current int
	err := tx.QueryRowContext(ctx, `SELECT version FROM schema_versions WHERE namespace = ?`, namespace).Scan(&current)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("migrate %q: %w", namespace, err)
	}
	if current > len(migs) {
		return fmt.Errorf("migrate %q: %w: the database is at version %d, this program knows %d",
			namespace, ErrSchemaTooNew, current, len(migs))
	}
	for _, mig := range migs[current:] {
		if _, err := tx.ExecContext(ctx, mig.sql); err != nil {
			return fmt.Errorf("migrate %q: %s: %w", namespace, mig.name, err)
		}
	}
	if current == len(migs) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_versions (namespace, version) VALUES (?, ?)
		ON CONFLICT (namespace) DO UPDATE SET version = excluded.version`, namespace, len(migs)); err != nil {
		return fmt.Errorf("migrate %q: %w", namespace, err)
	}
	return nil
}
