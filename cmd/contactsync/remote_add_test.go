package main

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
)

func passwordFile(t *testing.T, pw string) string {
	t.Helper()
	pf := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pf, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return pf
}

// TestRemoteAddChoosesAndRefusesDuplicates: an account with several address books gets a list and the flag to
// pick one with; the same address book under a second remote name is refused, naming the first.
func TestRemoteAddChoosesAndRefusesDuplicates(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	u, _ := url.Parse(srv.AddressBookURL)
	parent := u.Path[:strings.LastIndex(strings.TrimSuffix(u.Path, "/"), "/")+1]
	if _, err := srv.Client(t).CreateAddressBook(context.Background(), parent+"work/", "Work", ""); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	pf := passwordFile(t, srv.Password)
	_, _, err := c.run("", "remote", "add", "home", "--url", srv.URL, "--username", srv.Username, "--password-file", pf)
	if err == nil || !strings.Contains(err.Error(), "2 address books") || !strings.Contains(err.Error(), `"Work" (work)`) ||
		!strings.Contains(err.Error(), "pick one with --addressbook NAME") {
		t.Fatalf("remote add on an account with two books: %v", err)
	}
	c.ok("", "remote", "add", "home", "--url", srv.URL, "--username", srv.Username, "--password-file", pf, "--addressbook", "work")
	_, _, err = c.run("", "remote", "add", "again", "--url", srv.URL, "--username", srv.Username, "--password-file", pf, "--addressbook", "work")
	if err == nil || !strings.Contains(err.Error(), "is synced as remote home") {
		t.Fatalf("the same book twice: %v", err)
	}
	_, _, err = c.run("", "remote", "add", "home", "--url", srv.URL, "--username", srv.Username, "--password-file", pf, "--addressbook", "work")
	if err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("a remote name twice: %v", err)
	}
}

// TestRemoteAddOwnCA: a self-hosted server with its own certificate authority, given without a scheme: https is
// assumed and said; the untrusted certificate is named with the flag that helps; --ca-file makes it work, for
// remote add and every later sync.
func TestRemoteAddOwnCA(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	target, _ := url.Parse(srv.URL)
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	defer front.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(front.URL, "https://")
	c := newCLI(t)
	pf := passwordFile(t, srv.Password)
	_, _, err := c.run("", "remote", "add", "home", "--url", host+"/", "--username", srv.Username, "--password-file", pf, "--addressbook", "contacts")
	if err == nil || !strings.Contains(err.Error(), "certificate is not trusted") || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("remote add with an untrusted certificate: %v", err)
	}
	_, stderr, err := c.run("", "remote", "add", "home", "--url", host+"/", "--username", srv.Username, "--password-file", pf,
		"--addressbook", "contacts", "--ca-file", ca)
	if err != nil || !strings.Contains(stderr, "no scheme given: using https://"+host+"/") {
		t.Fatalf("remote add --ca-file: %v (stderr %q)", err, stderr)
	}
	c.ok("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:tls-1\r\nFN:Over TLS\r\nEND:VCARD\r\n", "add")
	if out := c.ok("", "sync"); !strings.Contains(out, "home: uploaded") {
		t.Fatalf("sync through the self-hosted CA: %q", out)
	}
}

// TestServerThatNeverAnswers: remote add and sync end with an error naming the server and what timed out,
// within the bounds given, instead of hanging.
func TestServerThatNeverAnswers(t *testing.T) {
	addr := carddavtest.Silent(t, true)
	c := newCLI(t)
	start := time.Now()
	_, _, err := c.run("", "remote", "add", "dead", "--url", "http://"+addr+"/", "--response-timeout", "300ms")
	if err == nil || !strings.Contains(err.Error(), "timed out waiting for an answer from "+addr) || strings.Count(err.Error(), "timed out") != 1 {
		t.Fatalf("remote add against a server that never answers: %v", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("remote add took %v", took)
	}

	// A remote whose server stops answering later.
	srv := carddavtest.Start(t, "embedded")
	front := carddavtest.NewFront(t, srv.URL)
	pf := passwordFile(t, srv.Password)
	c.ok("", "remote", "add", "home", "--url", front.URL+"/", "--username", srv.Username, "--password-file", pf, "--addressbook", "contacts")
	front.Hang(true)
	start = time.Now()
	_, _, err = c.run("", "sync", "--response-timeout", "300ms")
	if err == nil || !strings.Contains(err.Error(), "timed out waiting for an answer from 127.0.0.1") {
		t.Fatalf("sync against a server that stopped answering: %v", err)
	}
	// The engine tries again with backoff (5 attempts): still seconds, not forever.
	if took := time.Since(start); took > 60*time.Second {
		t.Fatalf("sync took %v", took)
	}
	front.Hang(false)
	if out := c.ok("", "sync"); !strings.Contains(out, "home:") {
		t.Fatalf("sync once the server answers again: %q", out)
	}
}
