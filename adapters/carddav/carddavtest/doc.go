// Package carddavtest starts real CardDAV servers for tests: Debian's Radicale (3.1.8) and Xandikos
// (0.2.8), each on a free 127.0.0.1 port with its data in t.TempDir(), stopped when the test ends.
//
// When a server's binary is missing the test is skipped, or fails if the CI environment variable is set, so
// a CI run can never pass by skipping. `apt-get install radicale xandikos` (or `make deps`) installs both.
package carddavtest
