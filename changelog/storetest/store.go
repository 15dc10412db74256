package storetest

import (
	"context"
	"iter"

	"github.com/contactsync/contactsync/changelog"
)

// Store is what a changelog store offers the sync worker and the CLI. Every backend speaks package changelog's
// vocabulary (Contact, Change, Task, Origin, Conflict and the sentinel errors), so a consumer written against
// one backend reads the other's answers the same way. The one-transaction conveniences of *changelog.Store
// (Add, Replace, Remove, Clear, Apply outside a Tx) are an Update with one call and are not part of the surface.
type Store interface {
	// Update runs fn in one write transaction and commits what fn did if fn returns nil; otherwise, or if fn
	// panics, it keeps nothing, and it returns fn's error.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in one read transaction on a consistent snapshot of the last committed state; every change
	// through its Tx fails with changelog.ErrReadOnly.
	View(ctx context.Context, fn func(Tx) error) error
	// Sync replays the changes after revision from as folded tasks ending with done.
	Sync(ctx context.Context, from uint64) iter.Seq2[changelog.Task, error]
	// Notify returns a channel closed by the next commit that adds a revision.
	Notify() <-chan struct{}

	// Get returns the contact with the given ID, or an error wrapping changelog.ErrNotFound.
	Get(ctx context.Context, id string) (changelog.Contact, error)
	// All yields every contact in ID order, from one snapshot.
	All(ctx context.Context) iter.Seq2[changelog.Contact, error]
	// LastRevision is the newest committed revision (0 for a new store).
	LastRevision(ctx context.Context) (uint64, error)

	// Cursor returns the named cursor, or an error wrapping changelog.ErrNotFound.
	Cursor(ctx context.Context, name string) (uint64, error)
	// Cursors returns every cursor by name.
	Cursors(ctx context.Context) (map[string]uint64, error)
	// SetCursor saves a cursor in its own transaction.
	SetCursor(ctx context.Context, name string, rev uint64) error
	// DeleteCursor forgets a cursor in its own transaction; changelog.ErrNotFound if there is none.
	DeleteCursor(ctx context.Context, name string) error

	// Horizon is the newest revision no longer in the kept history (0 if nothing was dropped).
	Horizon(ctx context.Context) (uint64, error)
	// Trim drops the history every cursor has passed, as far as the store's retention allows, and returns the
	// new horizon.
	Trim(ctx context.Context) (uint64, error)

	// Conflicts lists the recorded conflicts, newest first; only the open ones unless all is set.
	Conflicts(ctx context.Context, all bool) ([]changelog.Conflict, error)
}

// Tx is what a transaction offers inside [Store.Update] and [Store.View]; *changelog.Tx has these (and SQL for
// the caller's own tables besides). A Tx is valid only inside the callback it was handed to.
type Tx interface {
	// Get returns a contact as this transaction sees it, or an error wrapping changelog.ErrNotFound.
	Get(id string) (changelog.Contact, error)
	// Missing returns, in their order, those of ids that name no contact as this transaction sees it.
	Missing(ids []string) ([]string, error)
	// Add stores a new contact under the next revision (changelog.ErrExists if the ID is taken).
	Add(origin changelog.Origin, c changelog.Contact) (changelog.Contact, error)
	// Replace replaces an existing contact's vCard and source under the next revision (changelog.ErrNotFound).
	Replace(origin changelog.Origin, c changelog.Contact) (changelog.Contact, error)
	// Remove deletes a contact under the next revision (changelog.ErrNotFound).
	Remove(origin changelog.Origin, id string) error
	// Clear deletes every contact under one new revision.
	Clear(origin changelog.Origin) error
	// Apply makes a batch of changes under consecutive revisions, all or nothing, and returns the last revision.
	Apply(origin changelog.Origin, changes []changelog.Change) (uint64, error)
	// LastRevision is the newest revision, counting this transaction's changes so far.
	LastRevision() uint64

	// Cursor returns the named cursor as this transaction sees it (changelog.ErrNotFound).
	Cursor(name string) (uint64, error)
	// SetCursor saves a cursor at any revision up to LastRevision, committing with the transaction.
	SetCursor(name string, rev uint64) error
	// DeleteCursor forgets a cursor (changelog.ErrNotFound), committing with the transaction.
	DeleteCursor(name string) error

	// RecordConflict keeps a conflict, committing with the transaction; an ID already kept changes nothing.
	RecordConflict(c changelog.Conflict) error
	// ResolveConflict marks an open conflict resolved by this transaction's last revision.
	ResolveConflict(id, resolution string) error
	// Conflict returns one conflict, open or resolved, as this transaction sees it (changelog.ErrNotFound).
	Conflict(id string) (changelog.Conflict, error)
}

// Subject is a store under test: a [Store] and the way its consumer keeps state of its own in the same
// transaction as the store's changes (the engine's mirror and remotes beside the SQLite log, or keys in a KV
// bucket beside a JetStream log). The suite writes and reads that state only through these two methods, so that
// it can check the state commits and rolls back with the rest of the transaction.
type Subject interface {
	Store
	// PutState keeps value under key in the consumer's own state, inside tx (a Tx this Subject handed out). It
	// must commit and roll back with tx, and fail inside a View.
	PutState(tx Tx, key, value string) error
	// State reads key from the consumer's own state as tx sees it, or fails with an error wrapping
	// changelog.ErrNotFound.
	State(tx Tx, key string) (string, error)
}
