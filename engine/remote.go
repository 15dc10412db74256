package engine

import (
	"context"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine/storage"
)

// Remote is one collection of contacts the engine syncs with, in the engine's own terms (package storage): the
// CardDAV client's Collection is one implementation, adapted at its edge; an encrypting layer or another kind
// of storage is another. Every implementation must pass the conformance suite in engine/storage/storagetest.
//
// Errors wrap the storage outcome the engine branches on: [storage.ErrPreconditionFailed] for a write whose
// condition failed, [storage.ErrGone] for an href that holds nothing, [storage.ErrCredentialsRejected],
// [storage.ErrRejected] for a final refusal of one object, [storage.ErrUnavailable] for a failure that may heal
// by waiting ([storage.RetryAfter] says how long), [storage.ErrInvalidToken] and [storage.ErrNotSupported]
// from Changes.
type Remote interface {
	// Changes lists what changed since token ("" for everything), one page at a time (Page.More).
	Changes(ctx context.Context, token string) (*storage.Page, error)
	// List lists every member with its version tag, for a storage without Changes.
	List(ctx context.Context) (*storage.Listing, error)
	// Fetch fetches the objects at hrefs: one object per href asked (a repeated one too), in their order; an
	// object that cannot be read carries its Err.
	Fetch(ctx context.Context, hrefs []string) ([]storage.Object, error)
	// FetchAll streams every object of the collection to fn, stopping at fn's first error. A storage may stop
	// early or leave members out (the engine fetches those with Fetch).
	FetchAll(ctx context.Context, fn func(storage.Object) error) error
	// Get fetches one object.
	Get(ctx context.Context, href string) (*storage.Object, error)
	// Put writes data at href under cond and returns the new version's tag, or "" when the storage did not
	// say (the engine then reads it back, with the other writes of its batch).
	Put(ctx context.Context, href string, data []byte, cond storage.Condition) (storage.Tag, error)
	// Delete removes the object at href if its version is still tag. Deleting what is not there fails with
	// ErrGone or ErrPreconditionFailed (RFC 9110 makes If-Match false where nothing is).
	Delete(ctx context.Context, href string, tag storage.Tag) error
	// HrefFor is the href a new contact with this UID is created at: the same UID always gives the same href,
	// so a repeated upload can never create a duplicate. The storage chooses its names (an encrypted one does
	// not put the UID in them).
	HrefFor(uid string) string
}

// RemoteConfig is a configured remote. It never holds a password: the caller keeps credentials.
type RemoteConfig struct {
	// Name identifies the remote on this device; changes pulled from it carry the origin changelog.FromRemote(Name).
	Name string
	// Kind is the kind of storage, which says how to open it (KindCardDAV for a CardDAV address book).
	Kind string
	// Endpoint is where the user pointed the device (for CardDAV the server URL discovery started from).
	Endpoint string
	// Collection names the collection synced, in the kind's own terms (for CardDAV the address book's
	// absolute URL).
	Collection string
	// Username is the account's user name ("" for none).
	Username string
	// Settings are what the kind keeps for this remote besides the collection (for CardDAV "ca-file", the
	// certificate authority of a self-hosted server). Never a secret: passwords stay with the caller.
	Settings map[string]string
}

// KindCardDAV is the kind of a remote that is a CardDAV address book.
const KindCardDAV = "carddav"

// Remote states.
const (
	StateOK                  = "ok"
	StateCredentialsRejected = "credentials-rejected"
)

// CursorName is the changelog cursor of the remote called name: the revision up to which the device's changes
// have been pushed to it.
func CursorName(name string) string { return "remote:" + name }

func validName(what, name string) error {
	if name == "" || !utf8.ValidString(name) || len(name) > 200 {
		return fmt.Errorf("%w: %s %q must be 1 to 200 bytes of UTF-8", ErrInvalid, what, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return fmt.Errorf("%w: %s %q has spaces or control characters", ErrInvalid, what, name)
		}
	}
	return nil
}

// AddRemote configures a new remote. Its first sync will pull before it pushes, so contacts the storage already
// holds are merged by UID rather than duplicated. The engine checks the name and kind; whoever opens the kind
// checks the collection (see engine/device's kinds).
func AddRemote(ctx context.Context, store *changelog.Store, rc RemoteConfig) error {
	if err := validName("remote name", rc.Name); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if err := validName("remote kind", rc.Kind); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if rc.Collection == "" {
		return fmt.Errorf("engine: %w: remote %s has no collection", ErrInvalid, rc.Name)
	}
	err := store.Update(ctx, func(tx *changelog.Tx) error {
		return ledger{tx: tx, remote: rc.Name}.addRemote(rc, time.Now())
	})
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	return nil
}

// RemoveRemote forgets a remote: its cursor, mirror, sync token and set-aside items. It never touches
// contacts, on the device or on the server, nor the conflicts recorded in the store.
func RemoveRemote(ctx context.Context, store *changelog.Store, name string) error {
	err := store.Update(ctx, func(tx *changelog.Tx) error { return ledger{tx: tx, remote: name}.removeRemote() })
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	return nil
}

// Remotes lists the configured remotes by name.
func Remotes(ctx context.Context, store *changelog.Store) ([]RemoteConfig, error) {
	var out []RemoteConfig
	err := store.View(ctx, func(tx *changelog.Tx) error {
		names, err := remoteNames(tx)
		if err != nil {
			return err
		}
		for _, name := range names {
			rs, err := ledger{tx: tx, remote: name}.load()
			if err != nil {
				return err
			}
			out = append(out, rs.RemoteConfig)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("engine: list remotes: %w", err)
	}
	return out, nil
}
