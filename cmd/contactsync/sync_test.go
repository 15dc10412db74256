package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/device"
)

// addRemote runs `remote add` for srv under name, with a password file when the server has auth.
func (c *cli) addRemote(srv *carddavtest.Server, name string) {
	c.t.Helper()
	args := []string{"remote", "add", name, "--url", srv.URL, "--addressbook", srv.AddressBookURL}
	if srv.Username != "" {
		pf := filepath.Join(c.t.TempDir(), "password")
		if err := os.WriteFile(pf, []byte(srv.Password+"\n"), 0o600); err != nil {
			c.t.Fatal(err)
		}
		args = append(args, "--username", srv.Username, "--password-file", pf)
	}
	if out := c.ok("", args...); !strings.Contains(out, "added remote "+name) {
		c.t.Fatalf("remote add: %q", out)
	}
}

func TestRemoteSyncStatus(t *testing.T) {
	for _, name := range carddavtest.Names {
		t.Run(name, func(t *testing.T) {
			srv := carddavtest.Start(t, name)
			c := newCLI(t)
			c.addRemote(srv, "home")
			if _, _, err := c.run("", "remote", "add", "home", "--url", srv.URL, "--addressbook", srv.AddressBookURL); err == nil {
				t.Fatal("adding the same remote twice succeeded")
			}
			list := c.ok("", "remote", "list")
			if !strings.Contains(list, "home") || !strings.Contains(list, srv.AddressBookURL) {
				t.Fatalf("remote list: %q", list)
			}
			if srv.Password != "" {
				checkSecretKept(t, c.db, srv.Password, list)
			}

			vcf := filepath.Join(t.TempDir(), "book.vcf")
			if err := os.WriteFile(vcf, synthetic.AddressBook(3, 20), 0o600); err != nil {
				t.Fatal(err)
			}
			c.ok("", "import", vcf)
			if out := c.ok("", "sync"); !strings.Contains(out, "home: uploaded 20, downloaded 0") {
				t.Fatalf("first sync: %q", out)
			}
			if out := c.ok("", "sync", "home"); !strings.Contains(out, "home: uploaded 0, downloaded 0") || !strings.Contains(out, "requests 1,") {
				t.Fatalf("no-op sync: %q", out)
			}
			st := c.ok("", "status")
			token := "sync token: held"
			if !srv.SyncCollection {
				token = "sync token: none" // listed whole on each pull (SabreDAV 1.8)
			}
			for _, want := range []string{"home", "pending:    0", token, "mirrored:   20"} {
				if !strings.Contains(st, want) {
					t.Fatalf("status lacks %q:\n%s", want, st)
				}
			}
			var js []statusJSON
			if err := json.Unmarshal([]byte(c.ok("", "status", "--json")), &js); err != nil {
				t.Fatal(err)
			}
			if len(js) != 1 || js[0].Name != "home" || js[0].Mirrored != 20 || js[0].LastSync == nil || (js[0].SyncToken == "") == srv.SyncCollection {
				t.Fatalf("status --json: %+v", js)
			}
			if srv.Password != "" {
				checkSecretKept(t, c.db, srv.Password, st+c.ok("", "status", "--json"))
			}

			c.ok("", "remote", "rm", "home")
			if out := c.ok("", "status"); !strings.Contains(out, "no remote configured") {
				t.Fatalf("status after rm: %q", out)
			}
			if n := strings.Count(c.ok("", "list"), "\n"); n != 20 {
				t.Fatalf("%d contacts after remote rm, want 20", n)
			}
			if _, _, err := c.run("", "sync"); err == nil || !strings.Contains(err.Error(), "no remote configured") {
				t.Fatalf("sync without remotes: %v", err)
			}
		})
	}
}

