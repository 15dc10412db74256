package main

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// helpPaths are every command and subcommand, as typed before --help.
var helpPaths = [][]string{
	{},
	{"import"}, {"export"}, {"add"}, {"update"}, {"rm"}, {"get"}, {"list"}, {"changes"},
	{"conflicts"}, {"conflicts", "resolve"},
	{"server"}, {"server", "user"}, {"server", "user", "add"}, {"server", "user", "passwd"}, {"server", "user", "rm"}, {"server", "user", "list"},
	{"remote"}, {"remote", "add"}, {"remote", "list"}, {"remote", "passwd"}, {"remote", "rm"},
	{"sync"}, {"worker"}, {"status"}, {"testbed"}, {"version"},
}

// withoutStore are the commands that do not use the client store, so take no --db.
var withoutStore = []string{"server", "testbed", "version"}

var (
	flagLine  = regexp.MustCompile(`^  (--[a-z][a-z0-9-]+|-[a-z])( [A-Z][A-Z-]*)?$`)
	aboutLine = regexp.MustCompile(`^[A-Z][^\n]*\.$`)
	// A second sentence: a full stop, then a capital (an "e.g. Foo" would count, and is not house style).
	secondSentence = regexp.MustCompile(`\. [A-Z]`)
)

// TestHelpShape runs --help on every command and subcommand: each prints on stdout, with exit status 0, a
// "Usage: contactsync CMD …" line, one sentence saying what the command does, then its flags, each as --name
// and an upper-case VALUE with its text below.
func TestHelpShape(t *testing.T) {
	c := newCLI(t)
	for _, path := range helpPaths {
		name := strings.Join(path, " ")
		t.Run("contactsync "+name, func(t *testing.T) {
			out, errOut, err := c.run("", append(slices.Clone(path), "--help")...)
			if err != nil && !errors.Is(err, errHelp) {
				t.Fatalf("--help: %v", err)
			}
			if _, code := printed(err); code != 0 {
				t.Errorf("exit status %d, want 0", code)
			}
			if errOut != "" {
				t.Errorf("--help wrote to stderr: %q", errOut)
			}
			checkHelp(t, name, out)
			if len(path) > 0 {
				// `help CMD` is `CMD --help`.
				if viaHelp, _, _ := c.run("", append([]string{"help"}, path...)...); viaHelp != out {
					t.Errorf("'contactsync help %s' differs from '%s --help':\n%s", name, name, viaHelp)
				}
			}
		})
	}
}

func checkHelp(t *testing.T, name, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := strings.TrimSpace("Usage: contactsync " + name)
	if !strings.HasPrefix(lines[0], want) {
		t.Fatalf("first line %q, want it to start with %q:\n%s", lines[0], want, out)
	}
	i := 1
	for i < len(lines) && strings.HasPrefix(lines[i], "       contactsync ") {
		i++
	}
	if i+1 >= len(lines) || lines[i] != "" {
		t.Fatalf("no blank line and sentence after the usage lines:\n%s", out)
	}
	about := lines[i+1]
	if !aboutLine.MatchString(about) || secondSentence.MatchString(about) {
		t.Errorf("not one sentence saying what %q does: %q", name, about)
	}
	flags := slices.Index(lines, "Flags:")
	if flags < 0 {
		if name != "remote" && name != "version" {
			t.Errorf("no Flags: section:\n%s", out)
		}
	} else {
		for j := flags + 1; j < len(lines) && lines[j] != ""; j += 2 {
			if !flagLine.MatchString(lines[j]) {
				t.Errorf("flag line %q is not '--name VALUE' with an upper-case VALUE", lines[j])
				continue
			}
			if j+1 >= len(lines) || !strings.HasPrefix(lines[j+1], "      ") || strings.TrimSpace(lines[j+1]) == "" {
				t.Errorf("flag %q has no text below it", lines[j])
			} else if strings.Contains(lines[j+1], "`") {
				t.Errorf("flag %q: a back quote left in its text: %q", lines[j], lines[j+1])
			}
		}
	}
	if strings.Contains(out, "Usage of") || strings.Contains(out, "\n  -db") {
		t.Errorf("Go's bare flag usage:\n%s", out)
	}
	cmd, _, _ := strings.Cut(name, " ")
	switch hasDB := strings.Contains(out, "\n  --db FILE\n"); {
	case slices.Contains(withoutStore, cmd) && hasDB:
		t.Errorf("%s does not use the client store, yet its help lists --db:\n%s", name, out)
	case !slices.Contains(withoutStore, cmd) && cmd != "remote" && !hasDB && name != "":
		t.Errorf("%s works on the store, yet its help lists no --db:\n%s", name, out)
	}
}

// TestServerHelpShowsLimits: the server's limits are flags with the server's defaults, and the one that a
// reverse proxy needs set to 0 stands next to --insecure-plain-http.
func TestServerHelpShowsLimits(t *testing.T) {
	c := newCLI(t)
	out, _, _ := c.run("", "server", "--help")
	for _, want := range []string{
		"  --insecure-plain-http\n      allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy; give --max-conns-per-client 0 there too)\n" +
			"  --max-conns-per-client N\n",
		"(default 64)\n  --max-conns N\n      connections the server holds open at once; 0 for no limit (default 1024)\n",
		"  --read-header-timeout DURATION\n      how long a client may take over a request's headers, TLS handshake included (default 20s)\n",
		"  --body-idle-timeout DURATION\n      how long a request body may send nothing at all (one that keeps flowing takes as long as it needs) (default 1m)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("server --help lacks %q:\n%s", want, out)
		}
	}
}

func TestTopLevelHelpOnStdout(t *testing.T) {
	c := newCLI(t)
	out, errOut, err := c.run("", "--help")
	if !errors.Is(err, errHelp) || errOut != "" || !strings.Contains(out, "\nCommands:\n") || !strings.Contains(out, "\n  --version\n") {
		t.Fatalf("--help: err %v, stderr %q, stdout:\n%s", err, errOut, out)
	}
}
