package testbed_test

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/faultproxy"
	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// TestHostileServer syncs a device with an address book made hostile (package faultproxy): malformed vCards,
// hrefs outside the collection and on another host, a gigantic member, an HTML page posing as a vCard, and
// listings answered with XML bombs, HTML or giant documents. Each bad item must be set aside (and listed by
// status), the rest of the sync must go on, and nothing on the device may be lost.
func TestHostileServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := carddavtest.Start(t, "embedded")
	direct := srv.Client(t)
	u, err := url.Parse(srv.AddressBookURL)
	if err != nil {
		t.Fatal(err)
	}
	var good []string // UIDs of the real members
	for i := range 5 {
		data := synthetic.Card(7, i)
		uid := uidOf(t, data)
		if _, err := direct.Put(ctx, carddav.HrefForUID(u.Path, uid), data, carddav.CreateOnly()); err != nil {
			t.Fatal(err)
		}
		good = append(good, uid)
	}
	h, err := faultproxy.NewHostile(srv.URL, srv.AddressBookURL, faultproxy.WithGiantSize(2<<20), faultproxy.WithSeed(5))
	if err != nil {
		t.Fatal(err)
	}
	hs, err := faultproxy.Start(h)
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	ab := hs.URL + u.Path

	store, err := changelog.Open(filepath.Join(t.TempDir(), "contacts.db"), engine.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	local := map[string][]byte{}
	for i := 100; i < 103; i++ {
		data := synthetic.Card(7, i)
		uid := uidOf(t, data)
		if _, err := store.Add(ctx, changelog.Local, changelog.Contact{ID: uid, Data: data}); err != nil {
			t.Fatal(err)
		}
		local[uid] = data
	}
	if err := engine.AddRemote(ctx, store, engine.RemoteConfig{Name: "hostile", Endpoint: ab, Kind: engine.KindCardDAV, Collection: ab, Username: srv.Username}); err != nil {
		t.Fatal(err)
	}
	// Limits below the giant bodies keep the test to megabytes; faultproxy's own tests check the defaults.
	client, err := carddav.New(ab, append(srv.Options(), carddav.WithMaxObjectSize(64<<10), carddav.WithMaxXMLSize(1<<20))...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := engine.NewSyncer(ctx, store, "hostile", client.Collection(ab))
	if err != nil {
		t.Fatal(err)
	}

	st, err := s.Sync(ctx)
	if err != nil {
		t.Fatalf("sync with hostile members: %v (the bad items should be set aside, not fail the sync)", err)
	}
	t.Logf("first sync: %s", st)
	device := contents(t, store)
	for _, uid := range good {
		if device[uid] == nil {
			t.Errorf("real member %s never reached the device", uid)
		}
	}
	for uid, data := range local {
		if string(device[uid]) != string(data) {
			t.Errorf("local contact %s changed or lost", uid)
		}
		if _, err := direct.Get(ctx, carddav.HrefForUID(u.Path, uid)); err != nil {
			t.Errorf("local contact %s never reached the server: %v", uid, err)
		}
	}
	if len(device) != len(good)+len(local) {
		t.Errorf("device holds %d contacts, want the %d real ones: %v", len(device), len(good)+len(local), slices.Sorted(maps.Keys(device)))
	}
	aside := setAside(t, store)
	for _, href := range h.Hrefs() {
		reason, ok := aside[href]
		if !ok {
			t.Errorf("hostile member %s not set aside (set aside: %v)", href, aside)
			continue
		}
		if reason == "" {
			t.Errorf("%s set aside without a reason", href)
		}
	}
	t.Logf("set aside: %v", aside)

	// A second sync must not trip over the same items again, nor fetch them.
	if _, err := s.Sync(ctx); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	if again := setAside(t, store); len(again) != len(aside) {
		t.Errorf("second sync set aside %d items, the first %d", len(again), len(aside))
	}

	// Whole listings answered with hostile documents: each sync fails with a clear error, the device keeps
	// everything, and once the server behaves the next sync works.
	before := contents(t, store)
	if err := h.SetRate(1); err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		_, err := s.Sync(ctx)
		if !errors.Is(err, carddav.ErrMalformedResponse) && !errors.Is(err, carddav.ErrResponseTooLarge) {
			t.Fatalf("sync %d against a hostile listing: %v, want a malformed or too-large answer", i, err)
		}
		if !maps.EqualFunc(contents(t, store), before, func(a, b []byte) bool { return string(a) == string(b) }) {
			t.Fatalf("the device changed after a hostile listing (sync %d: %v)", i, err)
		}
	}
	counts := h.Counts().Faults
	for _, k := range []faultproxy.Kind{faultproxy.XMLBomb, faultproxy.HTMLListing, faultproxy.GiantListing} {
		if counts[k] == 0 {
			t.Errorf("%s never tried (counts %v)", k, counts)
		}
	}
	if err := h.SetRate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sync(ctx); err != nil {
		t.Fatalf("sync once the server behaves: %v", err)
	}
}

func uidOf(t testing.TB, data []byte) string {
	t.Helper()
	cs, err := vcard.Parse(data)
	if err != nil || len(cs) != 1 {
		t.Fatalf("card: %v", err)
	}
	return cs[0].UID()
}

func contents(t *testing.T, store *changelog.Store) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for c, err := range store.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		out[c.ID] = c.Data
	}
	return out
}

// setAside returns what status lists as set aside, by reference, with the reason.
func setAside(t *testing.T, store *changelog.Store) map[string]string {
	t.Helper()
	sts, err := engine.Status(context.Background(), store)
	if err != nil || len(sts) != 1 {
		t.Fatalf("status: %v", err)
	}
	out := map[string]string{}
	for _, a := range sts[0].SetAside {
		out[a.Ref] = a.Reason
	}
	return out
}
