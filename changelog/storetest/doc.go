// Package storetest writes down the surface of a changelog store, the one the sync worker and the CLI use, as
// Go interfaces ([Store], [Tx]), and checks that a store keeps its contract: [Run] is a conformance suite that
// every backend must pass (the SQLite store of package changelog today, a NATS JetStream store later).
//
// The suite speaks to a store through the interfaces only. A backend's own Update takes a callback on its own
// transaction type (*changelog.Tx for SQLite), so it is run through a [Subject]: a few-line adapter, written in
// the test that runs the suite, whose Update and View hand the backend's transaction on as a [Tx], and whose
// PutState and State keep a consumer's own state in that transaction (a table registered with
// changelog.WithMigrations for SQLite; keys of a KV bucket written with the log's messages for JetStream).
//
// # The contract
//
// Transactions.
//
//   - Atomicity: everything a callback of Update does through its Tx (contact changes and their log entries,
//     cursor saves, conflicts recorded or resolved) and the consumer's own state written in the same
//     transaction commit together when the callback returns nil, or not at all.
//   - A failed callback keeps nothing: when it returns an error, Update returns that error (errors.Is finds it)
//     and no contact, revision, cursor, conflict or state of it survives; the next change takes the revision the
//     callback's first change had. The same holds when the callback panics (the panic goes on up) and when the
//     context ends before the commit (Update returns an error wrapping the context's).
//   - A change refused with ErrExists, ErrNotFound or ErrInvalid takes no revision and leaves the Tx usable:
//     the callback may carry on and commit the rest.
//   - Isolation: a Tx sees its own changes (Get, Missing, Cursor, Conflict, LastRevision); nothing else sees
//     them before the commit. The store's reads (Get, All, Sync, View, Cursor, LastRevision, Conflicts) may be
//     made from inside a callback and see the last committed state. Writes are serialized: a callback must not
//     start another Update, and a Tx must not be used after its callback returns nor from another goroutine.
//
// Revisions.
//
//   - Every change takes the next revision: revisions are strictly increasing and contiguous from 1, and never
//     reused, not after a rollback, a clear or a trim. A batch of n changes takes n consecutive revisions; a
//     clear takes one, even on an empty store. A stored contact carries the revision of its last change.
//
// Changes.
//
//   - Add fails with ErrExists when the ID is taken; Replace (an update: vCard and source) and Remove fail with
//     ErrNotFound when it is not; Clear removes every contact. Data comes back byte for byte.
//   - ErrInvalid refuses an empty ID or vCard, an ID or source that is not UTF-8, an origin that is neither
//     changelog.Local nor changelog.FromRemote(name) with a non-empty name, and an Op that is not a change.
//   - Apply is all or nothing: when one change fails, none of the batch is kept (the Tx goes on as before it)
//     and the error wraps the failing change's; an empty batch changes nothing and returns LastRevision.
//
// Reads.
//
//   - View reads one consistent snapshot of the last committed state: a writer that commits while a View is
//     open (even from inside the View's callback) is neither held up nor seen by it. Every change through a View's Tx fails with ErrReadOnly, and so
//     does a write of the consumer's own state (with whatever error the backend gives).
//   - Get fails with ErrNotFound for an absent contact; All yields every contact in ID order.
//
// Sync(ctx, from).
//
//   - It yields at most one clear, first, then at most one task per contact in no particular order, then done,
//     whose Rev is the revision the replay is consistent with: the consumer's cursor.
//   - Per contact changed after from: existed then and exists now gives update (a remove then an add too);
//     existed and is gone gives remove (earlier updates are dropped); new and exists gives add (later updates
//     fold into it); new and gone gives nothing (the add and the remove cancel out). An add or update carries
//     the contact as it is now; a task's Rev is the revision of the contact's last change in the range.
//   - A clear after from yields clear (Rev: the last such clear) and then every contact that exists now as an
//     add; the clears before from are not replayed.
//   - Origins is the sorted set of the origins of the changes folded into the task, so Task.OnlyFrom tells a
//     worker not to echo a remote's own change back to it.
//   - Everything comes from one snapshot: a commit made while the replay runs is not in it.
//   - A cursor older than the kept history (from below Horizon) gets clear (Rev: the horizon) and then every
//     contact as an add, with no origins (they are unknown). A cursor ahead of the store (from above
//     LastRevision) gets ErrFutureRevision and no task. An error is yielded once and ends the replay; a consumer
//     that breaks out of the loop is not yielded to again.
//
// Cursors.
//
//   - SetCursor saves any revision up to the Tx's LastRevision (a cursor may move back, to replay); a higher one
//     fails with ErrFutureRevision, an empty name with ErrInvalid. It commits and rolls back with the Tx, so a
//     consumer that saves its cursor in the transaction of its effects never loses or repeats one.
//   - Cursor and DeleteCursor fail with ErrNotFound for a name never saved (a consumer then starts from 0).
//
// Notify.
//
//   - The channel is closed by the next commit that adds a revision, before the call that commits returns, so a
//     consumer that takes the channel before it reads the store cannot miss a commit. A commit that adds no
//     revision (a cursor save, a conflict alone, an empty batch), a trim and a failed callback leave it open.
//
// Retention.
//
//   - Trim drops the history every cursor has passed and returns the new horizon, never moving it back; with
//     the default retention that the suite opens stores with, the horizon becomes the oldest cursor, or the last
//     revision when there is no cursor. Revisions go on from the last one; a cursor at or above the horizon
//     still replays incrementally. Trim does not close the Notify channel.
//
// Conflicts.
//
//   - RecordConflict keeps a conflict in the Tx (an empty ID or contact ID fails with ErrInvalid; an ID already
//     kept changes nothing). ResolveConflict marks an open conflict resolved by the Tx's LastRevision, so the
//     resolving edit is made first through the same Tx; it fails with ErrNotFound when no open conflict has the
//     ID. Conflicts lists the open ones, or all with their resolution.
//
// Missing(ids) returns, in their order, the ids that name no contact as the Tx sees it.
//
// docs/changelog.md ("The store surface and its contract") says the same for a reader of the docs; the
// semantics themselves are package changelog's, whose doc comments and tests are the reference.
package storetest
