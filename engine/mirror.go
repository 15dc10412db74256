package engine

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/changelog"
)

// mirror is one row of engine_mirror: the version of a contact that the device and one remote last agreed on.
type mirror struct {
	ContactID string
	Href      string
	ETag      carddav.ETag
	Base      []byte // nil while no version is agreed
	LocalRev  uint64
	Pending   []byte // an upload in flight whose outcome is unknown
}

const mirrorColumns = `contact_id, href, etag, base, local_rev, pending`

func scanMirror(row interface{ Scan(...any) error }) (*mirror, error) {
	var m mirror
	var etag string
	var rev int64
	if err := row.Scan(&m.ContactID, &m.Href, &etag, &m.Base, &rev, &m.Pending); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, err
	}
	m.ETag, m.LocalRev = carddav.ETag(etag), uint64(rev)
	return &m, nil
}

func mirrorByID(tx *changelog.Tx, remote, id string) (*mirror, error) {
	m, err := scanMirror(tx.QueryRow(`SELECT `+mirrorColumns+` FROM engine_mirror WHERE remote = ? AND contact_id = ?`, remote, id))
	if err != nil {
		return nil, fmt.Errorf("engine: read mirror of %s: %w", id, err)
	}
	return m, nil
}

func mirrorByHref(tx *changelog.Tx, remote, href string) (*mirror, error) {
	m, err := scanMirror(tx.QueryRow(`SELECT `+mirrorColumns+` FROM engine_mirror WHERE remote = ? AND href = ?`, remote, href))
	if err != nil {
		return nil, fmt.Errorf("engine: read mirror of %s: %w", href, err)
	}
	return m, nil
}

func putMirror(tx *changelog.Tx, remote string, m mirror) error {
	// A contact moving to another href, or an href taken over by another UID, replaces the old row: the
	// unique index on href would otherwise refuse the write.
	if _, err := tx.Exec(`DELETE FROM engine_mirror WHERE remote = ? AND href = ? AND contact_id <> ?`, remote, m.Href, m.ContactID); err != nil {
		return fmt.Errorf("engine: write mirror of %s: %w", m.ContactID, err)
	}
	_, err := tx.Exec(`INSERT INTO engine_mirror (remote, contact_id, href, etag, base, local_rev, pending) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (remote, contact_id) DO UPDATE SET href = excluded.href, etag = excluded.etag, base = excluded.base,
		local_rev = excluded.local_rev, pending = excluded.pending`, remote, m.ContactID, m.Href, string(m.ETag), nullable(m.Base),
		int64(m.LocalRev), nullable(m.Pending))
	if err != nil {
		return fmt.Errorf("engine: write mirror of %s: %w", m.ContactID, err)
	}
	return nil
}

// nullable stores a nil slice as NULL (an empty one too: no vCard is empty).
func nullable(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func deleteMirror(tx *changelog.Tx, remote, id string) error {
	if _, err := tx.Exec(`DELETE FROM engine_mirror WHERE remote = ? AND contact_id = ?`, remote, id); err != nil {
		return fmt.Errorf("engine: delete mirror of %s: %w", id, err)
	}
	return nil
}

// Set-aside kinds.
const (
	asidePull = "pull"
	asidePush = "push"
)

func setAside(tx *changelog.Tx, remote, kind, ref string, etag carddav.ETag, reason string, at int64) error {
	_, err := tx.Exec(`INSERT INTO engine_set_aside (remote, kind, ref, etag, reason, at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (remote, kind, ref) DO UPDATE SET etag = excluded.etag, reason = excluded.reason, at = excluded.at`,
		remote, kind, ref, string(etag), reason, at)
	if err != nil {
		return fmt.Errorf("engine: set aside %s: %w", ref, err)
	}
	return nil
}

func clearAside(tx *changelog.Tx, remote, kind, ref string) error {
	if _, err := tx.Exec(`DELETE FROM engine_set_aside WHERE remote = ? AND kind = ? AND ref = ?`, remote, kind, ref); err != nil {
		return fmt.Errorf("engine: clear set-aside %s: %w", ref, err)
	}
	return nil
}

// recordConflicts keeps the merge's conflicts in the store, in the merge's transaction.
func recordConflicts(tx *changelog.Tx, remote, id string, cs []changelog.Conflict) error {
	for _, c := range cs {
		c.ContactID, c.Remote = id, remote
		if err := tx.RecordConflict(c); err != nil {
			return fmt.Errorf("engine: record conflict of %s: %w", id, err)
		}
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
