package carddavtest

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sabredavScript is the server: SabreDAV 1.8's PDO backends on SQLite with Basic auth (see its comment).
//
//go:embed testdata/sabredav/server.php
var sabredavScript []byte

// startSabreDAV starts Debian's SabreDAV 1.8 (php-sabre-dav) under php's built-in server with the user
// "test", a random password and the address book /addressbooks/test/contacts/. The built-in server handles
// one request at a time, which is also what keeps SabreDAV's check of If-Match and its write together: its
// PDO backend does not run them in one transaction.
func startSabreDAV(t testing.TB, s *Server) {
	t.Helper()
	php := lookPath(t, "php", "php-cli")
	probe := exec.Command(php, "-r", `$m = array();
		if (!(@include "Sabre/autoload.php")) $m[] = "SabreDAV (php-sabre-dav)";
		if (!extension_loaded("pdo_sqlite")) $m[] = "PDO SQLite (php-sqlite3)";
		echo implode(" and ", $m);`)
	out, err := probe.CombinedOutput()
	if err != nil {
		t.Fatalf("carddavtest: sabredav: probe php: %v\n%s", err, out)
	}
	if len(out) > 0 {
		missing(t, "php lacks "+string(out), "php-sabre-dav php-sqlite3")
	}
	script := filepath.Join(s.Dir, "server.php")
	if err := os.WriteFile(script, sabredavScript, 0o600); err != nil {
		t.Fatalf("carddavtest: %v", err)
	}
	env := append(os.Environ(), "SABREDAV_DB="+filepath.Join(s.Dir, "db.sqlite"))
	s.addUser = func(name, password string) error {
		cmd := exec.Command(php, script, "adduser", name)
		cmd.Env, cmd.Dir = env, s.Dir
		// On stdin, so the password is not on a command line for every process to read.
		cmd.Stdin = strings.NewReader(password)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	s.Username, s.Password = "test", randomHex(t, 16)
	if err := s.addUser(s.Username, s.Password); err != nil {
		t.Fatalf("carddavtest: sabredav: %v", err)
	}
	startExternal(t, s, func(port int) *exec.Cmd {
		cmd := exec.Command(php, "-S", fmt.Sprintf("127.0.0.1:%d", port), script)
		cmd.Env, cmd.Dir = env, s.Dir
		return cmd
	})
	s.AddressBookURL = s.URL + "addressbooks/" + s.Username + "/contacts/"
}
