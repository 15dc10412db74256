package engine

import (
	"embed"
	"io/fs"

	"github.com/contactsync/contactsync/changelog"
)

//go:embed migrations/*.sql
var embeddedMigrations embed.FS

// Migrations registers the engine's tables with the store: pass it to changelog.Open so the mirror, the remote
// state and the contacts can change in one transaction.
func Migrations() changelog.Option {
	sub, err := fs.Sub(embeddedMigrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time; failing here is a build mistake
	}
	return changelog.WithMigrations("engine", sub)
}
