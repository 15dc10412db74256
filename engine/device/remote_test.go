package device_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/device"
)

// addHome adds the server's test user's address book as remote "home", discovered from the server's root.
func addHome(t *testing.T, d *device.Device, srv *carddavtest.Server) device.AddedRemote {
	t.Helper()
	added, err := d.AddRemote(context.Background(), device.NewRemote{Name: "home", Kind: engine.KindCardDAV,
		Endpoint: srv.URL, Username: srv.Username, Password: srv.Password})
	if err != nil {
		t.Fatal(err)
	}
	return added
}

func TestRemoteAddSyncPasswdRemove(t *testing.T) {
	ctx := context.Background()
	srv := carddavtest.Start(t, "embedded")
	d := open(t)
	added := addHome(t, d, srv)
	if added.Collection != srv.AddressBookURL || added.Kind != engine.KindCardDAV || added.Endpoint != srv.URL {
		t.Fatalf("added %+v; want the address book %s found from %s", added, srv.AddressBookURL, srv.URL)
	}
	if _, err := d.AddRemote(ctx, device.NewRemote{Name: "home", Kind: engine.KindCardDAV, Endpoint: srv.URL,
		Username: srv.Username, Password: srv.Password}); !errors.Is(err, engine.ErrRemoteExists) {
		t.Fatalf("adding home twice: %v, want ErrRemoteExists", err)
	}
	checkSecret(t, d, srv.Password)

	if _, err := d.ImportData(ctx, "book.vcf", synthetic.AddressBook(6, 5), device.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	syncers, err := d.Syncers(ctx, nil)
	if err != nil || len(syncers) != 1 || syncers[0].Name() != "home" {
		t.Fatalf("Syncers: %v, %v", syncers, err)
	}
	st, err := syncers[0].Sync(ctx)
	if err != nil || st.Uploaded != 5 || st.Requests == 0 {
		t.Fatalf("first sync: %+v, %v; want 5 uploaded, counted by the Meter", st, err)
	}

	// A password the server no longer takes stops the remote; one it refuses is not saved; the right one lets it
	// sync again.
	if err := srv.Embedded(t).SetPassword(ctx, srv.Username, "new-"+srv.Password); err != nil {
		t.Fatal(err)
	}
	syncers, err = d.Syncers(ctx, []string{"home"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syncers[0].Sync(ctx); !errors.Is(err, engine.ErrCredentialsRejected) {
		t.Fatalf("sync with a wrong password: %v, want ErrCredentialsRejected", err)
	}
	if _, err := d.SetPassword(ctx, "home", "wrong"); !errors.Is(err, device.ErrPasswordRefused) {
		t.Fatalf("SetPassword with a password the server refuses: %v, want ErrPasswordRefused", err)
	}
	if checked, err := d.SetPassword(ctx, "home", "new-"+srv.Password); err != nil || !checked {
		t.Fatalf("SetPassword: checked %v, %v", checked, err)
	}
	syncers, err = d.Syncers(ctx, []string{"home"})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := syncers[0].Sync(ctx); err != nil || st.Uploaded != 0 {
		t.Fatalf("sync after SetPassword: %+v, %v", st, err)
	}
	status, err := d.Status(ctx)
	if err != nil || len(status) != 1 || status[0].State != engine.StateOK || status[0].Mirrored != 5 {
		t.Fatalf("status: %+v, %v", status, err)
	}

	if err := d.RemoveRemote(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(device.CredentialsPath(d.Store().Path())); err != nil || bytes.Contains(data, []byte(srv.Password)) {
		t.Fatalf("credentials after RemoveRemote: %q, %v; want the password gone", data, err)
	}
	if _, err := d.Syncers(ctx, nil); !errors.Is(err, device.ErrNoRemotes) {
		t.Fatalf("Syncers without remotes: %v, want ErrNoRemotes", err)
	}
	if n, err := d.Store().Count(ctx); err != nil || n != 5 {
		t.Fatalf("%d contacts (%v) after RemoveRemote, want 5", n, err)
	}
}

// checkSecret fails if the password is in the database, or the credentials file is not the owner's alone.
func checkSecret(t *testing.T, d *device.Device, password string) {
	t.Helper()
	db, err := os.ReadFile(d.Store().Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(password)) {
		t.Fatal("the password is in the database")
	}
	path := device.CredentialsPath(d.Store().Path())
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
	if data, err := os.ReadFile(path); err != nil || !bytes.Contains(data, []byte(password)) {
		t.Fatalf("the credentials file does not hold the password (%v)", err)
	}
}

func TestRemoteRefusals(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	// Basic auth over plain http to another machine is refused before anything is sent (192.0.2.1 is
	// TEST-NET-1: a request there would hang, not fail).
	_, err := d.AddRemote(ctx, device.NewRemote{Name: "x", Kind: engine.KindCardDAV, Endpoint: "http://192.0.2.1/", Username: "u", Password: "p"})
	if !errors.Is(err, carddav.ErrInsecureAuth) {
		t.Fatalf("remote over plain http: %v, want ErrInsecureAuth", err)
	}
	if _, err := d.AddRemote(ctx, device.NewRemote{Name: "x", Kind: "ftp", Endpoint: "ftp://h/"}); !errors.Is(err, device.ErrUnknownKind) {
		t.Fatalf("remote of an unknown kind: %v, want ErrUnknownKind", err)
	}
	if _, err := d.AddRemote(ctx, device.NewRemote{Name: "x", Kind: engine.KindCardDAV, Endpoint: "http://127.0.0.1:1/", Username: "u"}); !errors.Is(err, device.ErrInvalid) {
		t.Fatalf("a user name without password: %v, want ErrInvalid", err)
	}
	if _, err := d.SetPassword(ctx, "nope", "pw"); !errors.Is(err, device.ErrUnknownRemote) {
		t.Fatalf("SetPassword of an unknown remote: %v", err)
	}
	// A remote saved without user name takes no password.
	if err := engine.AddRemote(ctx, d.Store(), engine.RemoteConfig{Name: "open", Kind: engine.KindCardDAV, Endpoint: "http://127.0.0.1:1/",
		Collection: "http://127.0.0.1:1/book/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetPassword(ctx, "open", "pw"); !errors.Is(err, device.ErrNoUsername) {
		t.Fatalf("SetPassword of a remote without user: %v, want ErrNoUsername", err)
	}
	if _, err := d.Syncers(ctx, []string{"open", "nope"}); !errors.Is(err, device.ErrUnknownRemote) {
		t.Fatalf("Syncers naming an unknown remote: %v", err)
	}
}

// The CardDAV kind checks the address book URL the engine stores without looking at it.
func TestCardDAVKindChecksTheAddressBook(t *testing.T) {
	for _, ab := range []string{"", "/addressbooks/u/book/", "ftp://example.org/book/", "http:///book/", "http://[::1"} {
		t.Run(ab, func(t *testing.T) {
			_, _, err := device.CardDAV.Open(engine.RemoteConfig{Name: "x", Kind: engine.KindCardDAV, Collection: ab}, "")
			if !errors.Is(err, device.ErrInvalid) {
				t.Fatalf("Open with address book %q: %v, want ErrInvalid", ab, err)
			}
		})
	}
	remote, meter, err := device.CardDAV.Open(engine.RemoteConfig{Name: "x", Kind: engine.KindCardDAV, Collection: "https://example.org/book/"}, "")
	if err != nil || remote == nil || meter == nil {
		t.Fatalf("Open of a good address book: %v, %v, %v", remote, meter, err)
	}
	if href := remote.HrefFor("u1"); href == "" {
		t.Fatal("the remote names no href for a new contact")
	}
}

// countingKind opens remotes as CardDAV does and counts the opens, to see the device consult its kinds by name.
type countingKind struct {
	device.Kind
	opens *int
}

func (k countingKind) Open(rc engine.RemoteConfig, password string) (engine.Remote, engine.Meter, error) {
	*k.opens++
	return k.Kind.Open(rc, password)
}

func TestWithKind(t *testing.T) {
	ctx := context.Background()
	opens := 0
	d := open(t, device.WithKind("counted", countingKind{Kind: device.CardDAV, opens: &opens}))
	for _, rc := range []engine.RemoteConfig{
		{Name: "a", Kind: "counted", Collection: "http://127.0.0.1:1/a/"},
		{Name: "b", Kind: engine.KindCardDAV, Collection: "http://127.0.0.1:1/b/"},
	} {
		if err := engine.AddRemote(ctx, d.Store(), rc); err != nil {
			t.Fatal(err)
		}
	}
	syncers, err := d.Syncers(ctx, nil)
	if err != nil || len(syncers) != 2 || opens != 1 {
		t.Fatalf("Syncers: %d syncers, %d opens of the kind, %v; want 2 and 1", len(syncers), opens, err)
	}
	// A device without the option, and the package's NewSyncer, know only the built-in kinds.
	if _, err := open(t).Syncers(ctx, nil); !errors.Is(err, device.ErrNoRemotes) {
		t.Fatalf("a fresh device: %v", err)
	}
	store, err := changelog.Open(d.Store().Path()+"-other", engine.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := device.NewSyncer(ctx, store, engine.RemoteConfig{Name: "a", Kind: "counted", Collection: "http://127.0.0.1:1/a/"}, ""); !errors.Is(err, device.ErrUnknownKind) {
		t.Fatalf("NewSyncer of a kind that is not built in: %v, want ErrUnknownKind", err)
	}
	if err := engine.AddRemote(ctx, store, engine.RemoteConfig{Name: "b", Kind: engine.KindCardDAV, Collection: "http://127.0.0.1:1/b/"}); err != nil {
		t.Fatal(err)
	}
	if s, err := device.NewSyncer(ctx, store, engine.RemoteConfig{Name: "b", Kind: engine.KindCardDAV, Collection: "http://127.0.0.1:1/b/"}, ""); err != nil || s.Name() != "b" {
		t.Fatalf("NewSyncer of a CardDAV remote: %v", err)
	}
}
