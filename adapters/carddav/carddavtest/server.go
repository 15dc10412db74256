package carddavtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
)

// Server is a running CardDAV server.
type Server struct {
	// Name is "radicale" or "xandikos".
	Name string
	// URL is the bare server root, where discovery starts.
	URL string
	// Username and Password are the test user's credentials; empty when the server has no auth (Xandikos).
	Username, Password string
	// AddressBookURL is an address book that exists for the test user.
	AddressBookURL string
	// Dir holds the server's data.
	Dir string

	proc *process
}

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

// Log returns what the server has printed so far (the last 64 KiB).
func (s *Server) Log() string { return s.proc.out.String() }

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	// bindAttempts covers the window between picking a free port and the server binding it.
	bindAttempts = 3
)

// StartRadicale starts Radicale with htpasswd (plain) authentication for a random user and password, and
// creates the address book AddressBookURL for that user.
func StartRadicale(t testing.TB) *Server {
	t.Helper()
	bin := lookPath(t, "radicale")
	dir := t.TempDir()
	user, pass := "test", randomHex(t, 16)
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(user+":"+pass+"\n"), 0o600); err != nil {
		t.Fatalf("carddavtest: %v", err)
	}
	s := &Server{Name: "radicale", Username: user, Password: pass, Dir: dir}
	s.start(t, func(port int) *exec.Cmd {
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
`, port, filepath.Join(dir, "users"), filepath.Join(dir, "collections"))
		cfgPath := filepath.Join(dir, "config")
		if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
			t.Fatalf("carddavtest: %v", err)
		}
		return exec.Command(bin, "--config", cfgPath)
	})
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	ab, err := c.CreateAddressBook(ctx, "/"+user+"/contacts/", "Contacts", "carddavtest address book")
	if err != nil {
		t.Fatalf("carddavtest: radicale: create address book: %v\n%s", err, s.Log())
	}
	s.AddressBookURL = ab.URL
	return s
}

// StartXandikos starts Xandikos with --defaults, which creates the principal /user/ and the address book
// /user/contacts/addressbook/. Xandikos has no authentication.
func StartXandikos(t testing.TB) *Server {
	t.Helper()
	bin := lookPath(t, "xandikos")
	dir := t.TempDir()
	s := &Server{Name: "xandikos", Dir: dir}
	s.start(t, func(port int) *exec.Cmd {
		return exec.Command(bin, "--directory", filepath.Join(dir, "data"), "--defaults",
			"--listen-address", "127.0.0.1", "--port", strconv.Itoa(port))
	})
	s.AddressBookURL = s.URL + "user/contacts/addressbook/"
	return s
}

// Start starts the named server ("radicale" or "xandikos").
func Start(t testing.TB, name string) *Server {
	t.Helper()
	switch name {
	case "radicale":
		return StartRadicale(t)
	case "xandikos":
		return StartXandikos(t)
	}
	t.Fatalf("carddavtest: unknown server %q", name)
	return nil
}

// Names lists the servers Start knows.
var Names = []string{"radicale", "xandikos"}

func lookPath(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err == nil {
		return bin
	}
	msg := fmt.Sprintf("carddavtest: %s not installed (apt-get install %s, or make deps)", name, name)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so this is a failure, not a skip")
	}
	t.Skip(msg)
	return ""
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("carddavtest: %v", err)
	}
	return hex.EncodeToString(b)
}

// start runs the command made for a free port until the server answers HTTP, and registers its stop.
func (s *Server) start(t testing.TB, command func(port int) *exec.Cmd) {
	t.Helper()
	var lastErr error
	for range bindAttempts {
		port, err := freePort()
		if err != nil {
			t.Fatalf("carddavtest: %v", err)
		}
		p, err := startProcess(command(port))
		if err != nil {
			t.Fatalf("carddavtest: start %s: %v", s.Name, err)
		}
		s.URL = fmt.Sprintf("http://127.0.0.1:%d/", port)
		s.proc = p
		t.Cleanup(func() {
			if err := p.stop(); err != nil {
				t.Errorf("carddavtest: stop %s: %v", s.Name, err)
			}
			if t.Failed() {
				t.Logf("carddavtest: %s log:\n%s", s.Name, p.out.String())
			}
		})
		if lastErr = waitReady(s.URL, p); lastErr == nil {
			return
		}
		if !strings.Contains(p.out.String(), "in use") {
			break
		}
	}
	t.Fatalf("carddavtest: %s did not start: %v\n%s", s.Name, lastErr, s.proc.out.String())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the server until it answers any HTTP status, the process dies, or startTimeout passes.
func waitReady(url string, p *process) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering after %s: %w", startTimeout, err)
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited early: %v", p.waitErr)
		case <-tick.C:
		}
	}
}

// process is a started server; its output goes to out.
type process struct {
	cmd     *exec.Cmd
	out     *tailBuffer
	done    chan struct{}
	waitErr error
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, out: &tailBuffer{max: 64 << 10}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM to the server's process group, then SIGKILL if it has not exited in stopTimeout, and
// waits for it.
func (p *process) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := -p.cmd.Process.Pid
	if err := syscall.Kill(pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := syscall.Kill(pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	<-p.done
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
