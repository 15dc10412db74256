package device

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// A NewRemote is what a user gives to add a remote.
type NewRemote struct {
	// Name names the remote on this device.
	Name string
	// Kind is the kind of storage (engine.KindCardDAV).
	Kind string
	// Endpoint is where the user points the device (for CardDAV a server URL, where discovery starts, or an
	// address book's URL).
	Endpoint string
	// Username and Password are the account's; both or neither.
	Username, Password string
	// Collection says which collection to sync, in the kind's terms (for CardDAV an address book's name or
	// URL), "" when the account has only one.
	Collection string
	// Settings are the kind's settings for the remote (CardDAV: SettingCAFile).
	Settings map[string]string
}

// AddedRemote is a remote just added.
type AddedRemote struct {
	engine.RemoteConfig
	// DisplayName is the collection's name as the storage shows it.
	DisplayName string
	// Note says how the address the user gave was read, "" for nothing to say.
	Note string
}

// AddRemote configures a new remote: its kind finds the collection (CardDAV: discovery), the engine records
// it, and its password goes into the credentials file. Its first sync pulls before it pushes, so contacts the
// storage already holds are merged by UID rather than duplicated.
func (d *Device) AddRemote(ctx context.Context, nr NewRemote) (AddedRemote, error) {
	added, err := d.addRemote(ctx, nr)
	if err != nil {
		return AddedRemote{}, fmt.Errorf("device: remote add %s: %w", nr.Name, err)
	}
	return added, nil
}

func (d *Device) addRemote(ctx context.Context, nr NewRemote) (AddedRemote, error) {
	kind, err := d.kind(nr.Kind)
	if err != nil {
		return AddedRemote{}, err
	}
	if (nr.Username == "") != (nr.Password == "") {
		return AddedRemote{}, fmt.Errorf("%w: a user name and a password go together", ErrInvalid)
	}
	rc := engine.RemoteConfig{Name: nr.Name, Kind: nr.Kind, Endpoint: nr.Endpoint, Username: nr.Username, Settings: maps.Clone(nr.Settings)}
	if rc.Settings == nil {
		rc.Settings = map[string]string{}
	}
	if existing, err := d.remote(ctx, nr.Name); err == nil {
		return AddedRemote{}, fmt.Errorf("%w: a remote %s already syncs %s", engine.ErrRemoteExists, existing.Name, existing.Collection)
	}
	res, err := kind.Resolve(ctx, rc, nr.Password, nr.Collection)
	if err != nil {
		return AddedRemote{}, err
	}
	rc = res.Config
	others, err := engine.Remotes(ctx, d.store)
	if err != nil {
		return AddedRemote{}, err
	}
	for _, o := range others {
		if o.Kind == rc.Kind && sameCollection(o.Collection, rc.Collection) {
			return AddedRemote{}, fmt.Errorf("%w: %s is synced as remote %s", ErrDuplicate, rc.Collection, o.Name)
		}
	}
	if err := engine.AddRemote(ctx, d.store, rc); err != nil {
		return AddedRemote{}, err
	}
	if err := d.savePassword(rc.Name, nr.Password); err != nil {
		// Without its password the remote cannot sync; leave nothing half made.
		return AddedRemote{}, errors.Join(err, engine.RemoveRemote(ctx, d.store, rc.Name))
	}
	return AddedRemote{RemoteConfig: rc, DisplayName: res.DisplayName, Note: res.Note}, nil
}

