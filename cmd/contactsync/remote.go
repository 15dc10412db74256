package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/device"
)

// remoteCmd manages the CardDAV address books this device syncs with.
type remoteCmd struct{}

var (
	remoteHelp = help{
		usage: slices.Concat(remoteAddHelp.usage, remoteListHelp.usage, remotePasswdHelp.usage, remoteRmHelp.usage),
		about: "Adds, lists and removes the CardDAV address books this device syncs with, and replaces their passwords.",
		notes: "Run 'contactsync remote SUBCOMMAND --help' for the flags of each.",
	}
	remoteAddHelp = help{
		usage: []string{"remote add [--username NAME --password-file FILE] [--addressbook NAME-OR-URL] [--ca-file FILE] --url URL NAME"},
		about: "Finds the address book at URL (by RFC 6764 discovery from a server, domain or email address, or at its own URL) and keeps it as remote NAME.",
	}
	remoteListHelp = help{
		usage: []string{"remote list"},
		about: "Lists the remotes, one line each with its name, user and address book, and no secret.",
	}
	remotePasswdHelp = help{
		usage: []string{"remote passwd NAME --password-file FILE"},
		about: "Replaces the password of remote NAME, once the server accepts it, and lets a remote stopped by a rejected password sync again.",
	}
	remoteRmHelp = help{
		usage: []string{"remote rm NAME"},
		about: "Forgets remote NAME, its sync state and its password, leaving the contacts on the device and on the server.",
	}
)

func (c *remoteCmd) Run(ctx context.Context, g *globals, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: remote needs a subcommand: add, list, passwd or rm", errUsage)
	}
	switch args[0] {
	case "add":
		return (&remoteAddCmd{}).Run(ctx, g, args[1:])
	case "list":
		return (&remoteListCmd{}).Run(ctx, g, args[1:])
	case "passwd":
		return (&remotePasswdCmd{}).Run(ctx, g, args[1:])
	case "rm":
		return (&remoteRmCmd{}).Run(ctx, g, args[1:])
	case "-h", "-help", "--help", "help":
		remoteHelp.write(g.stdio.Out, nil)
		return errHelp
	}
	return fmt.Errorf("%w: unknown remote subcommand %q (add, list, passwd, rm)", errUsage, args[0])
}

type remoteAddCmd struct {
	url, username, passwordFile, addressBook, caFile string
}

func (c *remoteAddCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("remote add", remoteAddHelp)
	fs.StringVar(&c.url, "url", "", "the server's `URL`, domain or email address (discovery starts there), or the address book's own URL; without a scheme, https:// is meant")
	fs.StringVar(&c.username, "username", "", "user `NAME` on the server")
	fs.StringVar(&c.passwordFile, "password-file", "", "`FILE` whose first line is the password (mode 0600; - reads stdin); never pass a password on the command line")
	fs.StringVar(&c.addressBook, "addressbook", "", "which address book, by `NAME-OR-URL`, when the account has several")
	fs.StringVar(&c.caFile, "ca-file", "", "PEM `FILE` of the certificate authority of a self-hosted server, trusted besides the system's (kept for every later sync)")
	g.networkFlags(fs)
	var password string
	d, pos, err := g.open(fs, args, func(pos []string) error {
		switch {
		case len(pos) != 1:
			return fmt.Errorf("%w: remote add needs exactly one NAME", errUsage)
		case c.url == "":
			return fmt.Errorf("%w: remote add needs --url", errUsage)
		case (c.username == "") != (c.passwordFile == ""):
			return fmt.Errorf("%w: --username and --password-file go together", errUsage)
		case c.passwordFile != "":
			var err error
			password, err = readSecretFile(c.passwordFile, g.stdio.In)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer d.Close()
	var settings map[string]string
	if c.caFile != "" {
		settings = map[string]string{device.SettingCAFile: c.caFile}
	}
	added, err := d.AddRemote(ctx, device.NewRemote{Name: pos[0], Kind: engine.KindCardDAV, Endpoint: c.url,
		Username: c.username, Password: password, Collection: c.addressBook, Settings: settings})
	switch {
	case errors.Is(err, device.ErrChooseCollection):
		return fmt.Errorf("%w; pick one with --addressbook NAME", err)
	case errors.Is(err, device.ErrUntrustedCertificate) && c.caFile == "":
		return fmt.Errorf("%w (if the server has its own certificate authority, give it with --ca-file)", err)
	case err != nil:
		return err
	}
	if added.Note != "" {
		fmt.Fprintf(g.stdio.Err, "%s\n", added.Note)
	}
	fmt.Fprintf(g.stdio.Out, "added remote %s: address book %q at %s\n", added.Name, added.DisplayName, added.Collection)
	return nil
}

type remoteListCmd struct{}

func (c *remoteListCmd) Run(ctx context.Context, g *globals, args []string) error {
	d, _, err := g.open(newFlagSet("remote list", remoteListHelp), args, noArgs("remote list takes no arguments"))
	if err != nil {
		return err
	}
	defer d.Close()
	remotes, err := d.Remotes(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(g.stdio.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tUSER\tADDRESS BOOK")
	for _, r := range remotes {
		user := r.Username
		if user == "" {
			user = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.Name, user, r.Collection)
	}
	return w.Flush()
}

// remotePasswdCmd replaces a remote's password, and lets a remote stopped by a 401 sync again.
type remotePasswdCmd struct{ passwordFile string }

func (c *remotePasswdCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("remote passwd", remotePasswdHelp)
	fs.StringVar(&c.passwordFile, "password-file", "", "`FILE` whose first line is the new password (mode 0600; - reads stdin)")
	g.networkFlags(fs)
	var password string
	d, pos, err := g.open(fs, args, func(pos []string) error {
		if len(pos) != 1 || c.passwordFile == "" {
			return fmt.Errorf("%w: remote passwd needs exactly one NAME and --password-file", errUsage)
		}
		var err error
		password, err = readSecretFile(c.passwordFile, g.stdio.In)
		return err
	})
	if err != nil {
		return err
	}
	defer d.Close()
	name := pos[0]
	checked, err := d.SetPassword(ctx, name, password)
	switch {
	case errors.Is(err, device.ErrUnknownRemote):
		return remotesError(ctx, d, []string{name}, err)
	case errors.Is(err, device.ErrNoUsername):
		return fmt.Errorf("%w: remote %s has no user name, so no password", errUsage, name)
	case errors.Is(err, device.ErrPasswordRefused):
		return fmt.Errorf("the server refused the new password of remote %s; it was not saved", name)
	case err != nil:
		return err
	case checked:
		fmt.Fprintf(g.stdio.Out, "replaced the password of remote %s (the server accepts it)\n", name)
	default:
		fmt.Fprintf(g.stdio.Out, "replaced the password of remote %s; the server did not answer, so it is not checked yet\n", name)
	}
	return nil
}

type remoteRmCmd struct{}

func (c *remoteRmCmd) Run(ctx context.Context, g *globals, args []string) error {
	d, pos, err := g.open(newFlagSet("remote rm", remoteRmHelp), args, func(pos []string) error {
		if len(pos) != 1 {
			return fmt.Errorf("%w: remote rm needs exactly one NAME", errUsage)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.RemoveRemote(ctx, pos[0]); err != nil {
		return remotesError(ctx, d, pos, err)
	}
	fmt.Fprintf(g.stdio.Out, "removed remote %s (its contacts stay on the device and on the server)\n", pos[0])
	return nil
}
