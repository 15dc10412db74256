package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine/storage"
)

// RemoteStatus is what `contactsync status` shows for one remote. It holds no secret (the sync token is the
// server's bookmark, not a credential).
type RemoteStatus struct {
	RemoteConfig
	// State is StateOK or StateCredentialsRejected.
	State string
	// Cursor is the revision up to which the device's changes were pushed (0 before the first push).
	Cursor uint64
	// Pending counts contacts changed after Cursor that the next push looks at.
	Pending int
	// SyncToken is the token of the last page pulled ("" before the first pull or when the server lists
	// ETags instead).
	SyncToken string
	// LastSync is the time of the last complete pull (zero if never).
	LastSync time.Time
	// LastError is the last failure ("" after a success).
	LastError string
	// Mirrored counts contacts the device and the remote agree on.
	Mirrored int
	// Conflicts counts the open merge conflicts recorded while syncing with this remote.
	Conflicts int
	// SetAside lists what syncs went past.
	SetAside []SetAside
}

// SetAside is an item a sync went past without applying it.
type SetAside struct {
	// Kind is "pull" (a server member the device could not read; Ref is its href) or "push" (a contact the
	// server refused; Ref is its ID).
	Kind, Ref, Reason string
	// Tag is the version tag of a pull item set aside (so the same bad version is not fetched again).
	Tag storage.Tag
	At  time.Time
}

// Status reports every remote's state, by name.
func Status(ctx context.Context, store *changelog.Store) ([]RemoteStatus, error) {
	remotes, err := Remotes(ctx, store)
	if err != nil {
		return nil, err
	}
	out := make([]RemoteStatus, 0, len(remotes))
	for _, rc := range remotes {
		st, err := status(ctx, store, rc.Name)
		if err != nil {
			return nil, fmt.Errorf("engine: status of %s: %w", rc.Name, err)
		}
		out = append(out, st)
	}
	return out, nil
}

func status(ctx context.Context, store *changelog.Store, name string) (RemoteStatus, error) {
	var st RemoteStatus
	err := store.View(ctx, func(tx *changelog.Tx) error {
		l := ledger{tx: tx, remote: name}
		rs, err := l.load()
		if err != nil {
			return err
		}
		st = RemoteStatus{RemoteConfig: rs.RemoteConfig, State: rs.state, SyncToken: rs.token, LastSync: rs.lastSync, LastError: rs.lastError}
		if st.Mirrored, err = l.mirroredCount(); err != nil {
			return err
		}
		st.SetAside, err = l.setAsides()
		return err
	})
	if err != nil {
		return st, err
	}
	conflicts, err := store.Conflicts(ctx, false)
	if err != nil {
		return st, err
	}
	for _, c := range conflicts {
		if c.Remote == name {
			st.Conflicts++
		}
	}
	s := &Syncer{store: store, name: name}
	if st.Cursor, err = s.cursor(ctx); err != nil {
		return st, err
	}
	ids, _, err := pending(ctx, store, name, st.Cursor)
	if err != nil {
		return st, err
	}
	st.Pending = len(ids)
	return st, nil
}