// sameCollection compares two collection names, whatever a trailing slash.
func sameCollection(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// Remotes lists the configured remotes by name. They hold no password.
func (d *Device) Remotes(ctx context.Context) ([]engine.RemoteConfig, error) {
	rs, err := engine.Remotes(ctx, d.store)
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	return rs, nil
}

// SetPassword replaces the password of remote name, and lets a remote stopped by a rejected password sync
// again. It asks the storage first: a password the storage refuses (ErrPasswordRefused) is not saved; one it
// could not ask about is saved, and checked is false. ErrNoUsername for a remote without user name.
func (d *Device) SetPassword(ctx context.Context, name, password string) (checked bool, err error) {
	if checked, err = d.setPassword(ctx, name, password); err != nil {
		return false, fmt.Errorf("device: remote %s: %w", name, err)
	}
	return checked, nil
}

func (d *Device) setPassword(ctx context.Context, name, password string) (bool, error) {
	if password == "" {
		return false, fmt.Errorf("%w: empty password", ErrInvalid)
	}
	rc, err := d.remote(ctx, name)
	if err != nil {
		return false, err
	}
	if rc.Username == "" {
		return false, ErrNoUsername
	}
	kind, err := d.kind(rc.Kind)
	if err != nil {
		return false, err
	}
	err = kind.Check(ctx, rc, password)
	if err != nil && !errors.Is(err, ErrNotChecked) {
		return false, err
	}
	if err := d.savePassword(name, password); err != nil {
		return false, err
	}
	return err == nil, engine.ResetCredentials(ctx, d.store, name)
}

// RemoveRemote forgets remote name and its password. The contacts stay, on the device and in the storage.
func (d *Device) RemoveRemote(ctx context.Context, name string) error {
	if err := engine.RemoveRemote(ctx, d.store, name); err != nil {
		return fmt.Errorf("device: remote rm %s: %w", name, err)
	}
	if err := d.savePassword(name, ""); err != nil {
		return fmt.Errorf("device: remote rm %s: %w", name, err)
	}
	return nil
}

// Syncers builds a Syncer for each remote named (every remote when names is empty), each with its own
// connection and Meter, in the order of Remotes. opts go to every Syncer. ErrNoRemotes when none is
// configured, ErrUnknownRemote for a name that is not.
func (d *Device) Syncers(ctx context.Context, names []string, opts ...engine.Option) ([]*engine.Syncer, error) {
	remotes, err := d.Remotes(ctx)
	if err != nil {
		return nil, err
	}
	if len(remotes) == 0 {
		return nil, fmt.Errorf("device: %w", ErrNoRemotes)
	}
	for _, n := range names {
		if !slices.ContainsFunc(remotes, func(rc engine.RemoteConfig) bool { return rc.Name == n }) {
			return nil, fmt.Errorf("device: remote %s: %w", n, ErrUnknownRemote)
		}
	}
	creds, err := d.loadCredentials()
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	var out []*engine.Syncer
	for _, rc := range remotes {
		if len(names) > 0 && !slices.Contains(names, rc.Name) {
			continue
		}
		kind, err := d.kind(rc.Kind)
		if err != nil {
			return nil, fmt.Errorf("device: remote %s: %w", rc.Name, err)
		}
		s, err := newSyncer(ctx, d.store, kind, rc, creds.Passwords[rc.Name], opts)
		if err != nil {
			return nil, fmt.Errorf("device: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// NewSyncer builds the Syncer of remote rc on store, opening it by its built-in kind exactly as a Device's
// Syncers does: for a caller that keeps its own store and password (the test bed).
func NewSyncer(ctx context.Context, store *changelog.Store, rc engine.RemoteConfig, password string, opts ...engine.Option) (*engine.Syncer, error) {
	kind, ok := builtinKinds[rc.Kind]
	if !ok {
		return nil, fmt.Errorf("device: remote %s: %w %q", rc.Name, ErrUnknownKind, rc.Kind)
	}
	s, err := newSyncer(ctx, store, kind, rc, password, opts)
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	return s, nil
}

func newSyncer(ctx context.Context, store *changelog.Store, kind Kind, rc engine.RemoteConfig, password string, opts []engine.Option) (*engine.Syncer, error) {
	remote, meter, err := kind.Open(rc, password)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", rc.Name, err)
	}
	if meter != nil {
		opts = append([]engine.Option{engine.WithMeter(meter)}, opts...)
	}
	return engine.NewSyncer(ctx, store, rc.Name, remote, opts...)
}

// Status reports every remote's sync state, by name. It holds no secret.
func (d *Device) Status(ctx context.Context) ([]engine.RemoteStatus, error) {
	st, err := engine.Status(ctx, d.store)
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	return st, nil
}

// remote returns the config of remote name; ErrUnknownRemote if there is none.
func (d *Device) remote(ctx context.Context, name string) (engine.RemoteConfig, error) {
	remotes, err := engine.Remotes(ctx, d.store)
	if err != nil {
		return engine.RemoteConfig{}, err
	}
	i := slices.IndexFunc(remotes, func(r engine.RemoteConfig) bool { return r.Name == name })
	if i < 0 {
		return engine.RemoteConfig{}, ErrUnknownRemote
	}
	return remotes[i], nil
}

func (d *Device) kind(name string) (Kind, error) {
	k, ok := d.kinds[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKind, name)
	}
	return k, nil
}
