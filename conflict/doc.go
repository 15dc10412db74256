// Package conflict merges two concurrent versions of a contact against the
// version they both came from, property by property, so that every device
// reaches the same contact and nothing a user typed is lost. It works on
// vCards (RFC 6350, RFC 2426, vCard 2.1) as read by package vcard, so
// properties nobody here understands merge too. It is pure: no I/O, no
// clock; times come from the cards' REV (RFC 6350 §6.7.4).
//
// # Rules
//
// The unit of merging is a property, or a whole property group
// (item1.TEL with its item1.X-ABLabel), which moves as one.
//
//   - A property changed on one side only takes that change.
//   - Multi-valued properties (TEL, EMAIL, ADR, URL, IMPP, MEMBER, RELATED
//     and similar vendor properties, plus any property that appears more
//     than once) are sets: additions and removals from both sides all apply.
//     An instance edited on one side and removed on the other stays, with
//     the edit. An instance is identified by its content, then its value
//     (its parameters or label changed), then its PID (RFC 6350 §7), then
//     its group name, then its parameters and label (its value was edited);
//     an edited instance merges field by field with the other side's edit.
//   - CATEGORIES and NICKNAME merge item by item.
//   - A single-valued property (FN, N, ORG, TITLE, BDAY, NOTE, PHOTO …)
//     changed differently on both sides gets a winner: the card with the
//     later REV, then the greater normalized content, then the greater
//     bytes — the same answer on every device whatever the order of
//     arrival. The loser is returned as a Conflict.
//   - Edit beats delete, for a property and for the whole contact.
//   - VERSION, REV, PRODID and UID describe the card: they merge like
//     single values (VERSION: the higher wins) without Conflicts. UIDs must
//     match.
//
// # Canonical output
//
// The same inputs give byte-identical output on every machine, and
// Merge(b, x, y) is byte-identical to Merge(b, y, x). When one side did not
// change, the result is the other side's card byte for byte. Otherwise
// properties keep their original bytes (only what the merge creates is
// encoded afresh), in base order; additions follow the property that
// precedes them on their side, and additions from both sides at one place
// are ordered by content.
//
// # Conflicts
//
// Each decision between concurrent changes comes back as a Conflict, with
// the winning and losing content lines and a hash ID that every device
// computes alike; Resolve puts the loser back into a card.
//
// # What the caller decides
//
// Which contacts to merge is the caller's business: a contact from a
// source that must not be synced (a social-network import) is never passed
// to Merge, and the engine checks that before it fetches a remote version.
// Result.WriteLocal and WriteRemote say where the merged content differs;
// a side whose bytes alone differ needs no write. Devices converge when
// they merge through one server; docs/conflicts.md explains the rules with
// examples, and why pairwise merging around a cycle does not converge.
package conflict
