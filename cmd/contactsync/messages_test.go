package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
)

// printed is err as main prints it, with the exit status.
func printed(err error) (string, int) {
	var buf bytes.Buffer
	code := exitCode(&buf, err)
	return buf.String(), code
}

// packagePrefixes are the prefixes the packages put on their errors; a message that repeats one reads as two
// messages glued together.
var packagePrefixes = []string{"contactsync:", "engine:", "device:", "carddav:", "carddavserver:", "changelog:", "storage:", "vcard:"}

// checkSentence fails unless err prints as one line, with each package prefix at most once, mentioning want,
// and with each of once exactly once.
func checkSentence(t *testing.T, err error, want string, once ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one mentioning %q", want)
	}
	msg, code := printed(err)
	if code != 1 {
		t.Errorf("exit status %d, want 1: %s", code, msg)
	}
	if strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") {
		t.Errorf("not one line: %q", msg)
	}
	for _, p := range packagePrefixes {
		if n := strings.Count(" "+msg, " "+p); n > 1 { // " carddav:", not "/.well-known/carddav:"
			t.Errorf("%q appears %d times: %s", p, n, msg)
		}
	}
	if !strings.Contains(msg, want) {
		t.Errorf("message does not say %q: %s", want, msg)
	}
	for _, s := range once {
		if n := strings.Count(msg, s); n != 1 {
			t.Errorf("%q appears %d times, want once: %s", s, n, msg)
		}
	}
}

// closedPort is an address on loopback where nothing listens: a server that is down.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestErrorMessages runs the error paths a newcomer meets first (an unknown remote, no remote, a bad URL, a
// server that is down, a wrong password) and checks that each ends in one sentence naming what went wrong
// once.
func TestErrorMessages(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	c := newCLI(t)
	c.addRemote(srv, "home")
	c.ok("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:m1\r\nFN:Mia\r\nEND:VCARD\r\n", "add")
	bare := newCLI(t) // a store without remotes
	run := func(c *cli, args ...string) error {
		t.Helper()
		_, _, err := c.run("", args...)
		return err
	}

	t.Run("unknown remote", func(t *testing.T) {
		for _, args := range [][]string{
			{"sync", "nosuch"},
			{"worker", "nosuch"},
			{"remote", "rm", "nosuch"},
			{"remote", "passwd", "--password-file", passwordFile(t, "x"), "nosuch"},
		} {
			checkSentence(t, run(c, args...), "no such remote: nosuch (the remotes are home)", "nosuch")
		}
		checkSentence(t, run(bare, "remote", "rm", "nosuch"), "no such remote: nosuch (none is configured: add one with 'contactsync remote add')", "nosuch")
	})
	t.Run("no remote", func(t *testing.T) {
		for _, cmd := range []string{"sync", "worker"} {
			checkSentence(t, run(bare, cmd), "no remote configured: add one with 'contactsync remote add'")
		}
	})
	t.Run("bad URL", func(t *testing.T) {
		checkSentence(t, run(bare, "remote", "add", "x", "--url", "http://[::1/"), "endpoint URL does not parse", "remote add x")
		checkSentence(t, run(bare, "remote", "add", "x", "--url", "ftp://127.0.0.1/"), "must start with http:// or https://", "remote add x")
	})
	t.Run("wrong password", func(t *testing.T) {
		checkSentence(t, run(bare, "remote", "add", "x", "--url", srv.URL, "--username", srv.Username, "--password-file", passwordFile(t, "wrong")),
			"401 Unauthorized", "Unauthorized", "remote add x")
		checkSentence(t, run(c, "remote", "passwd", "--password-file", passwordFile(t, "wrong"), "home"),
			"the server refused the new password of remote home; it was not saved")

		if err := srv.Embedded(t).SetPassword(context.Background(), srv.Username, "changed-"+srv.Password); err != nil {
			t.Fatal(err)
		}
		hint := "give the right password with 'contactsync remote passwd home --password-file FILE'"
		checkSentence(t, run(c, "sync"), hint, "pull from home", "Unauthorized", "credentials rejected")
		checkSentence(t, run(c, "sync"), "remote home: credentials rejected; it is stopped until they are replaced; "+hint)
		c.ok("", "remote", "passwd", "--password-file", passwordFile(t, "changed-"+srv.Password), "home")
	})
	t.Run("server down", func(t *testing.T) {
		dead := closedPort(t)
		checkSentence(t, run(bare, "remote", "add", "x", "--url", "http://"+dead+"/"), "dial tcp "+dead, "connection refused", "remote add x")
		srv.Stop(t)
		checkSentence(t, run(c, "sync"), "connection refused", "connection refused", "home")
	})
}

