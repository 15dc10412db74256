package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
)

// serverPasswordFile writes a password file with the given mode.
func serverPasswordFile(t *testing.T, password string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte(password+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // the umask may have narrowed it
		t.Fatal(err)
	}
	return p
}

func TestServerUsers(t *testing.T) {
	c := newCLI(t)
	data := filepath.Join(t.TempDir(), "server")
	pw := serverPasswordFile(t, "correct horse", 0o600)
	c.ok("", "server", "user", "add", "alice", "--password-file", pw, "--data", data)
	c.ok("bob's secret\n", "server", "user", "add", "bob", "--password-file", "-", "--data", data)
	if out := c.ok("", "server", "user", "list", "--data", data); out != "alice\nbob\n" {
		t.Errorf("user list = %q; want alice and bob", out)
	}
	c.ok("", "server", "user", "passwd", "alice", "--password-file", serverPasswordFile(t, "battery staple", 0o400), "--data", data)
	c.ok("", "server", "user", "rm", "bob", "--data", data)
	if out := c.ok("", "server", "user", "list", "--data", data); out != "alice\n" {
		t.Errorf("user list after rm = %q; want alice", out)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
		usage bool
	}{
		{name: "no verb", args: []string{"server", "user"}, want: "needs add, passwd, rm or list", usage: true},
		{name: "unknown verb", args: []string{"server", "user", "frob", "x"}, want: `unknown 'server user' command "frob"`, usage: true},
		{name: "add without a password file", args: []string{"server", "user", "add", "carol"}, want: "needs --password-file", usage: true},
		{name: "add without a name", args: []string{"server", "user", "add", "--password-file", pw}, want: "takes 1 user name", usage: true},
		{name: "group-readable password file", args: []string{"server", "user", "add", "carol", "--password-file", serverPasswordFile(t, "x", 0o640)}, want: "readable by other users (mode 0640): chmod 600"},
		{name: "empty password", stdin: "\n", args: []string{"server", "user", "add", "carol", "--password-file", "-"}, want: "first line is empty"},
		{name: "taken name", args: []string{"server", "user", "add", "alice", "--password-file", pw}, want: "user already exists"},
		{name: "bad name", args: []string{"server", "user", "add", "a:b", "--password-file", pw}, want: "invalid name"},
		{name: "rm unknown", args: []string{"server", "user", "rm", "nobody"}, want: "no such user"},
		{name: "server with an argument", args: []string{"server", "extra"}, want: "takes no arguments", usage: true},
		{name: "plain HTTP on all interfaces", args: []string{"server", "--listen", ":0"}, want: "refusing to take passwords over plain HTTP", usage: true},
		{name: "plain HTTP on another host", args: []string{"server", "--listen", "192.0.2.1:0"}, want: "give --tls-cert and --tls-key", usage: true},
		{name: "cert without key", args: []string{"server", "--tls-cert", "c.pem"}, want: "go together", usage: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.run(tc.stdin, append(tc.args, "--data", data)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v; want it to mention %q", err, tc.want)
			}
			if got := errors.Is(err, errUsage); got != tc.usage {
				t.Errorf("usage error = %v, want %v (%v)", got, tc.usage, err)
			}
		})
	}
	if strings.Contains(c.ok("", "server", "user", "list", "--data", data), "carol") {
		t.Error("a refused add created the user")
	}
}

// serverStderr collects what a running server prints, safely across goroutines.
type serverStderr struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *serverStderr) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *serverStderr) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

var servingLine = regexp.MustCompile(`serving (https?://127\.0\.0\.1:\d+/)`)

// startServerCmd runs `contactsync server` in-process until the test ends and returns its URL.
func startServerCmd(t *testing.T, args ...string) (url string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &serverStderr{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"server", "--listen", "127.0.0.1:0"}, args...), Stdio{In: strings.NewReader(""), Out: stderr, Err: stderr})
	}()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("server did not stop within 30 s of its context ending")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := servingLine.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], stop
		}
		select {
		case err := <-done:
			t.Fatalf("server exited before serving: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", stderr.String())
		}
	}
}

