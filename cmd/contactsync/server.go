package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/contactsync/contactsync/adapters/carddavserver"
)

// defaultServerListen is the address `contactsync server` listens on: loopback, one port above Radicale's
// 5232 so both can run on one machine.
const defaultServerListen = "127.0.0.1:5233"

// serverCmd runs the embedded CardDAV server, or manages its users (`server user ...`).
type serverCmd struct{}

var (
	serverHelp = help{
		usage: []string{
			"server [--listen ADDR] [--data DIR] [--tls-cert FILE --tls-key FILE] [--insecure-plain-http] [LIMITS]",
			"server user add|passwd|rm|list ...",
		},
		about: "Runs the embedded CardDAV server until SIGTERM or SIGINT, serving each user's address books at /addressbooks/USER/.",
		first: []string{"listen", "data", "tls-cert", "tls-key", "insecure-plain-http", "max-conns-per-client", "max-conns",
			"read-header-timeout", "body-idle-timeout", "write-idle-timeout", "idle-timeout", "max-header-bytes"},
		notes: "Run 'contactsync server user --help' for managing users.",
	}
	serverUserHelp = help{
		usage: slices.Concat(serverUserHelps["add"].usage, serverUserHelps["passwd"].usage, serverUserHelps["rm"].usage,
			serverUserHelps["list"].usage),
		about: "Adds, lists and removes the embedded server's users, and changes their passwords.",
	}
	serverUserHelps = map[string]help{
		"add": {
			usage: []string{"server user add [--data DIR] --password-file FILE NAME"},
			about: "Adds user NAME to the embedded server, with an address book called " + carddavserver.DefaultBook + ".",
		},
		"passwd": {
			usage: []string{"server user passwd [--data DIR] --password-file FILE NAME"},
			about: "Changes the password of user NAME of the embedded server.",
		},
		"rm": {
			usage: []string{"server user rm [--data DIR] NAME"},
			about: "Removes user NAME of the embedded server, with their address books.",
			hide:  []string{"password-file"},
		},
		"list": {
			usage: []string{"server user list [--data DIR]"},
			about: "Lists the users of the embedded server, one name a line.",
			hide:  []string{"password-file"},
		},
	}
)

// serverLimits are the flags of the server's limits against slow and hostile clients.
type serverLimits struct {
	maxConnsPerClient, maxConns, maxHeaderBytes      int
	maxProperties, maxMultigetHrefs, maxQueryFilters int
	readHeader, bodyIdle, writeIdle, idle            time.Duration
}

func (l *serverLimits) register(fs *flag.FlagSet) {
	fs.IntVar(&l.maxConnsPerClient, "max-conns-per-client", carddavserver.DefaultMaxConnsPerClient,
		"connections one client (an IPv4 address or an IPv6 /64) may hold open; 0 for no limit, as behind a reverse proxy, where every connection comes from the proxy")
	fs.IntVar(&l.maxConns, "max-conns", carddavserver.DefaultMaxConns, "connections the server holds open at once; 0 for no limit")
	fs.IntVar(&l.maxHeaderBytes, "max-header-bytes", carddavserver.DefaultMaxHeaderBytes, "bytes of a request's line and headers")
	fs.IntVar(&l.maxProperties, "max-properties", carddavserver.DefaultMaxProperties, "distinct properties one PROPFIND or REPORT may ask for")
	fs.IntVar(&l.maxMultigetHrefs, "max-multiget-hrefs", carddavserver.DefaultMaxMultigetHrefs, "hrefs one addressbook-multiget may name")
	fs.IntVar(&l.maxQueryFilters, "max-query-filters", carddavserver.DefaultMaxQueryFilters, "filters and text matches one addressbook-query may hold")
	fs.DurationVar(&l.readHeader, "read-header-timeout", carddavserver.DefaultReadHeaderTimeout, "how long a client may take over a request's headers, TLS handshake included")
	fs.DurationVar(&l.bodyIdle, "body-idle-timeout", carddavserver.DefaultBodyIdleTimeout, "how long a request body may send nothing at all (one that keeps flowing takes as long as it needs)")
	fs.DurationVar(&l.writeIdle, "write-idle-timeout", carddavserver.DefaultWriteIdleTimeout, "how long a response may stall because the client reads nothing")
	fs.DurationVar(&l.idle, "idle-timeout", carddavserver.DefaultIdleTimeout, "how long a kept-alive connection may wait for its next request")
}

// options are the server options of the limits; the server checks their values.
func (l *serverLimits) options() []carddavserver.Option {
	return []carddavserver.Option{
		carddavserver.WithMaxConnsPerClient(l.maxConnsPerClient),
		carddavserver.WithMaxConns(l.maxConns),
		carddavserver.WithMaxHeaderBytes(l.maxHeaderBytes),
		carddavserver.WithMaxProperties(l.maxProperties),
		carddavserver.WithMaxMultigetHrefs(l.maxMultigetHrefs),
		carddavserver.WithMaxQueryFilters(l.maxQueryFilters),
		carddavserver.WithReadHeaderTimeout(l.readHeader),
		carddavserver.WithBodyIdleTimeout(l.bodyIdle),
		carddavserver.WithWriteIdleTimeout(l.writeIdle),
		carddavserver.WithIdleTimeout(l.idle),
	}
}

