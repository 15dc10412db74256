package carddavtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// startRadicale starts Radicale with htpasswd (plain) authentication for the user "test" with a random
// password, and creates the address book /test/contacts/ for that user. Debian's python3 lacks bcrypt, hence
// plain; Radicale reads the file at each login, so AddUser appends to it.
func startRadicale(t testing.TB, s *Server) {
	t.Helper()
	bin := lookPath(t, "radicale", "radicale")
	users := filepath.Join(s.Dir, "users")
	s.addUser = func(name, password string) error {
		if strings.ContainsAny(name+password, ":\n") {
			return fmt.Errorf("htpasswd cannot hold %q", name)
		}
		f, err := os.OpenFile(users, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f, "%s:%s\n", name, password)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	s.Username, s.Password = "test", randomHex(t, 16)
	if err := s.addUser(s.Username, s.Password); err != nil {
		t.Fatalf("carddavtest: radicale: %v", err)
	}
	startExternal(t, s, func(port int) *exec.Cmd {
		config := fmt.Sprintf(`[server]
hosts = 127.0.0.1:%d
[auth]
type = htpasswd
htpasswd_filename = %s
htpasswd_encryption = plain
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = %s
[logging]
level = warning
mask_passwords = True
`, port, users, filepath.Join(s.Dir, "collections"))
		cfgPath := filepath.Join(s.Dir, "config")
		if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
			t.Fatalf("carddavtest: %v", err)
		}
		return exec.Command(bin, "--config", cfgPath)
	})
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	ab, err := s.Client(t).CreateAddressBook(ctx, "/"+s.Username+"/contacts/", "Contacts", "carddavtest address book")
	if err != nil {
		t.Fatalf("carddavtest: radicale: create address book: %v\n%s", err, s.Log())
	}
	s.AddressBookURL = ab.URL
}
