package carddav_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/storage/storagetest"
)

var _ engine.Remote = (*carddav.Collection)(nil)

// TestConformance runs the engine.Remote conformance suite on the CardDAV client's Collection against every
// server of the matrix, each subtest in an address book of its own.
func TestConformance(t *testing.T) {
	for _, name := range carddavtest.Names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := carddavtest.Start(t, name)
			var books atomic.Int64
			storagetest.Run(t, func(t *testing.T) engine.Remote {
				return srv.Client(t).Collection(freshBook(t, srv, books.Add(1)))
			})
		})
	}
}

// freshBook creates an empty address book next to the one the server was started with and returns its URL.
func freshBook(t *testing.T, srv *carddavtest.Server, n int64) string {
	t.Helper()
	u, err := url.Parse(srv.AddressBookURL)
	if err != nil {
		t.Fatal(err)
	}
	parent := u.Path[:strings.LastIndex(strings.TrimSuffix(u.Path, "/"), "/")+1]
	ab, err := srv.Client(t).CreateAddressBook(context.Background(), fmt.Sprintf("%sconformance-%d/", parent, n), "Conformance", "")
	if err != nil {
		t.Fatalf("create address book: %v", err)
	}
	return ab.URL
}
