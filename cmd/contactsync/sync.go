package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/device"
)

// syncCmd pushes and pulls once with each remote (or the named ones) until nothing is left, then prints a
// summary per remote.
type syncCmd struct {
	allowMassDelete bool
}

func (c *syncCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("sync", g.stdio.Err)
	fs.BoolVar(&c.allowMassDelete, "allow-mass-delete", false, "apply a pull that deletes most of the synced contacts (refused by default)")
	g.networkFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(g.stdio.Err, "Usage: contactsync sync [--allow-mass-delete] [NAME...]")
		fs.PrintDefaults()
	}
	d, names, err := g.open(fs, args, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	bars := &progressBars{g: g}
	defer bars.finish()
	syncers, err := d.Syncers(ctx, names, engine.AllowMassDeletion(c.allowMassDelete), engine.WithProgress(bars.update))
	if err != nil {
		return noRemotes(err)
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
			if errors.Is(err, engine.ErrCredentialsRejected) {
				err = fmt.Errorf("%w (give the right password with `contactsync remote passwd %s --password-file F`)", err, s.Name())
			}
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// noRemotes says how to add the remote a sync needs.
func noRemotes(err error) error {
	if errors.Is(err, device.ErrNoRemotes) {
		return fmt.Errorf("no remote configured: add one with `contactsync remote add`")
	}
	return err
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
