// Package carddavservertest runs the project's own CardDAV server (package carddavserver, RFC 6352) for
// other packages' tests: on a free 127.0.0.1 port, with its data in t.TempDir() and a test user who has an
// address book, stopped when the test ends.
package carddavservertest
