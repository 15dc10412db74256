package carddavtest

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// startXandikos starts Xandikos with --defaults, which creates the principal /user/ and the address book
// /user/contacts/addressbook/. Xandikos has no authentication, so the Server has no credentials and no
// AddUser.
func startXandikos(t testing.TB, s *Server) {
	t.Helper()
	bin := lookPath(t, "xandikos", "xandikos")
	startExternal(t, s, func(port int) *exec.Cmd {
		return exec.Command(bin, "--directory", filepath.Join(s.Dir, "data"), "--defaults",
			"--listen-address", "127.0.0.1", "--port", strconv.Itoa(port))
	})
	s.AddressBookURL = s.URL + "user/contacts/addressbook/"
}
