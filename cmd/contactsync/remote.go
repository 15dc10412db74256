package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// remoteCmd manages the CardDAV address books this device syncs with.
type remoteCmd struct{}

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
	case "-h", "--help", "help":
		fmt.Fprintln(g.stdio.Out, "Usage: contactsync remote add NAME --url URL [--username U --password-file F] [--addressbook NAME-OR-URL]\n"+
			"       contactsync remote list\n       contactsync remote passwd NAME --password-file F\n       contactsync remote rm NAME")
		return nil
	}
	return fmt.Errorf("%w: unknown remote subcommand %q (add, list, passwd, rm)", errUsage, args[0])
}

type remoteAddCmd struct {
	url, username, passwordFile, addressBook string
}

func (c *remoteAddCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("remote add", g.stdio.Err)
	fs.StringVar(&c.url, "url", "", "server URL (discovery starts there) or the address book's URL")
	fs.StringVar(&c.username, "username", "", "user name for HTTP basic auth")
	fs.StringVar(&c.passwordFile, "password-file", "", "file holding the password (its first line; mode 0600; - reads stdin); never pass a password on the command line")
	fs.StringVar(&c.addressBook, "addressbook", "", "which address book, by name or URL, when the account has several")
	pos, err := g.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: remote add needs exactly one NAME", errUsage)
	}
	if c.url == "" {
		return fmt.Errorf("%w: remote add needs --url", errUsage)
	}
	if (c.username == "") != (c.passwordFile == "") {
		return fmt.Errorf("%w: --username and --password-file go together", errUsage)
	}
	name := pos[0]
	var password string
	if c.passwordFile != "" {
		if password, err = readSecretFile(c.passwordFile, g.stdio.In); err != nil {
			return err
		}
	}
	rc := engine.RemoteConfig{Name: name, Kind: engine.KindCardDAV, Endpoint: c.url, Username: c.username}
	client, err := newCardDAVClient(rc, password, nil)
	if err != nil {
		return err
	}
	disc, err := client.Discover(ctx)
	if err != nil {
		return fmt.Errorf("remote add %s: discovery at %s: %w", name, c.url, err)
	}
	ab, err := disc.Choose(c.addressBook)
	if err != nil {
		return fmt.Errorf("remote add %s: %w", name, err)
	}
	rc.Collection = ab.URL
	store, err := g.openStore(engine.Migrations())
	if err != nil {
		return err
	}
	defer store.Close()
	if err := engine.AddRemote(ctx, store, rc); err != nil {
		return err
	}
	if err := saveCredential(g.db, name, password); err != nil {
		// Without its password the remote cannot sync; leave nothing half made.
		_ = engine.RemoveRemote(ctx, store, name)
		return err
	}
	fmt.Fprintf(g.stdio.Out, "added remote %s: address book %q at %s\n", name, ab.DisplayName, ab.URL)
	return nil
}

type remoteListCmd struct{}

func (c *remoteListCmd) Run(ctx context.Context, g *globals, args []string) error {
	pos, err := g.parseFlags(newFlagSet("remote list", g.stdio.Err), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: remote list takes no arguments", errUsage)
	}
	store, err := g.openStore(engine.Migrations())
	if err != nil {
		return err
	}
	defer store.Close()
	remotes, err := engine.Remotes(ctx, store)
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
	fs := newFlagSet("remote passwd", g.stdio.Err)
	fs.StringVar(&c.passwordFile, "password-file", "", "file holding the new password (its first line; mode 0600; - reads stdin)")
	pos, err := g.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || c.passwordFile == "" {
		return fmt.Errorf("%w: remote passwd needs exactly one NAME and --password-file", errUsage)
	}
	name := pos[0]
	password, err := readSecretFile(c.passwordFile, g.stdio.In)
	if err != nil {
		return err
	}
	store, err := g.openStore(engine.Migrations())
	if err != nil {
		return err
	}
	defer store.Close()
	remotes, err := engine.Remotes(ctx, store)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(remotes, func(r engine.RemoteConfig) bool { return r.Name == name })
	switch {
	case i < 0:
		return fmt.Errorf("remote %s: %w", name, engine.ErrUnknownRemote)
	case remotes[i].Username == "":
		return fmt.Errorf("%w: remote %s has no user name, so no password", errUsage, name)
	}
	if err := saveCredential(g.db, name, password); err != nil {
		return err
	}
	if err := engine.ResetCredentials(ctx, store, name); err != nil {
		return err
	}
	fmt.Fprintf(g.stdio.Out, "replaced the password of remote %s\n", name)
	return nil
}

