package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/contactsync/contactsync/changelog"
)

// rmCmd removes contacts, each in its own transaction (one revision each), and reports IDs it did not find.
type rmCmd struct{}

func (c *rmCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("rm", g.stdio.Err)
	ids, err := g.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("%w: rm needs at least one contact ID", errUsage)
	}
	store, err := g.openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	var missing []string
	for _, id := range ids {
		err := store.Remove(ctx, changelog.Local, id)
		switch {
		case errors.Is(err, changelog.ErrNotFound):
			missing = append(missing, id)
		case err != nil:
			return fmt.Errorf("rm %s: %w", id, err)
		default:
			fmt.Fprintf(g.stdio.Out, "removed %s\n", id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no contact with ID %q", missing)
	}
	return nil
}
