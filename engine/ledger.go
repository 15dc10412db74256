package engine

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine/storage"
)

// ledger is the engine's own state for one remote, read and written inside one store transaction so that every
// effect of a sync commits with the state that records it: the remote's row (its sync token, listing mode and
// last outcome), the mirror (per contact, the version both sides last agreed on and any upload in doubt) and
// the items set aside. It is the one place the engine's tables (engine/migrations) are touched; the rest of the
// engine speaks to it in these typed methods, and a second store would implement the same methods.
type ledger struct {
	tx     *changelog.Tx
	remote string
}

func (s *Syncer) ledger(tx *changelog.Tx) ledger { return ledger{tx: tx, remote: s.name} }

// mirror is one contact's row of the mirror: the version of a contact that the device and one remote last
// agreed on.
type mirror struct {
	ContactID string
	Href      string
	Tag       storage.Tag
	Base      []byte // nil while no version is agreed
	LocalRev  uint64
	Pending   []byte // an upload in flight whose outcome is unknown
}

const mirrorColumns = `contact_id, href, etag, base, local_rev, pending`

func scanMirror(row interface{ Scan(...any) error }) (*mirror, error) {
	var m mirror
	var tag string
	var rev int64
	if err := row.Scan(&m.ContactID, &m.Href, &tag, &m.Base, &rev, &m.Pending); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, err
	}
	m.Tag, m.LocalRev = storage.Tag(tag), uint64(rev)
	return &m, nil
}

// mirrorByID is the row of a contact, nil for none.
func (l ledger) mirrorByID(id string) (*mirror, error) {
	m, err := scanMirror(l.tx.QueryRow(`SELECT `+mirrorColumns+` FROM engine_mirror WHERE remote = ? AND contact_id = ?`, l.remote, id))
	if err != nil {
		return nil, fmt.Errorf("read mirror of %s: %w", id, err)
	}
	return m, nil
}

// mirrorByHref is the row of an href, nil for none.
func (l ledger) mirrorByHref(href string) (*mirror, error) {
	m, err := scanMirror(l.tx.QueryRow(`SELECT `+mirrorColumns+` FROM engine_mirror WHERE remote = ? AND href = ?`, l.remote, href))
	if err != nil {
		return nil, fmt.Errorf("read mirror of %s: %w", href, err)
	}
	return m, nil
}