func TestRmNamesMissingIDs(t *testing.T) {
	c := newCLI(t)
	c.ok("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:r1\r\nFN:Ray\r\nEND:VCARD\r\n", "add")
	out, _, err := c.run("", "rm", "nosuch")
	checkSentence(t, err, "contactsync: no contact with ID nosuch (see 'contactsync list')")
	if out != "" {
		t.Errorf("rm of an unknown ID printed %q", out)
	}
	out, _, err = c.run("", "rm", "a", "r1", "b")
	checkSentence(t, err, "contactsync: no contacts with IDs a, b (see 'contactsync list')")
	if out != "removed r1\n" {
		t.Errorf("rm printed %q; want the one it removed", out)
	}
}

// TestImportWithoutCards: an empty file, one of blank lines and one of text that holds no card are each said to
// hold no vCard, with exit status 1, and the cards of the other files are imported all the same.
func TestImportWithoutCards(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.vcf", "")
	blank := write("blank.vcf", "\r\n\r\n")
	text := write("notes.vcf", "just some notes\n")
	good := write("good.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:g1\r\nFN:Gus\r\nEND:VCARD\r\n")
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"empty", []string{empty}, "", "no vCard found in " + empty},
		{"blank lines", []string{blank}, "", "no vCard found in " + blank},
		{"text only", []string{text}, "", "no vCard found in " + text},
		{"stdin", []string{"-"}, "", "no vCard found in stdin"},
		{"among good files", []string{empty, good, text}, "", "no vCard found in " + empty + ", " + text},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			out, _, err := c.run(tc.stdin, append([]string{"import"}, tc.args...)...)
			checkSentence(t, err, tc.want)
			if strings.Contains(err.Error(), "rejected") {
				t.Errorf("the text of a file without cards is counted as a rejected card: %v", err)
			}
			if wantAdded := strings.Contains(strings.Join(tc.args, " "), good); wantAdded != strings.Contains(out, "imported 1,") {
				t.Errorf("summary %q", out)
			}
		})
	}
	// A file with a card that cannot be read is still a rejection, not an empty file.
	c := newCLI(t)
	_, _, err := c.run("", "import", write("broken.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No End\r\n"))
	checkSentence(t, err, "1 card(s) rejected")
	if strings.Contains(err.Error(), "no vCard found") {
		t.Errorf("a file with an unreadable card is said to hold none: %v", err)
	}
}

// TestExportErrorNamesTarget: an export that cannot be written names the file the user asked for, never the
// temporary file beside it.
func TestExportErrorNamesTarget(t *testing.T) {
	c := newCLI(t)
	c.ok("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:e1\r\nFN:Eve\r\nEND:VCARD\r\n", "add")
	dir := t.TempDir()
	isDir := filepath.Join(dir, "book.vcf")
	if err := os.Mkdir(isDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, target, want string
	}{
		{"missing directory", filepath.Join(dir, "nosuch", "out.vcf"), "no such file or directory"},
		{"target is a directory", isDir, "it is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.run("", "export", "-o", tc.target)
			checkSentence(t, err, "export: cannot write "+tc.target+": "+tc.want, tc.target)
			if strings.Contains(err.Error(), ".export-") {
				t.Errorf("the error names the temporary file: %v", err)
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".export-*"))
			if len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}
