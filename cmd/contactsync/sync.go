package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/device"
)

// syncCmd pushes and pulls once with each remote (or the named ones) until nothing is left, then prints a
// summary per remote.
type syncCmd struct {
	allowMassDelete bool
}

var syncHelp = help{
	usage: []string{"sync [--allow-mass-delete] [NAME...]"},
	about: "Pushes the device's changes to every remote, or the named ones, and pulls theirs, until nothing is left to send.",
}

func (c *syncCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("sync", syncHelp)
	fs.BoolVar(&c.allowMassDelete, "allow-mass-delete", false, "apply a pull that deletes most of the synced contacts (refused by default)")
	g.networkFlags(fs)
	d, names, err := g.open(fs, args, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	bars := &progressBars{g: g}
	defer bars.finish()
	syncers, err := d.Syncers(ctx, names, engine.AllowMassDeletion(c.allowMassDelete), engine.WithProgress(bars.update))
	if err != nil {
		return remotesError(ctx, d, names, err)
	}
	var errs []error
	for _, s := range syncers {
		st, err := s.Sync(ctx)
		bars.finish()
		fmt.Fprintf(g.stdio.Out, "%s: %s\n", s.Name(), st)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			// The engine's error names the remote already.
			errs = append(errs, credentialsHint(err, s.Name()))
		}
	}
	return errors.Join(errs...)
}

// credentialsHint says, after an error that the server rejected remote name's credentials, how to replace them.
func credentialsHint(err error, name string) error {
	if errors.Is(err, engine.ErrCredentialsRejected) {
		return fmt.Errorf("%w; give the right password with 'contactsync remote passwd %s --password-file FILE'", err, name)
	}
	return err
}

// remotesError says, when the remotes a command works on are not there, which names are unknown and what the
// user can do; other errors pass through.
func remotesError(ctx context.Context, d *device.Device, names []string, err error) error {
	switch {
	case errors.Is(err, device.ErrNoRemotes):
		return fmt.Errorf("no remote configured: add one with 'contactsync remote add'")
	case !errors.Is(err, device.ErrUnknownRemote):
		return err
	}
	remotes, lerr := d.Remotes(ctx)
	if lerr != nil {
		return err
	}
	var known, unknown []string
	for _, rc := range remotes {
		known = append(known, rc.Name)
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) == 0 { // the name was removed meanwhile
		return err
	}
	if len(known) == 0 {
		return fmt.Errorf("%w: %s (none is configured: add one with 'contactsync remote add')", device.ErrUnknownRemote, strings.Join(unknown, ", "))
	}
	return fmt.Errorf("%w: %s (the remotes are %s)", device.ErrUnknownRemote, strings.Join(unknown, ", "), strings.Join(known, ", "))
}

// progressBars shows one bar per phase of the sync in progress (on a terminal only).
type progressBars struct {
	g     *globals
	bar   *progress
	key   string
	shown int
}

func (p *progressBars) update(pr engine.Progress) {
	key := pr.Remote + " " + pr.Phase
	if p.bar == nil || p.key != key {
		p.finish()
		p.bar, p.key, p.shown = newProgress(p.g.stdio.Err, key, int64(pr.Total)), key, 0
	}
	p.bar.Add(int64(pr.Done - p.shown))
	p.shown = pr.Done
}

func (p *progressBars) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
