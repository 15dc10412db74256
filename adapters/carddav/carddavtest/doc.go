// Package carddavtest starts the CardDAV servers of the test matrix for tests, by name (Names): the project's
// embedded server (adapters/carddavserver, in the test's process) and Debian's Radicale (3.1.8) and Xandikos
// (0.2.8) as processes, each on a free 127.0.0.1 port with its data in t.TempDir(), a test user with an
// address book that exists, and stopped when the test ends. One Server type describes them all, so a test
// written for one reads the same against the others.
//
// When an outside server's binary is missing the test is skipped, or fails if the CI environment variable is
// set, so a CI run can never pass by skipping. `make deps` (or `apt-get install radicale xandikos`) installs
// them.
package carddavtest
