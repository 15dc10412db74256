package carddavserver

import (
	"database/sql"
	"net/url"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// openSQLite opens a database/sql pool on the SQLite file at path with the pragmas every connection needs
// (the same ones the changelog uses) plus extra, given as DSN parameters so a reopened connection has them.
func openSQLite(path string, maxConns int, extra url.Values) (*sql.DB, error) {
	q := url.Values{
		"_busy_timeout":    {"10000"},
		"_foreign_keys":    {"1"},
		"_stmt_cache_size": {"32"},
	}
	for k, v := range extra {
		q[k] = v
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	return db, nil
}
