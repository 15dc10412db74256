package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/contactsync/contactsync/engine/device"
)

// rmCmd removes contacts, each in its own transaction (one revision each), and reports IDs it did not find.
type rmCmd struct{}

var rmHelp = help{
	usage: []string{"rm ID..."},
	about: "Removes the contacts with these IDs, each in its own transaction, and names those it did not find.",
}

func (c *rmCmd) Run(ctx context.Context, g *globals, args []string) error {
	d, ids, err := g.open(newFlagSet("rm", rmHelp), args, func(ids []string) error {
		if len(ids) == 0 {
			return fmt.Errorf("%w: rm needs at least one contact ID", errUsage)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer d.Close()
	var missing []string
	for _, id := range ids {
		err := d.Remove(ctx, id)
		switch {
		case errors.Is(err, device.ErrNotFound):
			missing = append(missing, id)
		case err != nil:
			return err
		default:
			fmt.Fprintf(g.stdio.Out, "removed %s\n", id)
		}
	}
	if len(missing) > 0 {
		return noContact(missing...)
	}
	return nil
}
