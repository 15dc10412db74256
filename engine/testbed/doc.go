// Package testbed is contactsync's multi-device test bed: it runs N devices — each a real contact store
// (package changelog) with a real sync worker (package engine), in this process or as killable `contactsync
// worker` processes — against one CardDAV address book (RFC 6352; the embedded server by default), makes
// seeded random edits on every device at once while faults (package adapters/faultproxy) and SIGKILLs hit the
// workers, waits for the devices to converge, and then checks with an oracle that knows every edit it made
// that every device holds exactly the server's contacts, that nothing was duplicated and that no acknowledged
// edit was lost except where the merge rules replaced it and recorded the loser as a conflict.
//
// The oracle needs to know which edits a device had seen when it made another one. Each edit therefore also
// adds its token to an X-TESTBED-EDIT property of the card (an extension property, RFC 6350 section 6.10,
// which the merge treats as a set): the tokens a card carries are the edits it descends from, a causal
// history that travels with the contact through every merge.
//
// docs/testbed.md explains how to run it and what the report means.
package testbed
