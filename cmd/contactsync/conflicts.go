package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/contactsync/contactsync/conflict"
	"github.com/contactsync/contactsync/engine/device"
)

// conflictsCmd lists the decisions merges took between concurrent edits, and lets a user take the other value:
//
//	contactsync conflicts [--all] [--json]
//	contactsync conflicts resolve ID [--keep]
type conflictsCmd struct {
	all, json, keep bool
}

var (
	conflictsHelp = help{
		usage: append([]string{"conflicts [--all] [--json]"}, conflictsResolveHelp.usage...),
		about: "Lists the open conflicts, the choices merges made between concurrent edits, with the value each kept and the other one.",
		hide:  []string{"keep"},
	}
	conflictsResolveHelp = help{
		usage: []string{"conflicts resolve [--keep] ID"},
		about: "Takes the other value of conflict ID (a local edit, synced like any other), or with --keep closes it leaving the contact as it is.",
		hide:  []string{"all", "json"},
	}
)

// conflictJSON is one conflict as `conflicts --json` prints it.
type conflictJSON struct {
	ID          string    `json:"id"`
	Contact     string    `json:"contact"`
	Property    string    `json:"property"`
	Group       string    `json:"group,omitempty"`
	Kind        string    `json:"kind"`
	Kept        string    `json:"kept"`
	Other       string    `json:"other"`
	LosingSide  string    `json:"losingSide"`
	Remote      string    `json:"remote,omitempty"`
	At          time.Time `json:"at,omitzero"`
	Recorded    time.Time `json:"recorded"`
	ResolvedRev uint64    `json:"resolvedRev,omitempty"`
	Resolution  string    `json:"resolution,omitempty"`
}

func (c *conflictsCmd) Run(ctx context.Context, g *globals, args []string) error {
	h := conflictsHelp
	if len(args) > 0 && args[0] == "resolve" {
		h = conflictsResolveHelp
	}
	fs := newFlagSet("conflicts", h)
	fs.BoolVar(&c.all, "all", false, "list resolved conflicts too")
	fs.BoolVar(&c.json, "json", false, "print a JSON array")
	fs.BoolVar(&c.keep, "keep", false, "keep the merged value and close the conflict")
	d, rest, err := g.open(fs, args, func(rest []string) error {
		switch {
		case len(rest) == 0, rest[0] == "resolve" && len(rest) == 2:
			return nil
		case rest[0] == "resolve":
			return fmt.Errorf("%w: conflicts resolve needs exactly one conflict ID", errUsage)
		default:
			return fmt.Errorf("%w: unknown conflicts subcommand %q (did you mean 'conflicts resolve %s'?)", errUsage, rest[0], rest[0])
		}
	})
	if err != nil {
		return err
	}
	defer d.Close()
	if len(rest) == 0 {
		return c.list(ctx, g, d)
	}
	return c.resolve(ctx, g, d, rest[1])
}

func (c *conflictsCmd) list(ctx context.Context, g *globals, d *device.Device) error {
	cs, err := d.Conflicts(ctx, c.all)
	if err != nil {
		return err
	}
	if c.json {
		out := make([]conflictJSON, 0, len(cs))
		for _, x := range cs {
			out = append(out, conflictJSON{ID: x.ID, Contact: x.ContactID, Property: x.Property, Group: x.Group,
				Kind: x.Kind, Kept: x.Winner, Other: x.Loser, LosingSide: x.Side, Remote: x.Remote, At: x.At,
				Recorded: x.Recorded, ResolvedRev: x.ResolvedRev, Resolution: x.Resolution})
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(g.stdio.Out, "%s\n", b)
		return err
	}
	if len(cs) == 0 {
		fmt.Fprintln(g.stdio.Err, "no open conflicts")
		return nil
	}
	w := tabwriter.NewWriter(g.stdio.Out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tCONTACT\tPROPERTY\tKEPT\tOTHER VALUE\tSTATE")
	for _, x := range cs {
		state := "open"
		if x.ResolvedRev != 0 {
			state = fmt.Sprintf("%s at rev %d", x.Resolution, x.ResolvedRev)
		}
		prop := x.Property
		if prop == "" {
			prop = "(whole contact)"
		}
		other := x.Loser
		if x.Kind == string(conflict.KindDelete) {
			other = "(deleted on " + x.Side + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", shortID(x.ID), x.ContactID, prop, oneLine(x.Winner), oneLine(other), state)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(g.stdio.Err, "%d conflicts; take the other value with 'contactsync conflicts resolve ID'\n", len(cs))
	return nil
}

// resolve takes the losing value of an open conflict (or, with --keep, confirms the merge's choice); the device
// commits the other value as an ordinary local edit, so it syncs to every remote like any edit.
func (c *conflictsCmd) resolve(ctx context.Context, g *globals, d *device.Device, id string) error {
	if c.keep {
		res, err := d.KeepMerged(ctx, id)
		if err != nil {
			return resolveError(id, err)
		}
		fmt.Fprintf(g.stdio.Err, "conflict %s closed; the merged value stays\n", shortID(res.ID))
		return nil
	}
	res, err := d.TakeOther(ctx, id)
	if err != nil {
		return resolveError(id, err)
	}
	fmt.Fprintf(g.stdio.Err, "conflict %s resolved: the other value is back, at revision %d\n", shortID(res.ID), res.Rev)
	return nil
}

// resolveError adds what the user can do next.
func resolveError(id string, err error) error {
	switch {
	case errors.Is(err, device.ErrNoConflict):
		return fmt.Errorf("no open conflict with ID %s (see 'contactsync conflicts')", id)
	case errors.Is(err, device.ErrStale):
		return fmt.Errorf("%w; edit it directly or close the conflict with --keep", err)
	case errors.Is(err, device.ErrContactGone):
		return fmt.Errorf("%w; close the conflict with --keep", err)
	}
	return err
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// oneLine shows a property's content lines on one line of the listing.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
