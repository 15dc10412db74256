package carddavtest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddavserver"
)

// Names lists the servers Start knows: the test matrix.
var Names = []string{"embedded", "radicale", "xandikos", "sabredav"}

// Server is a running CardDAV server of the matrix.
type Server struct {
	// Name is one of Names.
	Name string
	// URL is the bare server root, where discovery starts.
	URL string
	// Username and Password are the test user's credentials; empty when the server has no auth (Xandikos).
	Username, Password string
	// AddressBookURL is an address book that exists for the test user.
	AddressBookURL string
	// Dir holds the server's data.
	Dir string
	// SyncCollection says the server's address books answer sync-collection (RFC 6578) and have a sync token;
	// SabreDAV 1.8's do not.
	SyncCollection bool

	inst    instance
	addUser func(name, password string) error // nil where the server has no users of its own
	running bool
}

// instance is one kind of server as Server runs it.
type instance interface {
	// stop stops the server; its data stays.
	stop() error
	// restart starts the stopped server again on the same address and data.
	restart(t testing.TB)
	// log is what the server has printed so far ("" for the embedded server, which logs through its logger).
	log() string
}

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
)

// Start starts the named server (one of Names) for t; it stops when t ends. opts are the embedded server's
// options and fail t for any other server. A missing outside server (Radicale, Xandikos, SabreDAV or the PHP it
// runs on) skips t, or fails it when the CI environment variable is set.
func Start(t testing.TB, name string, opts ...carddavserver.Option) *Server {
	t.Helper()
	if !slices.Contains(Names, name) {
		t.Fatalf("carddavtest: unknown server %q (want one of %v)", name, Names)
	}
	if len(opts) > 0 && name != "embedded" {
		t.Fatalf("carddavtest: server options are the embedded server's; %s takes none", name)
	}
	// Registered after the server's own cleanup, so it runs first: a connection the client dialed and never
	// used would hold the embedded server's graceful stop until Go counts it idle (5 s).
	defer t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	s := &Server{Name: name, Dir: t.TempDir(), SyncCollection: name != "sabredav"}
	switch name {
	case "embedded":
		startEmbedded(t, s, opts)
	case "radicale":
		startRadicale(t, s)
	case "xandikos":
		startXandikos(t, s)
	case "sabredav":
		startSabreDAV(t, s)
	}
	return s
}

// run records inst as s's running server and registers its stop with t.
func (s *Server) run(t testing.TB, inst instance) {
	s.inst, s.running = inst, true
	t.Cleanup(func() {
		s.Stop(t)
		if t.Failed() && s.inst.log() != "" {
			t.Logf("carddavtest: %s log:\n%s", s.Name, s.inst.log())
		}
	})
}

// Stop stops the server; its data stays for Restart. It is safe to call twice.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if !s.running {
		return
	}
	s.running = false
	if err := s.inst.stop(); err != nil {
		t.Errorf("carddavtest: stop %s: %v", s.Name, err)
	}
}

// Restart stops the server if it runs and starts it again on the same address and data, as a server process
// that was restarted would be.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.inst.restart(t)
	s.running = true
}

// AddUser adds another user with a random password, which it returns. It fails t on a server without users of
// its own (Xandikos).
func (s *Server) AddUser(t testing.TB, name string) string {
	t.Helper()
	if s.addUser == nil {
		t.Fatalf("carddavtest: %s has no authentication, so no users to add", s.Name)
	}
	pw := randomHex(t, 16)
	if err := s.addUser(name, pw); err != nil {
		t.Fatalf("carddavtest: %s: add user %s: %v", s.Name, name, err)
	}
	return pw
}

// Embedded returns the embedded server itself, for its Go API (SetPassword, Import, Trim …); it changes on
// Restart. It fails t for any other server.
func (s *Server) Embedded(t testing.TB) *carddavserver.Server {
	t.Helper()
	e, ok := s.inst.(*embedded)
	if !ok {
		t.Fatalf("carddavtest: %s is not the embedded server", s.Name)
	}
	return e.srv
}

// Log returns what the server has printed so far (the last 64 KiB); the embedded server prints nothing here,
// it logs through carddavserver.WithLogger.
func (s *Server) Log() string { return s.inst.log() }

// Options returns the client options that reach this server as its test user.
func (s *Server) Options() []carddav.Option {
	if s.Username == "" {
		return nil
	}
	return []carddav.Option{carddav.WithBasicAuth(s.Username, s.Password)}
}

// Client returns a client for the server's root URL with the test user's credentials and opts.
func (s *Server) Client(t testing.TB, opts ...carddav.Option) *carddav.Client {
	t.Helper()
	c, err := carddav.New(s.URL, append(s.Options(), opts...)...)
	if err != nil {
		t.Fatalf("carddavtest: client for %s: %v", s.Name, err)
	}
	return c
}

// lookPath finds an outside server's binary, or skips t (fails it when CI is set) with how to install it.
func lookPath(t testing.TB, bin, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		missing(t, bin+" not installed", pkg)
	}
	return path
}

// missing skips t because what an outside server needs is absent, or fails it when the CI environment
// variable is set, so a CI run can never pass by skipping.
func missing(t testing.TB, what, pkgs string) {
	t.Helper()
	msg := "carddavtest: " + what + " (apt-get install " + pkgs + ", or make deps)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so this is a failure, not a skip")
	}
	t.Skip(msg)
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("carddavtest: %v", err)
	}
	return hex.EncodeToString(b)
}
