package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets a test re-run this binary as the real CLI (for kill -9 tests): with CONTACTSYNC_AS_CLI set, the
// test binary behaves exactly like `contactsync`.
func TestMain(m *testing.M) {
	if os.Getenv("CONTACTSYNC_AS_CLI") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// cli runs one command in-process against the store at db and returns its stdout, stderr and error.
type cli struct {
	t  *testing.T
	db string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	return &cli{t: t, db: filepath.Join(t.TempDir(), "contacts.db")}
}

func (c *cli) run(stdin string, args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	err = Run(context.Background(), append([]string{"--db", c.db}, args...), Stdio{In: strings.NewReader(stdin), Out: &out, Err: &errOut})
	return out.String(), errOut.String(), err
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("contactsync %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// usageError runs a command that must fail as a usage mistake (exit status 2) with a message mentioning want.
func (c *cli) usageError(t *testing.T, want string, args ...string) {
	t.Helper()
	_, _, err := c.run("", args...)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want it to mention %q", err, want)
	}
	var buf bytes.Buffer
	if code := exitCode(&buf, err); code != 2 {
		t.Fatalf("exit code %d, want 2 (usage)", code)
	}
}

func TestUsageErrors(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command given"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"import without files", []string{"import"}, "at least one .vcf file"},
		{"get without id", []string{"get"}, "exactly one contact ID"},
		{"get bad format", []string{"get", "x", "--format", "xml"}, "--format must be vcf or json"},
		{"rm without id", []string{"rm"}, "at least one contact ID"},
		{"changes with argument", []string{"changes", "5"}, "use --since REV"},
		{"unknown flag", []string{"list", "--colour"}, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) { c.usageError(t, tc.want, tc.args...) })
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	c := newCLI(t)
	out := c.ok("", "help")
	for _, name := range commandNames() {
		if !strings.Contains(out, "  "+name+" ") {
			t.Errorf("help does not list %q:\n%s", name, out)
		}
	}
}

func TestDefaultDBPath(t *testing.T) {
	t.Setenv("CONTACTSYNC_DB", "/tmp/x/contacts.db")
	if got := defaultDBPath(); got != "/tmp/x/contacts.db" {
		t.Fatalf("defaultDBPath with CONTACTSYNC_DB = %q", got)
	}
	t.Setenv("CONTACTSYNC_DB", "")
	t.Setenv("XDG_DATA_HOME", "/data/home")
	if got := defaultDBPath(); got != "/data/home/contactsync/contacts.db" {
		t.Fatalf("defaultDBPath with XDG_DATA_HOME = %q", got)
	}
}
