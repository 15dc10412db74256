package engine_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddavserver"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// ExampleSyncer syncs a device's store with an address book: configure the remote once, build a Syncer on any
// engine.Remote (here the CardDAV client's Collection, on the embedded server), and call Sync whenever the device
// should catch up; a Worker calls it for you on every commit and every pull interval.
func ExampleSyncer() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "contactsync-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// A CardDAV server for the example: the embedded one, on loopback.
	srv, err := carddavserver.Open(filepath.Join(dir, "server"), carddavserver.WithPasswordIterations(carddavserver.MinPasswordIterations))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if err := srv.AddUser(ctx, "ada", "correct horse"); err != nil {
		log.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	book := hs.URL + "/addressbooks/ada/" + carddavserver.DefaultBook + "/"

	// The device: its store, with the engine's tables, and one contact.
	store, err := changelog.Open(filepath.Join(dir, "contacts.db"), engine.Migrations())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ada\r\nFN:Ada Lovelace\r\nEND:VCARD\r\n"
	if _, err := store.Add(ctx, changelog.Local, changelog.Contact{ID: "ada", Data: []byte(card)}); err != nil {
		log.Fatal(err)
	}

	// The remote, configured once; its password stays with the caller.
	if err := engine.AddRemote(ctx, store, engine.RemoteConfig{Name: "home", Kind: engine.KindCardDAV, Endpoint: hs.URL, Collection: book, Username: "ada"}); err != nil {
		log.Fatal(err)
	}
	client, err := carddav.New(book, carddav.WithBasicAuth("ada", "correct horse"))
	if err != nil {
		log.Fatal(err)
	}
	s, err := engine.NewSyncer(ctx, store, "home", client.Collection(book))
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		st, err := s.Sync(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("uploaded %d, downloaded %d\n", st.Uploaded, st.Downloaded)
	}
	// Output:
	// uploaded 1, downloaded 0
	// uploaded 0, downloaded 0
}
