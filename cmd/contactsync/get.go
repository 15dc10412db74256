package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/contactsync/contactsync/changelog"
)

// getCmd prints one contact as its stored vCard or as mozContact JSON.
type getCmd struct {
	format string
}

func (c *getCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("get", g.stdio.Err)
	fs.StringVar(&c.format, "format", "vcf", "vcf (the stored vCard, byte for byte) or json (mozContact)")
	rest, err := g.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: get needs exactly one contact ID", errUsage)
	}
	if c.format != "vcf" && c.format != "json" {
		return fmt.Errorf("%w: --format must be vcf or json, not %q", errUsage, c.format)
	}
	store, err := g.openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	rec, err := getContact(ctx, store, rest[0])
	if err != nil {
		return err
	}
	if c.format == "vcf" {
		_, err := g.stdio.Out.Write(rec.Data)
		return err
	}
	mc, err := toMozContact(rec)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(mc, "", "  ")
	if err != nil {
		return fmt.Errorf("contact %s: %w", rec.ID, err)
	}
	_, err = fmt.Fprintf(g.stdio.Out, "%s\n", b)
	return err
}

// getContact reads a contact and says plainly when the ID is unknown.
func getContact(ctx context.Context, store *changelog.Store, id string) (changelog.Contact, error) {
	rec, err := store.Get(ctx, id)
	if errors.Is(err, changelog.ErrNotFound) {
		return rec, fmt.Errorf("no contact with ID %q (see 'contactsync list')", id)
	}
	if err != nil {
		return rec, fmt.Errorf("get %s: %w", id, err)
	}
	return rec, nil
}