// putMirror writes a contact's row. A contact moving to another href, or an href taken over by another UID,
// replaces the old row.
func (l ledger) putMirror(m mirror) error {
	if _, err := l.tx.Exec(`DELETE FROM engine_mirror WHERE remote = ? AND href = ? AND contact_id <> ?`, l.remote, m.Href, m.ContactID); err != nil {
		return fmt.Errorf("write mirror of %s: %w", m.ContactID, err)
	}
	_, err := l.tx.Exec(`INSERT INTO engine_mirror (remote, contact_id, href, etag, base, local_rev, pending) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (remote, contact_id) DO UPDATE SET href = excluded.href, etag = excluded.etag, base = excluded.base,
		local_rev = excluded.local_rev, pending = excluded.pending`, l.remote, m.ContactID, m.Href, string(m.Tag), nullable(m.Base),
		int64(m.LocalRev), nullable(m.Pending))
	if err != nil {
		return fmt.Errorf("write mirror of %s: %w", m.ContactID, err)
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

// deleteMirror forgets a contact's row.
func (l ledger) deleteMirror(id string) error {
	if _, err := l.tx.Exec(`DELETE FROM engine_mirror WHERE remote = ? AND contact_id = ?`, l.remote, id); err != nil {
		return fmt.Errorf("delete mirror of %s: %w", id, err)
	}
	return nil
}

// agreedCount counts the contacts with an agreed version.
func (l ledger) agreedCount() (int, error) {
	var n int
	if err := l.tx.QueryRow(`SELECT count(*) FROM engine_mirror WHERE remote = ? AND base IS NOT NULL`, l.remote).Scan(&n); err != nil {
		return 0, fmt.Errorf("count mirror: %w", err)
	}
	return n, nil
}

// mirroredCount counts every row, agreed or in flight.
func (l ledger) mirroredCount() (int, error) {
	var n int
	if err := l.tx.QueryRow(`SELECT count(*) FROM engine_mirror WHERE remote = ?`, l.remote).Scan(&n); err != nil {
		return 0, fmt.Errorf("count mirror: %w", err)
	}
	return n, nil
}

// agreedTags maps the href of every contact with an agreed version to its tag. Rows without an agreed version
// are first uploads in flight: the push settles them.
func (l ledger) agreedTags() (map[string]storage.Tag, error) {
	rows, err := l.tx.Query(`SELECT href, etag FROM engine_mirror WHERE remote = ? AND base IS NOT NULL`, l.remote)
	if err != nil {
		return nil, fmt.Errorf("read mirror: %w", err)
	}
	defer rows.Close()
	known := make(map[string]storage.Tag)
	for rows.Next() {
		var href, tag string
		if err := rows.Scan(&href, &tag); err != nil {
			return nil, fmt.Errorf("read mirror: %w", err)
		}
		known[href] = storage.Tag(tag)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read mirror: %w", err)
	}
	return known, nil
}

// unfinished lists, in ID order, the contacts with an upload in doubt and those the mirror holds that the
// device no longer has.
func (l ledger) unfinished() ([]string, error) {
	rows, err := l.tx.Query(`SELECT contact_id, pending IS NOT NULL FROM engine_mirror WHERE remote = ? ORDER BY contact_id`, l.remote)
	if err != nil {
		return nil, fmt.Errorf("read mirror: %w", err)
	}
	var doubts, rest []string
	for rows.Next() {
		var id string
		var pending bool
		if err := rows.Scan(&id, &pending); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read mirror: %w", err)
		}
		if pending {
			doubts = append(doubts, id)
		} else {
			rest = append(rest, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read mirror: %w", err)
	}
	gone, err := l.tx.Missing(rest)
	if err != nil {
		return nil, err
	}
	if len(doubts) == 0 {
		return gone, nil
	}
	return mergeSorted(doubts, gone), nil
}

// mergeSorted merges two sorted lists without duplicates.
func mergeSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] < b[0]:
			out, a = append(out, a[0]), a[1:]
		case b[0] < a[0]:
			out, b = append(out, b[0]), b[1:]
		default:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// Set-aside kinds.
const (
	asidePull = "pull"
	asidePush = "push"
)

// setAside records an item a sync went past: a remote member it could not read (kind asidePull, ref its href,
// tag the version seen) or a contact the storage refused (asidePush, ref its ID).
func (l ledger) setAside(kind, ref string, tag storage.Tag, reason string, at time.Time) error {
	_, err := l.tx.Exec(`INSERT INTO engine_set_aside (remote, kind, ref, etag, reason, at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (remote, kind, ref) DO UPDATE SET etag = excluded.etag, reason = excluded.reason, at = excluded.at`,
		l.remote, kind, ref, string(tag), reason, at.UnixNano())
	if err != nil {
		return fmt.Errorf("set aside %s: %w", ref, err)
	}
	return nil
}

// clearAside removes a set-aside item (the same ref succeeded since).
func (l ledger) clearAside(kind, ref string) error {
	if _, err := l.tx.Exec(`DELETE FROM engine_set_aside WHERE remote = ? AND kind = ? AND ref = ?`, l.remote, kind, ref); err != nil {
		return fmt.Errorf("clear set-aside %s: %w", ref, err)
	}
	return nil
}

// asideTag is the tag of the version of href set aside, "" for none.
func (l ledger) asideTag(href string) (storage.Tag, error) {
	var tag string
	err := l.tx.QueryRow(`SELECT etag FROM engine_set_aside WHERE remote = ? AND kind = ? AND ref = ?`, l.remote, asidePull, href).Scan(&tag)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read set-aside %s: %w", href, err)
	}
	return storage.Tag(tag), nil
}

// hasAside reports whether ref is set aside as kind.
func (l ledger) hasAside(kind, ref string) (bool, error) {
	var n int
	if err := l.tx.QueryRow(`SELECT count(*) FROM engine_set_aside WHERE remote = ? AND kind = ? AND ref = ?`, l.remote, kind, ref).Scan(&n); err != nil {
		return false, fmt.Errorf("read set-aside %s: %w", ref, err)
	}
	return n > 0, nil
}

// setAsides lists the items set aside, by kind and ref.
func (l ledger) setAsides() ([]SetAside, error) {
	rows, err := l.tx.Query(`SELECT kind, ref, etag, reason, at FROM engine_set_aside WHERE remote = ? ORDER BY kind, ref`, l.remote)
	if err != nil {
		return nil, fmt.Errorf("read set-aside: %w", err)
	}
	defer rows.Close()
	var out []SetAside
	for rows.Next() {
		var a SetAside
		var tag string
		var at int64
		if err := rows.Scan(&a.Kind, &a.Ref, &tag, &a.Reason, &at); err != nil {
			return nil, fmt.Errorf("read set-aside: %w", err)
		}
		a.Tag, a.At = storage.Tag(tag), time.Unix(0, at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read set-aside: %w", err)
	}
	return out, nil
}

// recordConflicts keeps a merge's conflicts, in the merge's transaction.
func (l ledger) recordConflicts(id string, cs []changelog.Conflict) error {
	for _, c := range cs {
		c.ContactID, c.Remote = id, l.remote
		if err := l.tx.RecordConflict(c); err != nil {
			return fmt.Errorf("record conflict of %s: %w", id, err)
		}
	}
	return nil
}

// remoteState is a remote's row as the syncer reads it.
type remoteState struct {
	RemoteConfig
	token     string
	listing   bool
	lastSync  time.Time
	lastError string
	state     string
	rewrites  int // see setRewrites
}

// load reads the remote's row; a remote that is not configured gives ErrUnknownRemote.
func (l ledger) load() (remoteState, error) {
	var rs remoteState
	var listing int
	var last int64
	var settings string
	err := l.tx.QueryRow(`SELECT name, kind, endpoint, collection, username, settings, sync_token, listing, last_sync, last_error, state, rewrites
		FROM engine_remotes WHERE name = ?`, l.remote).Scan(&rs.Name, &rs.Kind, &rs.Endpoint, &rs.Collection, &rs.Username,
		&settings, &rs.token, &listing, &last, &rs.lastError, &rs.state, &rs.rewrites)
	if errors.Is(err, sql.ErrNoRows) {
		return rs, fmt.Errorf("remote %s: %w", l.remote, ErrUnknownRemote)
	}
	if err != nil {
		return rs, fmt.Errorf("remote %s: %w", l.remote, err)
	}
	if settings != "" {
		if err := json.Unmarshal([]byte(settings), &rs.Settings); err != nil {
			return rs, fmt.Errorf("remote %s: settings: %w", l.remote, err)
		}
	}
	rs.listing = listing != 0
	if last != 0 {
		rs.lastSync = time.Unix(0, last)
	}
	return rs, nil
}

// useListing records that the storage cannot list changes since a token: pulls list everything from now on.
func (l ledger) useListing() error {
	if _, err := l.tx.Exec(`UPDATE engine_remotes SET listing = 1, sync_token = '' WHERE name = ?`, l.remote); err != nil {
		return fmt.Errorf("remote %s: %w", l.remote, err)
	}
	return nil
}

// What reading back uploads found about a storage (engine_remotes.rewrites).
const (
	keepsBytes    = 1
	rewritesBytes = 2
)

// setRewrites records what reading back uploads found: keepsBytes or rewritesBytes.
func (l ledger) setRewrites(v int) error {
	if _, err := l.tx.Exec(`UPDATE engine_remotes SET rewrites = ? WHERE name = ?`, v, l.remote); err != nil {
		return fmt.Errorf("remote %s: %w", l.remote, err)
	}
	return nil
}

// saveToken saves the sync token of the last page applied.
func (l ledger) saveToken(token string) error {
	if _, err := l.tx.Exec(`UPDATE engine_remotes SET sync_token = ? WHERE name = ?`, token, l.remote); err != nil {
		return fmt.Errorf("save sync token of %s: %w", l.remote, err)
	}
	return nil
}

// recordOutcome saves how a sync ended: a success clears the last error (and, after a pull, stamps the last
// sync), rejected credentials stop the remote, any other failure is kept as the last error.
func (l ledger) recordOutcome(pulled bool, err error, at time.Time) error {
	var e error
	switch {
	case err == nil && pulled:
		_, e = l.tx.Exec(`UPDATE engine_remotes SET last_error = '', last_sync = ? WHERE name = ?`, at.UnixNano(), l.remote)
	case err == nil:
		_, e = l.tx.Exec(`UPDATE engine_remotes SET last_error = '' WHERE name = ? AND last_error <> ''`, l.remote)
	case errors.Is(err, ErrCredentialsRejected):
		_, e = l.tx.Exec(`UPDATE engine_remotes SET last_error = ?, state = ? WHERE name = ?`, err.Error(), StateCredentialsRejected, l.remote)
	default:
		_, e = l.tx.Exec(`UPDATE engine_remotes SET last_error = ? WHERE name = ?`, err.Error(), l.remote)
	}
	if e != nil {
		return fmt.Errorf("record sync outcome of %s: %w", l.remote, e)
	}
	return nil
}

// resetCredentials marks the remote usable again.
func (l ledger) resetCredentials() error {
	res, err := l.tx.Exec(`UPDATE engine_remotes SET state = ?, last_error = '' WHERE name = ?`, StateOK, l.remote)
	if err != nil {
		return fmt.Errorf("reset credentials of %s: %w", l.remote, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("reset credentials of %s: %w", l.remote, ErrUnknownRemote)
	}
	return nil
}

// addRemote creates the remote's row; ErrRemoteExists if the name is taken.
func (l ledger) addRemote(rc RemoteConfig, at time.Time) error {
	var settings []byte
	if len(rc.Settings) > 0 {
		var err error
		if settings, err = json.Marshal(rc.Settings); err != nil {
			return fmt.Errorf("add remote %s: settings: %w", rc.Name, err)
		}
	}
	res, err := l.tx.Exec(`INSERT INTO engine_remotes (name, kind, endpoint, collection, username, settings, created)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`, rc.Name, rc.Kind, rc.Endpoint, rc.Collection, rc.Username,
		string(settings), at.UnixNano())
	if err != nil {
		return fmt.Errorf("add remote %s: %w", rc.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("add remote %s: %w", rc.Name, ErrRemoteExists)
	}
	return nil
}

// removeRemote forgets the remote's row, mirror, set-aside items and cursor.
func (l ledger) removeRemote() error {
	res, err := l.tx.Exec(`DELETE FROM engine_remotes WHERE name = ?`, l.remote)
	if err != nil {
		return fmt.Errorf("remove remote %s: %w", l.remote, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("remove remote %s: %w", l.remote, ErrUnknownRemote)
	}
	for _, table := range []string{"engine_mirror", "engine_set_aside"} {
		if _, err := l.tx.Exec(`DELETE FROM `+table+` WHERE remote = ?`, l.remote); err != nil {
			return fmt.Errorf("remove remote %s: %w", l.remote, err)
		}
	}
	if err := l.tx.DeleteCursor(CursorName(l.remote)); err != nil && !errors.Is(err, changelog.ErrNotFound) {
		return fmt.Errorf("remove remote %s: %w", l.remote, err)
	}
	return nil
}

// remoteNames lists the configured remotes' names, in order.
func remoteNames(tx *changelog.Tx) ([]string, error) {
	rows, err := tx.Query(`SELECT name FROM engine_remotes ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}