// TestSabreDAVFromBareURL is the report that brought SabreDAV into the matrix: `remote add` from the bare server
// URL (discovery, no --addressbook) worked, and then the first sync failed on SabreDAV 1.8's 403 to
// sync-collection. The sync must fall back to listings: upload, then a no-op of one request.
func TestSabreDAVFromBareURL(t *testing.T) {
	srv := carddavtest.Start(t, "sabredav")
	c := newCLI(t)
	pf := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pf, []byte(srv.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("", "remote", "add", "home", "--url", srv.URL, "--username", srv.Username, "--password-file", pf); !strings.Contains(out, "added remote home") {
		t.Fatalf("remote add: %q", out)
	}
	if list := c.ok("", "remote", "list"); !strings.Contains(list, srv.AddressBookURL) {
		t.Fatalf("discovery did not choose %s: %q", srv.AddressBookURL, list)
	}
	vcf := filepath.Join(t.TempDir(), "book.vcf")
	if err := os.WriteFile(vcf, synthetic.AddressBook(5, 8), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("", "import", vcf)
	if out := c.ok("", "sync"); !strings.Contains(out, "home: uploaded 8, downloaded 0") {
		t.Fatalf("first sync: %q", out)
	}
	if out := c.ok("", "sync"); !strings.Contains(out, "home: uploaded 0, downloaded 0") || !strings.Contains(out, "requests 1,") {
		t.Fatalf("no-op sync: %q", out)
	}
	if st := c.ok("", "status"); !strings.Contains(st, "mirrored:   8") || strings.Contains(st, "last error") {
		t.Fatalf("status:\n%s", st)
	}
}

// checkSecretKept fails if the password shows in output or in the database, or if the credentials file can be
// read by anyone but its owner.
func checkSecretKept(t *testing.T, db, password, output string) {
	t.Helper()
	if strings.Contains(output, password) {
		t.Fatal("the password was printed")
	}
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(password)) {
		t.Fatal("the password is in the database")
	}
	fi, err := os.Stat(device.CredentialsPath(db))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestSyncUsageErrors(t *testing.T) {
	c := newCLI(t)
	pf := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pf, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"remote without subcommand", []string{"remote"}, "needs a subcommand"},
		{"remote unknown subcommand", []string{"remote", "frob"}, `unknown remote subcommand "frob"`},
		{"remote add without name", []string{"remote", "add", "--url", "http://127.0.0.1:1/"}, "exactly one NAME"},
		{"remote add without url", []string{"remote", "add", "x"}, "needs --url"},
		{"remote add user without password", []string{"remote", "add", "x", "--url", "http://127.0.0.1:1/", "--username", "u"}, "go together"},
		{"remote rm without name", []string{"remote", "rm"}, "exactly one NAME"},
		{"remote passwd without password file", []string{"remote", "passwd", "x"}, "--password-file"},
		{"status with argument", []string{"status", "x"}, "takes no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) { c.usageError(t, tc.want, tc.args...) })
	}
	// Basic auth over plain http to another machine is refused before anything is sent.
	_, _, err := c.run("", "remote", "add", "x", "--url", "http://192.0.2.1/", "--username", "u", "--password-file", pf)
	if err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Fatalf("remote add over plain http: %v", err)
	}
	// A password file others may read is refused: the secret would already be out.
	loose := filepath.Join(t.TempDir(), "loose")
	if err := os.WriteFile(loose, []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.run("", "remote", "add", "x", "--url", "http://127.0.0.1:1/", "--username", "u", "--password-file", loose); !errors.Is(err, errLoosePermissions) {
		t.Fatalf("remote add with a password file of mode 0644: %v", err)
	}
	if _, _, err := c.run("", "remote", "rm", "nope"); err == nil || !strings.Contains(err.Error(), "no such remote") {
		t.Fatalf("remote rm of an unknown remote: %v", err)
	}
}

// TestRemotePasswd: a password the server no longer takes stops the remote (401, no retry with it); `remote
// passwd` refuses a password the server refuses, saves the right one after checking it, and the remote syncs
// again; with the server down it saves the password and says it could not check it.
func TestRemotePasswd(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	c := newCLI(t)
	c.addRemote(srv, "home")
	writePW := func(pw string) string {
		pf := filepath.Join(t.TempDir(), "password")
		if err := os.WriteFile(pf, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return pf
	}
	if err := srv.Embedded(t).SetPassword(context.Background(), srv.Username, "new-"+srv.Password); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.run("", "sync")
	if !errors.Is(err, engine.ErrCredentialsRejected) || !strings.Contains(err.Error(), "remote passwd home --password-file FILE") {
		t.Fatalf("sync with a wrong password: %v", err)
	}
	if st := c.ok("", "status"); !strings.Contains(st, "[credentials-rejected]") {
		t.Fatalf("status after a 401:\n%s", st)
	}
	if _, _, err := c.run("", "remote", "passwd", "home", "--password-file", writePW("wrong-"+srv.Password)); err == nil ||
		!strings.Contains(err.Error(), "refused the new password of remote home; it was not saved") {
		t.Fatalf("remote passwd with a password the server refuses: %v", err)
	}
	if out := c.ok("", "remote", "passwd", "home", "--password-file", writePW("new-"+srv.Password)); !strings.Contains(out, "replaced the password of remote home (the server accepts it)") {
		t.Fatalf("remote passwd: %q", out)
	}
	if out := c.ok("", "sync"); !strings.Contains(out, "home: uploaded 0") {
		t.Fatalf("sync after remote passwd: %q", out)
	}
	if st := c.ok("", "status"); !strings.Contains(st, "[ok]") {
		t.Fatalf("status after remote passwd:\n%s", st)
	}
	checkSecretKept(t, c.db, "new-"+srv.Password, c.ok("", "status")+c.ok("", "remote", "list"))
	srv.Stop(t)
	if out := c.ok("", "remote", "passwd", "home", "--password-file", writePW("newer-"+srv.Password)); !strings.Contains(out, "not checked yet") {
		t.Fatalf("remote passwd with the server down: %q", out)
	}
	if _, _, err := c.run("", "remote", "passwd", "nope", "--password-file", writePW("x")); !errors.Is(err, engine.ErrUnknownRemote) {
		t.Fatalf("remote passwd of an unknown remote: %v", err)
	}
}
