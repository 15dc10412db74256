package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(exitCode(os.Stderr, err))
}

// Stdio carries the streams a command reads and writes, so tests run commands in-process.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// errUsage marks an error in how the command was called.
var errUsage = errors.New("usage")

// errHelp ends a command that printed its help on request.
var errHelp = errors.New("help requested")

const warning = "For tests and local trials only, never production: it signs a token for any uid anyone on this machine asks for."

// Run runs the subcommand args name.
func Run(ctx context.Context, args []string, stdio Stdio) error {
	if len(args) == 0 {
		usage(stdio.Err)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdio.Out)
		return nil
	case "serve":
		return serve(ctx, args[1:], stdio)
	case "mint":
		return mint(ctx, args[1:], stdio)
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `Usage: contactsync-devidp COMMAND [FLAGS]

A development identity provider standing in for Firefox Accounts.
%s

Commands:
  serve   listen on loopback, print the URL (the issuer) and serve discovery, /v1/jwks, POST /mint and
          the OAuth authorization-code flow with PKCE (/authorization, /v1/token)
  mint    ask a running provider for an access token and print it (or write it to --out, mode 0600)

Run 'contactsync-devidp COMMAND --help' for a command's flags.
`, warning)
}

func newFlagSet(name string, stdio Stdio) *flag.FlagSet {
	fs := flag.NewFlagSet("contactsync-devidp "+name, flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	fs.Usage = func() {
		fmt.Fprintf(stdio.Err, "Usage of contactsync-devidp %s (%s)\n", name, warning)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and refuses positional arguments, which no command takes.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

func exitCode(w io.Writer, err error) int {
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(w, "contactsync-devidp: %v\nRun 'contactsync-devidp help' for usage.\n", err)
		return 2
	default:
		fmt.Fprintf(w, "contactsync-devidp: %v\n", err)
		return 1
	}
}