func (c *serverCmd) Run(ctx context.Context, g *globals, args []string) error {
	if len(args) > 0 && args[0] == "user" {
		return c.user(ctx, g, args[1:])
	}
	fs := newFlagSet("server", serverHelp)
	listen := fs.String("listen", defaultServerListen, "`ADDR` to listen on, host:port (port 0 picks a free one)")
	data := serverDataFlag(fs)
	certFile := fs.String("tls-cert", "", "serve HTTPS with the PEM certificate (chain) in `FILE`")
	keyFile := fs.String("tls-key", "", "the PEM private key of --tls-cert, in `FILE`")
	plain := fs.Bool("insecure-plain-http", false, "allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy; give --max-conns-per-client 0 there too)")
	verbose := fs.Bool("verbose", false, "log every request (never passwords)")
	var limits serverLimits
	limits.register(fs)
	rest, err := g.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: server takes no arguments (did you mean 'server user'?)", errUsage)
	}
	if (*certFile == "") != (*keyFile == "") {
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("%w: --listen %q: %v", errUsage, *listen, err)
	}
	if *certFile == "" && !*plain && !isLoopback(host) {
		return fmt.Errorf("%w: refusing to take passwords over plain HTTP on %s: give --tls-cert and --tls-key, "+
			"or --insecure-plain-http behind a TLS-terminating proxy", errUsage, *listen)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(g.stdio.Err, &slog.HandlerOptions{Level: level}))
	srv, err := carddavserver.Open(*data, append(limits.options(), carddavserver.WithLogger(logger))...)
	if err != nil {
		return err
	}
	defer srv.Close()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	scheme := "http"
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			l.Close()
			return fmt.Errorf("server: TLS certificate: %w", err)
		}
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	if users, err := srv.Users(ctx); err == nil && len(users) == 0 {
		fmt.Fprintf(g.stdio.Err, "contactsync server: no users yet; add one with 'contactsync server user add NAME --password-file F --data %s'\n", *data)
	}
	fmt.Fprintf(g.stdio.Err, "contactsync server: serving %s://%s/ (data in %s)\n", scheme, l.Addr(), *data)
	if err := srv.ServeListener(ctx, l); err != nil {
		return err
	}
	fmt.Fprintln(g.stdio.Err, "contactsync server: stopped")
	return nil
}

func serverDataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", filepath.Join(userDataDir(), "contactsync", "server"), "`DIR` of the server's data")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// user runs `server user add|passwd|rm|list`.
func (c *serverCmd) user(ctx context.Context, g *globals, args []string) error {
	h := serverUserHelp
	if len(args) > 0 {
		if vh, ok := serverUserHelps[args[0]]; ok {
			h = vh
		}
	}
	fs := newFlagSet("server user", h)
	data := serverDataFlag(fs)
	passwordFile := fs.String("password-file", "", "`FILE` whose first line is the password (mode 0600; - reads stdin)")
	rest, err := g.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: server user needs add, passwd, rm or list", errUsage)
	}
	verb, rest := rest[0], rest[1:]
	wantArgs := 1
	if verb == "list" {
		wantArgs = 0
	}
	switch {
	case verb != "add" && verb != "passwd" && verb != "rm" && verb != "list":
		return fmt.Errorf("%w: unknown 'server user' command %q (add, passwd, rm, list)", errUsage, verb)
	case len(rest) != wantArgs:
		return fmt.Errorf("%w: server user %s takes %d user name(s)", errUsage, verb, wantArgs)
	case (verb == "add" || verb == "passwd") && *passwordFile == "":
		return fmt.Errorf("%w: server user %s needs --password-file (a password on the command line would show in ps)", errUsage, verb)
	}
	var password string
	if *passwordFile != "" {
		if password, err = readSecretFile(*passwordFile, g.stdio.In); err != nil {
			return err
		}
	}
	srv, err := carddavserver.Open(*data, carddavserver.WithTrimInterval(0))
	if err != nil {
		return err
	}
	defer srv.Close()
	switch verb {
	case "add":
		if err := srv.AddUser(ctx, rest[0], password); err != nil {
			return err
		}
		fmt.Fprintf(g.stdio.Err, "added user %s with address book /addressbooks/%s/%s/\n", rest[0], rest[0], carddavserver.DefaultBook)
	case "passwd":
		if err := srv.SetPassword(ctx, rest[0], password); err != nil {
			return err
		}
		fmt.Fprintf(g.stdio.Err, "changed the password of %s\n", rest[0])
	case "rm":
		if err := srv.RemoveUser(ctx, rest[0]); err != nil {
			return err
		}
		fmt.Fprintf(g.stdio.Err, "removed user %s and their address books\n", rest[0])
	case "list":
		users, err := srv.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintln(g.stdio.Out, u)
		}
	}
	return nil
}

// errLoosePermissions refuses a secret file that other users can read.
var errLoosePermissions = errors.New("readable by other users")

// readSecretFile returns the first line of path ("-" reads stdin). A file that its group or others may read
// is refused: the secret would already be out.
func readSecretFile(path string, stdin io.Reader) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, 64<<10))
	} else {
		var info os.FileInfo
		if info, err = os.Stat(path); err == nil && info.Mode().Perm()&0o044 != 0 {
			return "", fmt.Errorf("password file %s is %w (mode %04o): chmod 600 it", path, errLoosePermissions, info.Mode().Perm())
		}
		if err == nil {
			data, err = os.ReadFile(path)
		}
	}
	if err != nil {
		return "", fmt.Errorf("read password file: %w", err)
	}
	pw, _, _ := strings.Cut(string(data), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("password file %s: first line is empty", path)
	}
	return pw, nil
}
