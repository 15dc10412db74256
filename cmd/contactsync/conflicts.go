package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/conflict"
)

// conflictsCmd lists the decisions merges took between concurrent edits, and lets a user take the other value:
//
//	contactsync conflicts [--all] [--json]
//	contactsync conflicts resolve ID [--keep]
type conflictsCmd struct {
	all, json, keep bool
}

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
	fs := newFlagSet("conflicts", g.stdio.Err)
	fs.BoolVar(&c.all, "all", false, "list resolved conflicts too")
	fs.BoolVar(&c.json, "json", false, "print a JSON array")
	fs.BoolVar(&c.keep, "keep", false, "with resolve: keep the merged value and close the conflict")
	fs.Usage = func() {
		fmt.Fprintln(g.stdio.Err, "Usage: contactsync conflicts [--all] [--json]\n       contactsync conflicts resolve ID [--keep]")
		fs.PrintDefaults()
	}
	rest, err := g.parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 0:
		return c.list(ctx, g)
	case rest[0] == "resolve" && len(rest) == 2:
		return c.resolve(ctx, g, rest[1])
	case rest[0] == "resolve":
		return fmt.Errorf("%w: conflicts resolve needs exactly one conflict ID", errUsage)
	default:
		return fmt.Errorf("%w: unknown conflicts subcommand %q (did you mean 'conflicts resolve %s'?)", errUsage, rest[0], rest[0])
	}
}

func (c *conflictsCmd) list(ctx context.Context, g *globals) error {
	store, err := g.openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	cs, err := store.Conflicts(ctx, c.all)
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

// resolve takes the losing value of an open conflict (or, with --keep, confirms the merge's choice). Taking the
// other value is an ordinary local edit of the contact, committed with the conflict's resolution, so it syncs
// to every remote like any edit.
func (c *conflictsCmd) resolve(ctx context.Context, g *globals, id string) error {
	store, err := g.openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	full, err := findConflict(ctx, store, id)
	if err != nil {
		return err
	}
	var rev uint64
	err = store.Update(ctx, func(tx *changelog.Tx) error {
		x, err := tx.Conflict(full)
		if err != nil {
			return err
		}
		if c.keep {
			return tx.ResolveConflict(x.ID, "kept-winner")
		}
		rec, err := tx.Get(x.ContactID)
		if errors.Is(err, changelog.ErrNotFound) {
			return fmt.Errorf("contact %s no longer exists; close the conflict with --keep", x.ContactID)
		}
		if err != nil {
			return err
		}
		card, err := parseOne(rec.Data)
		if err != nil {
			return fmt.Errorf("contact %s: %w", x.ContactID, err)
		}
		out, err := conflict.Resolve(card, conflict.Decision{ID: x.ID, UID: x.ContactID, Property: x.Property,
			Group: x.Group, Kind: conflict.Kind(x.Kind), Winner: x.Winner, Loser: x.Loser,
			Side: conflict.Side(x.Side), At: x.At})
		if errors.Is(err, conflict.ErrStale) {
			return fmt.Errorf("contact %s was edited since the merge and no longer holds the kept value; edit it directly or close the conflict with --keep", x.ContactID)
		}
		if err != nil {
			return err
		}
		if out == nil {
			err = tx.Remove(changelog.Local, x.ContactID)
		} else {
			_, err = tx.Replace(changelog.Local, changelog.Contact{ID: x.ContactID, Data: out.Bytes(), Source: rec.Source})
		}
		if err != nil {
			return err
		}
		rev = tx.LastRevision()
		return tx.ResolveConflict(x.ID, "took-loser")
	})
	if err != nil {
		return fmt.Errorf("resolve %s: %w", id, err)
	}
	if c.keep {
		fmt.Fprintf(g.stdio.Err, "conflict %s closed; the merged value stays\n", shortID(full))
	} else {
		fmt.Fprintf(g.stdio.Err, "conflict %s resolved: the other value is back, at revision %d\n", shortID(full), rev)
	}
	return nil
}

// findConflict accepts a full conflict ID or an unambiguous prefix of an open one, as the listing shows them.
func findConflict(ctx context.Context, store *changelog.Store, id string) (string, error) {
	cs, err := store.Conflicts(ctx, false)
	if err != nil {
		return "", err
	}
	var match []string
	for _, x := range cs {
		if x.ID == id {
			return id, nil
		}
		if strings.HasPrefix(x.ID, id) {
			match = append(match, x.ID)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return "", fmt.Errorf("no open conflict with ID %q (see 'contactsync conflicts')", id)
	default:
		return "", fmt.Errorf("conflict ID %q is ambiguous: %d open conflicts start with it", id, len(match))
	}
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
