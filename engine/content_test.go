package engine_test

import (
	"context"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
	"github.com/contactsync/contactsync/engine"
)

// testServerKeepsContent uploads generated cards (those of the test bed and the benchmarks: groups, parameters,
// escapes, several values per property) and checks that what the server hands back compares equal to the
// upload in the engine's eyes: that is how the engine recognises its own upload after a crash hid the answer,
// on a server that re-serializes what it stores (Radicale sorts the properties and upper-cases their names).
func testServerKeepsContent(t *testing.T, e *env) {
	ctx := context.Background()
	for i := range 50 {
		data := synthetic.Card(5, i)
		cs, _ := vcard.Parse(data)
		href := carddav.HrefForUID(e.ab, cs[0].UID())
		if _, err := e.other.Put(ctx, href, data, carddav.CreateOnly()); err != nil {
			t.Fatalf("card %d: put: %v", i, err)
		}
		got, err := e.other.Get(ctx, href)
		if err != nil {
			t.Fatalf("card %d: get: %v", i, err)
		}
		if !engine.SameContent(got.Data, data) {
			t.Errorf("card %d: the server's copy does not compare equal to the upload:\n sent %q\n  got %q", i, data, got.Data)
		}
	}
}
