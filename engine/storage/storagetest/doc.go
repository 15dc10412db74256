// Package storagetest is the conformance suite of engine.Remote: Run checks, through the interface alone, that
// a kind of storage keeps the contract the engine relies on (deterministic hrefs, conditional writes and the
// outcomes they fail with, content read back as written, listings and changes since a token, fetches in
// order, version tags that tell versions apart). Every implementation runs it on a fresh collection per
// subtest: the CardDAV client against each server of the test matrix, and any later kind the same way.
package storagetest
