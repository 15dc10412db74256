// Package changelog is the device's contact store and its versioned transaction log, kept in SQLite.
//
// Every add, update, remove and clear is appended to the log in the same SQLite transaction that changes the
// store, under a revision that is strictly increasing and contiguous (1, 2, 3, … never reused). A consumer
// replays the log with [Store.Sync] from the revision it last saw and gets the Firefox OS DataStore tasks
// (add, update, remove, clear, done), folded per contact, so it never sees an intermediate state it does not
// need. It saves its position as a named cursor in the same transaction as whatever it applied
// ([Tx.SetCursor]), so a consumer killed at any instant resumes without losing or repeating work.
//
// Contacts are opaque vCards (RFC 6350) stored byte for byte; this package never parses them. The Firefox OS
// DataStore API (its revisions, its cursor tasks and the rule that a cursor older than the kept history restarts
// with clear) is the model; docs/changelog.md gives the schema, the folding rules and a worked example.
package changelog
