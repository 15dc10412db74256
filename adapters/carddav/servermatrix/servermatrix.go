// Package servermatrix starts any server of the test matrix by name: the embedded server (carddavservertest) or
// Debian's Radicale or Xandikos (carddavtest), behind one description, for the suites and benchmarks that run
// against all three.
package servermatrix

import (
	"net/http"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/carddavserver/carddavservertest"
)

// Names lists the servers of the matrix.
var Names = append([]string{"embedded"}, carddavtest.Names...)

// Server is one running server of the matrix, whichever package started it.
type Server struct {
	// Name is one of Names.
	Name string
	// URL is the bare server root, where discovery starts.
	URL string
	// Username and Password are the test user's credentials; empty when the server has no auth (Xandikos).
	Username, Password string
	// AddressBookURL is an address book that exists for the test user.
	AddressBookURL string
	// Dir holds the server's data.
	Dir string
	// Client returns a client for URL logged in as the test user, with opts.
	Client func(t testing.TB, opts ...carddav.Option) *carddav.Client
	// Options returns the client options that log in as the test user.
	Options func() []carddav.Option
}

// Start starts the named server for t; it stops when t ends. A missing Radicale or Xandikos skips t, or fails it
// when the CI environment variable is set (see carddavtest).
func Start(t testing.TB, name string) *Server {
	t.Helper()
	// Registered after the server's own cleanup, so it runs first: a connection the client dialed and never
	// used would hold the server's graceful stop until Go counts it idle (5 s).
	defer t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	if name == "embedded" {
		s := carddavservertest.Start(t)
		return &Server{Name: s.Name, URL: s.URL, Username: s.Username, Password: s.Password,
			AddressBookURL: s.AddressBookURL, Dir: s.Dir, Client: s.Client, Options: s.Options}
	}
	s := carddavtest.Start(t, name)
	return &Server{Name: s.Name, URL: s.URL, Username: s.Username, Password: s.Password,
		AddressBookURL: s.AddressBookURL, Dir: s.Dir, Client: s.Client, Options: s.Options}
}
