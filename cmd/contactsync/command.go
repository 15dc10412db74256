package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/contactsync/contactsync/adapters/carddav"
)

// errHelp ends a command that printed its help on request.
var errHelp = errors.New("help requested")

// A command is one subcommand of the CLI.
type command interface {
	// Run executes the command with the arguments after its name.
	Run(ctx context.Context, g *globals, args []string) error
}

type commandInfo struct {
	name    string
	summary string
	new     func() command
}

// commands lists the subcommands in the order `help` shows them.
var commands = []commandInfo{
	{"import", "import contacts from .vcf files (batched; one transaction per batch)", func() command { return &importCmd{} }},
	{"export", "write every contact as vCard", func() command { return &exportCmd{} }},
	{"add", "add a contact read from stdin (vCard or mozContact JSON)", func() command { return &addCmd{} }},
	{"update", "replace contact ID with the vCard or mozContact JSON on stdin", func() command { return &updateCmd{} }},
	{"rm", "remove contacts by ID", func() command { return &rmCmd{} }},
	{"get", "print one contact", func() command { return &getCmd{} }},
	{"list", "list contacts", func() command { return &listCmd{} }},
	{"changes", "print the changelog tasks since a revision", func() command { return &changesCmd{} }},
	{"conflicts", "list the choices merges made between concurrent edits; resolve ID takes the other value", func() command { return &conflictsCmd{} }},
	{"server", "run the embedded CardDAV server, or manage its users (server user add|passwd|rm|list)", func() command { return &serverCmd{} }},
	{"remote", "add, list or remove the CardDAV address books to sync with", func() command { return &remoteCmd{} }},
	{"sync", "push and pull once with each remote (or the named ones)", func() command { return &syncCmd{} }},
	{"worker", "keep syncing in the background: push on change, pull periodically and on SIGUSR1", func() command { return &workerCmd{} }},
	{"status", "show each remote's sync state (--json)", func() command { return &statusCmd{} }},
	{"testbed", "run N devices with random edits, faults and kills against one server and check they converge losing nothing", func() command { return &testbedCmd{} }},
	{"version", "print the version and commit this program was built from", func() command { return &versionCmd{} }},
}

// globals are the options every command that works on the store accepts, before or after its name, and those
// of the commands that talk to servers (networkFlags).
type globals struct {
	db       string
	stdio    Stdio
	timeouts carddav.Timeouts
}

// networkFlags adds the bounds of every request to a command that talks to servers. The defaults suit a slow
// phone link; a server that never answers is reported after them instead of waited for.
func (g *globals) networkFlags(fs *flag.FlagSet) {
	fs.DurationVar(&g.timeouts.Connect, "connect-timeout", carddav.DefaultTimeouts.Connect, "give up connecting to a server after this long")
	fs.DurationVar(&g.timeouts.TLSHandshake, "tls-timeout", carddav.DefaultTimeouts.TLSHandshake, "give up a TLS handshake after this long")
	fs.DurationVar(&g.timeouts.ResponseHeader, "response-timeout", carddav.DefaultTimeouts.ResponseHeader, "give up waiting for a server's answer to a request after this long")
	fs.DurationVar(&g.timeouts.Stall, "stall-timeout", carddav.DefaultTimeouts.Stall, "give up a request or an answer that stops moving for this long (one that still flows may take as long as it needs)")
}

// register adds the global flags to a command's flag set so `contactsync import --db x` works as well as
// `contactsync --db x import`.
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.db, "db", g.db, "the contact store, a SQLite `FILE` (env CONTACTSYNC_DB)")
}

var topHelp = help{
	usage: []string{"[--db FILE] COMMAND [ARGS]", "COMMAND --help", "--version"},
	about: "Keeps a device's contacts in a versioned local store and syncs them with CardDAV servers.",
}

// Run parses the global flags, picks the subcommand and runs it.
func Run(ctx context.Context, args []string, stdio Stdio) error {
	g := &globals{db: defaultDBPath(), stdio: stdio}
	fs := flag.NewFlagSet("contactsync", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	version := fs.Bool("version", false, "print the version and commit this program was built from, and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdio.Out, fs)
			return errHelp
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *version {
		return (&versionCmd{}).Run(ctx, g, fs.Args())
	}
	rest := fs.Args()
	if len(rest) == 0 {
		usage(stdio.Err, fs)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	name, rest := rest[0], rest[1:]
	if name == "help" {
		if len(rest) == 0 {
			usage(stdio.Out, fs)
			return nil
		}
		// `help CMD [SUBCOMMAND]` is `CMD [SUBCOMMAND] --help`.
		name, rest = rest[0], append(slices.Clone(rest[1:]), "--help")
	}
	for _, c := range commands {
		if c.name == name {
			return c.new().Run(ctx, g, rest)
		}
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, name)
}

// usage prints the help of contactsync itself: the commands, then the global flags.
func usage(w io.Writer, fs *flag.FlagSet) {
	h := topHelp
	var b strings.Builder
	b.WriteString("\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	h.more = b.String()
	h.notes = fmt.Sprintf("The store defaults to %s (override with --db or CONTACTSYNC_DB).", defaultDBPath())
	h.write(w, fs)
}

// parseFlags parses the flags of a command that works on the store, the globals included, and returns the
// positional arguments.
func (g *globals) parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	g.register(fs)
	return g.parseArgs(fs, args)
}

// parseArgs parses fs's flags wherever they stand among args and returns the positional arguments; -h or
// --help prints the command's help on stdout and ends it with errHelp.
func (g *globals) parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	// Accept flags after positional arguments too (`rm ID --db x`), as people type them.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(g.stdio.Out)
				fs.Usage()
				return nil, errHelp
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// defaultDBPath is $CONTACTSYNC_DB, else contacts.db in the user's data directory.
func defaultDBPath() string {
	if p := os.Getenv("CONTACTSYNC_DB"); p != "" {
		return p
	}
	return filepath.Join(userDataDir(), "contactsync", "contacts.db")
}

// userDataDir follows each platform's convention for application data (XDG on Unix).
func userDataDir() string {
	home, _ := os.UserHomeDir()
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return d
		}
	case "darwin":
		return filepath.Join(home, "Library", "Application Support")
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return d
	}
	return filepath.Join(home, ".local", "share")
}

// commandNames is used by tests to check that every command has documentation.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for _, c := range commands {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return names
}
