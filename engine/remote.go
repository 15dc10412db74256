package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/changelog"
)

// Remote is what the engine needs from a CardDAV client; *carddav.Client implements it. Tests put fault
// injection in front of a real client through it.
type Remote interface {
	SyncCollection(ctx context.Context, abURL, token string, limit int) (*carddav.SyncPage, error)
	ListETags(ctx context.Context, abURL string) (*carddav.Listing, error)
	MultiGet(ctx context.Context, abURL string, hrefs []string) ([]carddav.Object, error)
	QueryAll(ctx context.Context, abURL string, fn func(carddav.Object) error) error
	Get(ctx context.Context, href string) (*carddav.Object, error)
	Put(ctx context.Context, href string, body []byte, cond carddav.Condition) (carddav.ETag, error)
	Delete(ctx context.Context, href string, etag carddav.ETag) error
}

var _ Remote = (*carddav.Client)(nil)

// RemoteConfig is a configured remote. It never holds a password: the caller keeps credentials.
type RemoteConfig struct {
	// Name identifies the remote on this device; changes pulled from it carry the origin changelog.Remote(Name).
	Name string
	// Endpoint is the server URL discovery started from.
	Endpoint string
	// AddressBook is the absolute URL of the address book synced.
	AddressBook string
	// Username is the HTTP user ("" for none).
	Username string
}

// Remote states.
const (
	StateOK                  = "ok"
	StateCredentialsRejected = "credentials-rejected"
)

// CursorName is the changelog cursor of the remote called name: the revision up to which the device's changes
// have been pushed to it.
func CursorName(name string) string { return "remote:" + name }

func validName(name string) error {
	if name == "" || !utf8.ValidString(name) || len(name) > 200 {
		return fmt.Errorf("engine: %w: remote name %q must be 1 to 200 bytes of UTF-8", ErrInvalid, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return fmt.Errorf("engine: %w: remote name %q has spaces or control characters", ErrInvalid, name)
		}
	}
	return nil
}

// AddRemote configures a new remote. Its first sync will pull before it pushes, so contacts the server already
// holds are merged by UID rather than duplicated.
func AddRemote(ctx context.Context, store *changelog.Store, rc RemoteConfig) error {
	if err := validName(rc.Name); err != nil {
		return err
	}
	if !strings.HasPrefix(rc.AddressBook, "http://") && !strings.HasPrefix(rc.AddressBook, "https://") {
		return fmt.Errorf("engine: %w: address book %q is not an absolute http(s) URL", ErrInvalid, rc.AddressBook)
	}
	return store.Update(ctx, func(tx *changelog.Tx) error {
		_, err := tx.Exec(`INSERT INTO engine_remotes (name, endpoint, addressbook, username, created)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`, rc.Name, rc.Endpoint, rc.AddressBook, rc.Username, time.Now().UnixNano())
		if err != nil {
			return fmt.Errorf("engine: add remote %s: %w", rc.Name, err)
		}
		var created int64
		if err := tx.QueryRow(`SELECT changes()`).Scan(&created); err != nil {
			return fmt.Errorf("engine: add remote %s: %w", rc.Name, err)
		}
		if created == 0 {
			return fmt.Errorf("engine: add remote %s: %w", rc.Name, ErrRemoteExists)
		}
		return nil
	})
}

// RemoveRemote forgets a remote: its cursor, mirror, sync token and set-aside items. It never touches
// contacts, on the device or on the server, nor the conflicts recorded in the store.
func RemoveRemote(ctx context.Context, store *changelog.Store, name string) error {
	return store.Update(ctx, func(tx *changelog.Tx) error {
		res, err := tx.Exec(`DELETE FROM engine_remotes WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("engine: remove remote %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("engine: remove remote %s: %w", name, ErrUnknownRemote)
		}
		for _, table := range []string{"engine_mirror", "engine_set_aside"} {
			if _, err := tx.Exec(`DELETE FROM `+table+` WHERE remote = ?`, name); err != nil {
				return fmt.Errorf("engine: remove remote %s: %w", name, err)
			}
		}
		if err := tx.DeleteCursor(CursorName(name)); err != nil && !errors.Is(err, changelog.ErrNotFound) {
			return fmt.Errorf("engine: remove remote %s: %w", name, err)
		}
		return nil
	})
}

// Remotes lists the configured remotes by name.
func Remotes(ctx context.Context, store *changelog.Store) ([]RemoteConfig, error) {
	var out []RemoteConfig
	err := view(ctx, store, func(tx *changelog.Tx) error {
		out = nil
		rows, err := tx.Query(`SELECT name, endpoint, addressbook, username FROM engine_remotes ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var rc RemoteConfig
			if err := rows.Scan(&rc.Name, &rc.Endpoint, &rc.AddressBook, &rc.Username); err != nil {
				return err
			}
			out = append(out, rc)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("engine: list remotes: %w", err)
	}
	return out, nil
}

// remoteState is a remote's row as the syncer reads it.
type remoteState struct {
	RemoteConfig
	token     string
	listing   bool
	lastSync  time.Time
	lastError string
	state     string
}

func loadState(tx *changelog.Tx, name string) (remoteState, error) {
	var rs remoteState
	var listing int
	var last int64
	err := tx.QueryRow(`SELECT name, endpoint, addressbook, username, sync_token, listing, last_sync, last_error, state
		FROM engine_remotes WHERE name = ?`, name).Scan(&rs.Name, &rs.Endpoint, &rs.AddressBook, &rs.Username,
		&rs.token, &listing, &last, &rs.lastError, &rs.state)
	if errors.Is(err, sql.ErrNoRows) {
		return rs, fmt.Errorf("engine: remote %s: %w", name, ErrUnknownRemote)
	}
	if err != nil {
		return rs, fmt.Errorf("engine: remote %s: %w", name, err)
	}
	rs.listing = listing != 0
	if last != 0 {
		rs.lastSync = time.Unix(0, last)
	}
	return rs, nil
}

// view runs a read in a store transaction. The store offers no read transaction for a consumer's own
// tables, and reading through Update keeps every read consistent with the writes of the same process.
func view(ctx context.Context, store *changelog.Store, fn func(*changelog.Tx) error) error {
	return store.Update(ctx, fn)
}
