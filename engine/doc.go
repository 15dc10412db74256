// Package engine syncs the device's contact store with CardDAV address books: it pushes the changelog to each
// remote and pulls each remote's changes into the store, merging where both sides changed a contact.
//
// A [Syncer] serves one remote. Push replays the changelog (package changelog) from the remote's cursor and
// writes each changed contact with a conditional PUT or DELETE (RFC 6352 over RFC 4918, conditions of RFC 9110
// section 13); a 412 means someone else wrote first, so the engine fetches, merges three ways and retries.
// Pull asks what changed with sync-collection (RFC 6578), fetches it with addressbook-multiget and applies it.
// The mirror — per remote and contact, the href, ETag and vCard both sides last agreed on — is the merge base,
// and every effect commits in one SQLite transaction with the mirror row, cursor or sync token that records it,
// so a process killed at any instant resumes without losing an edit, duplicating a contact or re-uploading
// what the server already holds. A [Worker] runs Syncers in the background: it pushes soon after each local
// commit and pulls periodically and on demand.
//
// docs/sync.md describes the algorithm, the on-disk state and what happens at each failure point.
package engine
