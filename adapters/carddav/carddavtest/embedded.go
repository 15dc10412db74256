package carddavtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddavserver"
)

// embedded is the project's own server, served from the test's process.
type embedded struct {
	dir       string
	addr      string
	opts      []carddavserver.Option
	srv       *carddavserver.Server
	stopServe context.CancelFunc
	done      chan error
}

// startEmbedded starts the embedded server with a test user "test" and a random password. The password hash
// uses the lowest PBKDF2 iteration count the server accepts, so tests do not spend seconds logging in; opts
// come after that default and may override it.
func startEmbedded(t testing.TB, s *Server, opts []carddavserver.Option) {
	t.Helper()
	e := &embedded{
		dir: s.Dir,
		opts: append([]carddavserver.Option{
			carddavserver.WithPasswordIterations(carddavserver.MinPasswordIterations),
			// net/http closes a connection that never sent a request only once it is 5 s old; a longer timeout
			// lets Shutdown finish gracefully when a client opened one and went away.
			carddavserver.WithShutdownTimeout(10 * time.Second),
		}, opts...),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("carddavtest: embedded: listen: %v", err)
	}
	e.addr = l.Addr().String()
	e.open(t, l)
	s.run(t, e)
	s.URL = "http://" + e.addr + "/"
	s.Username, s.Password = "test", randomHex(t, 16)
	s.addUser = func(name, password string) error { return e.srv.AddUser(context.Background(), name, password) }
	if err := s.addUser(s.Username, s.Password); err != nil {
		t.Fatalf("carddavtest: embedded: %v", err)
	}
	s.AddressBookURL = s.URL + "addressbooks/" + s.Username + "/" + carddavserver.DefaultBook + "/"
}

func (e *embedded) open(t testing.TB, l net.Listener) {
	t.Helper()
	srv, err := carddavserver.Open(e.dir, e.opts...)
	if err != nil {
		l.Close()
		t.Fatalf("carddavtest: embedded: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	e.srv, e.stopServe, e.done = srv, stop, make(chan error, 1)
	go func() { e.done <- srv.ServeListener(ctx, l) }()
}

// stop shuts the server down gracefully and closes its data.
func (e *embedded) stop() error {
	e.stopServe()
	return errors.Join(<-e.done, e.srv.Close())
}

func (e *embedded) restart(t testing.TB) {
	t.Helper()
	l, err := listenAgain(e.addr)
	if err != nil {
		t.Fatalf("carddavtest: embedded: %v", err)
	}
	e.open(t, l)
}

func (e *embedded) log() string { return "" }

// listenAgain listens on addr, which a server that just stopped held, giving the kernel a moment if it still
// holds the port.
func listenAgain(addr string) (net.Listener, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			return l, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("listen again on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
