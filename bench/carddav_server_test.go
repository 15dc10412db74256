package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/carddavserver/carddavservertest"
)

// benchServer is one running CardDAV server the comparison creates fresh address books on, so every contender
// starts from the same empty collection on the same server process.
type benchServer struct {
	name           string
	user, password string
	// home is the absolute URL of the collection the test user's address book sits in; new books go beside it.
	home  string
	admin *carddav.Client
}

// startServer starts the named server ("embedded", "radicale" or "xandikos") for the benchmark's lifetime.
func startServer(b *testing.B, name string) *benchServer {
	b.Helper()
	s := &benchServer{name: name}
	var book string
	switch name {
	case "embedded":
		srv := carddavservertest.Start(b)
		s.user, s.password, book, s.admin = srv.Username, srv.Password, srv.AddressBookURL, srv.Client(b)
	case "radicale", "xandikos":
		srv := carddavtest.Start(b, name)
		s.user, s.password, book, s.admin = srv.Username, srv.Password, srv.AddressBookURL, srv.Client(b)
	default:
		b.Fatalf("unknown server %q (embedded, radicale, xandikos)", name)
	}
	s.home = book[:strings.LastIndex(strings.TrimSuffix(book, "/"), "/")+1]
	return s
}

// newBook creates an empty address book called label and returns its absolute URL.
func (s *benchServer) newBook(ctx context.Context, b *testing.B, label string) string {
	b.Helper()
	ab, err := s.admin.CreateAddressBook(ctx, s.home+label+"/", label, "")
	if err != nil {
		b.Fatalf("%s: create address book %s: %v", s.name, label, err)
	}
	return ab.URL
}