func TestServerServesAndStops(t *testing.T) {
	c := newCLI(t)
	data := filepath.Join(t.TempDir(), "server")
	c.ok("", "server", "user", "add", "alice", "--password-file", serverPasswordFile(t, "s3cret", 0o600), "--data", data)
	url, stop := startServerCmd(t, "--data", data)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := carddav.New(url, carddav.WithBasicAuth("alice", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := client.Discover(ctx)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	ab, err := d.Choose("")
	if err != nil {
		t.Fatal(err)
	}
	card := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cli-1\r\nFN:Served\r\nEND:VCARD\r\n")
	if _, err := client.Put(ctx, carddav.HrefForUID(ab.URL, "cli-1"), card, carddav.CreateOnly()); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("server ended with %v; want a clean stop", err)
	}
	// Stopped means stopped: the port no longer answers.
	if _, err := client.Discover(ctx); err == nil {
		t.Error("server still answers after it stopped")
	}
	// The data survives: a new server process serves the contact.
	url2, _ := startServerCmd(t, "--data", data)
	client2, _ := carddav.New(url2, carddav.WithBasicAuth("alice", "s3cret"))
	got, err := client2.Get(ctx, carddav.HrefForUID(url2+"addressbooks/alice/contacts/", "cli-1"))
	if err != nil || !bytes.Equal(got.Data, card) {
		t.Errorf("after restart: %+v, %v", got, err)
	}
}

func TestServerTLS(t *testing.T) {
	c := newCLI(t)
	data := filepath.Join(t.TempDir(), "server")
	c.ok("", "server", "user", "add", "alice", "--password-file", serverPasswordFile(t, "tls pass", 0o600), "--data", data)
	certFile, keyFile, pool := selfSignedCert(t)
	url, _ := startServerCmd(t, "--data", data, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("server URL %s; want https", url)
	}
	hc := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	client, err := carddav.New(url, carddav.WithBasicAuth("alice", "tls pass"), carddav.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if d, err := client.Discover(ctx); err != nil || len(d.AddressBooks) != 1 {
		t.Fatalf("Discover over TLS = %+v, %v", d, err)
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, and returns a pool that trusts it.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "contactsync test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServerLimitFlags: the limit flags reach the server. With --max-conns-per-client 1 a second connection
// from this machine is closed at once while the first is open, and with --read-header-timeout 3s the first,
// which sends nothing, is closed after that long instead of the default 20 s. A value the server
// refuses is an error naming the limit.
func TestServerLimitFlags(t *testing.T) {
	data := filepath.Join(t.TempDir(), "server")
	url, _ := startServerCmd(t, "--data", data, "--max-conns-per-client", "1", "--read-header-timeout", "3s")
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	// closedWithin reports whether the server closes c within d; c sends nothing.
	closedWithin := func(c net.Conn, d time.Duration) bool {
		_ = c.SetReadDeadline(time.Now().Add(d))
		_, err := c.Read(make([]byte, 1024))
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	opened := time.Now()
	second, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if !closedWithin(second, time.Second) {
		t.Error("a second connection from the same client stayed open with --max-conns-per-client 1")
	}
	if !closedWithin(first, 10*time.Second) {
		t.Error("a connection that sends no request stayed open 10 s with --read-header-timeout 3s")
	} else if took := time.Since(opened); took < 2900*time.Millisecond {
		t.Errorf("the idle connection was closed after %v, before the 3s read-header timeout", took)
	}

	c := newCLI(t)
	_, _, err = c.run("", "server", "--listen", "127.0.0.1:0", "--data", data, "--body-idle-timeout", "0s")
	if err == nil || !strings.Contains(err.Error(), "body idle timeout must be positive") {
		t.Fatalf("server --body-idle-timeout 0s: %v", err)
	}
}
