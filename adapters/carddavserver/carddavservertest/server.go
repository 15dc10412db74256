package carddavservertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddavserver"
)

// Server is a running embedded CardDAV server. Its fields mirror carddavtest.Server, so a test written for
// Radicale or Xandikos reads the same against it.
type Server struct {
	// Name is "embedded".
	Name string
	// URL is the bare server root, where discovery starts.
	URL string
	// Username and Password are the test user's credentials.
	Username, Password string
	// AddressBookURL is the test user's default address book.
	AddressBookURL string
	// Dir holds the server's data.
	Dir string
	// Srv is the server itself, for its Go API (AddUser, Import, Trim …).
	Srv *carddavserver.Server

	addr  string
	opts  []carddavserver.Option
	stop  context.CancelFunc
	done  chan error
	alive bool
}

// Start starts a server with a test user "test" and a random password. The password hash uses the lowest
// PBKDF2 iteration count the server accepts, so tests do not spend seconds logging in; opts come after that
// default and may override it.
func Start(t testing.TB, opts ...carddavserver.Option) *Server {
	t.Helper()
	s := &Server{
		Name:     "embedded",
		Dir:      t.TempDir(),
		Username: "test",
		Password: randomPassword(t),
		opts: append([]carddavserver.Option{
			carddavserver.WithPasswordIterations(carddavserver.MinPasswordIterations),
			// net/http closes a connection that never sent a request only once it is 5 s old; a longer timeout
			// lets Shutdown finish gracefully when a client opened one and went away.
			carddavserver.WithShutdownTimeout(10 * time.Second),
		}, opts...),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("carddavservertest: listen: %v", err)
	}
	s.addr = l.Addr().String()
	s.URL = "http://" + s.addr + "/"
	s.open(t, l)
	t.Cleanup(func() { s.Stop(t) })
	if err := s.Srv.AddUser(context.Background(), s.Username, s.Password); err != nil {
		t.Fatalf("carddavservertest: %v", err)
	}
	s.AddressBookURL = s.URL + "addressbooks/" + s.Username + "/" + carddavserver.DefaultBook + "/"
	return s
}

func (s *Server) open(t testing.TB, l net.Listener) {
	t.Helper()
	srv, err := carddavserver.Open(s.Dir, s.opts...)
	if err != nil {
		l.Close()
		t.Fatalf("carddavservertest: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s.Srv, s.stop, s.done, s.alive = srv, stop, make(chan error, 1), true
	go func() { s.done <- srv.ServeListener(ctx, l) }()
}

// Stop shuts the server down gracefully and closes its data; the data stays for Restart. It is safe to call
// twice.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if !s.alive {
		return
	}
	s.alive = false
	s.stop()
	err := <-s.done
	err = errors.Join(err, s.Srv.Close())
	if err != nil {
		t.Errorf("carddavservertest: stop: %v", err)
	}
}

// Restart stops the server if it runs and starts it again on the same address and data, as a server process
// that was restarted would be.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	var l net.Listener
	var err error
	// The old listener is closed, but give the kernel a moment if it still holds the port.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if l, err = net.Listen("tcp", s.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("carddavservertest: listen again on %s: %v", s.addr, err)
	}
	s.open(t, l)
}

// AddUser adds another user with a random password, which it returns.
func (s *Server) AddUser(t testing.TB, name string) string {
	t.Helper()
	pw := randomPassword(t)
	if err := s.Srv.AddUser(context.Background(), name, pw); err != nil {
		t.Fatalf("carddavservertest: %v", err)
	}
	return pw
}

// Options returns the client options that reach this server as its test user.
func (s *Server) Options() []carddav.Option {
	return []carddav.Option{carddav.WithBasicAuth(s.Username, s.Password)}
}

// Client returns a client for the server's root URL with the test user's credentials and opts.
func (s *Server) Client(t testing.TB, opts ...carddav.Option) *carddav.Client {
	t.Helper()
	c, err := carddav.New(s.URL, append(s.Options(), opts...)...)
	if err != nil {
		t.Fatalf("carddavservertest: client: %v", err)
	}
	return c
}

func randomPassword(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("carddavservertest: %v", fmt.Errorf("password: %w", err))
	}
	return hex.EncodeToString(b)
}
