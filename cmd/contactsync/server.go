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
	"strings"

	"github.com/contactsync/contactsync/adapters/carddavserver"
)

// defaultServerListen is the address `contactsync server` listens on: loopback, one port above Radicale's
// 5232 so both can run on one machine.
const defaultServerListen = "127.0.0.1:5233"

// serverCmd runs the embedded CardDAV server, or manages its users (`server user ...`).
type serverCmd struct{}

func (c *serverCmd) Run(ctx context.Context, g *globals, args []string) error {
	if len(args) > 0 && args[0] == "user" {
		return c.user(ctx, g, args[1:])
	}
	fs := newFlagSet("server", g.stdio.Err)
	listen := fs.String("listen", defaultServerListen, "address to listen on (host:port; port 0 picks a free one)")
	data := serverDataFlag(fs)
	certFile := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain)")
	keyFile := fs.String("tls-key", "", "the PEM private key of --tls-cert")
	plain := fs.Bool("insecure-plain-http", false, "allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy)")
	verbose := fs.Bool("verbose", false, "log every request (never passwords)")
	fs.Usage = func() {
		fmt.Fprintf(g.stdio.Err, "Usage: contactsync server [--listen ADDR] [--data DIR] [--tls-cert F --tls-key F]\n"+
			"       contactsync server user add|passwd NAME --password-file F\n"+
			"       contactsync server user rm NAME\n"+
			"       contactsync server user list\n\n")
		fs.PrintDefaults()
	}
	rest, err := g.parseFlags(fs, args)
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
	srv, err := carddavserver.Open(*data, carddavserver.WithLogger(logger))
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
	return fs.String("data", filepath.Join(userDataDir(), "contactsync", "server"), "the server's data directory")
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
	fs := newFlagSet("server user", g.stdio.Err)
	data := serverDataFlag(fs)
	passwordFile := fs.String("password-file", "", "file whose first line is the password ('-' reads stdin)")
	rest, err := g.parseFlags(fs, args)
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
