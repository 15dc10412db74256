// Package carddavtest starts the CardDAV servers of the test matrix for tests, by name (Names): the project's
// embedded server (adapters/carddavserver, in the test's process), Debian's Radicale (3.1.8) and Xandikos
// (0.2.8), and SabreDAV 1.8 (Debian's php-sabre-dav, the server of fruux, on SQLite under PHP's built-in
// server) as processes, each on a free 127.0.0.1 port with its data in t.TempDir(), a test user with an
// address book that exists, and stopped when the test ends. One Server type describes them all, so a test
// written for one reads the same against the others.
//
// When an outside server is missing the test is skipped, or fails if the CI environment variable is set, so a
// CI run can never pass by skipping. `make deps` (or `apt-get install radicale xandikos php-cli php-sabre-dav
// php-sqlite3`) installs them.
package carddavtest