type remoteRmCmd struct{}

func (c *remoteRmCmd) Run(ctx context.Context, g *globals, args []string) error {
	pos, err := g.parseFlags(newFlagSet("remote rm", g.stdio.Err), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: remote rm needs exactly one NAME", errUsage)
	}
	store, err := g.openStore(engine.Migrations())
	if err != nil {
		return err
	}
	defer store.Close()
	if err := engine.RemoveRemote(ctx, store, pos[0]); err != nil {
		return err
	}
	if err := saveCredential(g.db, pos[0], ""); err != nil {
		return err
	}
	fmt.Fprintf(g.stdio.Out, "removed remote %s (its contacts stay on the device and on the server)\n", pos[0])
	return nil
}

// newCardDAVClient builds the client for a remote. doer, when set, sends the requests (a Meter); the client
// refuses a password over plain http to anything but this machine.
func newCardDAVClient(rc engine.RemoteConfig, password string, doer carddav.HTTPDoer) (*carddav.Client, error) {
	opts := []carddav.Option{carddav.WithUserAgent("contactsync")}
	if rc.Username != "" {
		opts = append(opts, carddav.WithBasicAuth(rc.Username, password))
	}
	if doer != nil {
		opts = append(opts, carddav.WithHTTPClient(doer))
	}
	c, err := carddav.New(rc.Endpoint, opts...)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", rc.Name, err)
	}
	return c, nil
}

// noRedirects is the HTTP client the engine's requests go through: discovery follows redirects itself.
func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Credentials live beside the store in a file only the user can read (0600), never in the database, logs or
// output, so `status`, `remote list` and a copy of the database reveal none.
func credentialsPath(db string) string { return db + ".credentials" }

type credentials struct {
	Passwords map[string]string `json:"passwords"`
}

func loadCredentials(db string) (credentials, error) {
	creds := credentials{Passwords: map[string]string{}}
	data, err := os.ReadFile(credentialsPath(db))
	if errors.Is(err, os.ErrNotExist) {
		return creds, nil
	}
	if err != nil {
		return creds, fmt.Errorf("read credentials: %w", err)
	}
	if err := json.Unmarshal(data, &creds); err != nil {
		return creds, fmt.Errorf("credentials file %s is damaged: %w", credentialsPath(db), err)
	}
	if creds.Passwords == nil {
		creds.Passwords = map[string]string{}
	}
	return creds, nil
}

// saveCredential sets (or with an empty password, forgets) a remote's password, replacing the file atomically.
func saveCredential(db, name, password string) error {
	creds, err := loadCredentials(db)
	if err != nil {
		return err
	}
	if password == "" {
		if _, ok := creds.Passwords[name]; !ok {
			return nil
		}
		delete(creds.Passwords, name)
	} else {
		creds.Passwords[name] = password
	}
	data, err := json.Marshal(creds)
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	path := credentialsPath(db)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save credentials: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save credentials: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	return nil
}

// openSyncers builds a Syncer for each named remote (every remote when names is empty), each with its own
// client and Meter.
func openSyncers(ctx context.Context, g *globals, store *changelog.Store, names []string, opts ...engine.Option) ([]*engine.Syncer, error) {
	remotes, err := engine.Remotes(ctx, store)
	if err != nil {
		return nil, err
	}
	if len(remotes) == 0 {
		return nil, fmt.Errorf("no remote configured: add one with `contactsync remote add`")
	}
	creds, err := loadCredentials(g.db)
	if err != nil {
		return nil, err
	}
	var out []*engine.Syncer
	for _, rc := range remotes {
		if len(names) > 0 && !slices.Contains(names, rc.Name) {
			continue
		}
		// The client's endpoint is the address book itself: discovery may have led to another host than the
		// one the user typed, and credentials go only to the endpoint's origin.
		meter := carddav.NewMeter(noRedirects())
		abConfig := rc
		abConfig.Endpoint = rc.Collection
		client, err := newCardDAVClient(abConfig, creds.Passwords[rc.Name], meter)
		if err != nil {
			return nil, err
		}
		s, err := engine.NewSyncer(ctx, store, rc.Name, client.Collection(rc.Collection), append([]engine.Option{engine.WithMeter(meter)}, opts...)...)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(s *engine.Syncer) bool { return s.Name() == n }) {
			return nil, fmt.Errorf("remote %s: %w", n, engine.ErrUnknownRemote)
		}
	}
	return out, nil
}
