package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/contactsync/contactsync/engine/device"
)

// getCmd prints one contact as its stored vCard or as mozContact JSON.
type getCmd struct {
	format string
}

var getHelp = help{
	usage: []string{"get [--format vcf|json] ID"},
	about: "Prints contact ID as its stored vCard, byte for byte, or as mozContact JSON.",
}

func (c *getCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("get", getHelp)
	fs.StringVar(&c.format, "format", "vcf", "`FORMAT` to print: vcf (the stored vCard, byte for byte) or json (mozContact)")
	d, rest, err := g.open(fs, args, func(rest []string) error {
		if len(rest) != 1 {
			return fmt.Errorf("%w: get needs exactly one contact ID", errUsage)
		}
		if c.format != "vcf" && c.format != "json" {
			return fmt.Errorf("%w: --format must be vcf or json, not %q", errUsage, c.format)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer d.Close()
	rec, err := d.Get(ctx, rest[0])
	if errors.Is(err, device.ErrNotFound) {
		return noContact(rest[0])
	}
	if err != nil {
		return err
	}
	if c.format == "vcf" {
		_, err := g.stdio.Out.Write(rec.Data)
		return err
	}
	mc, err := device.MozContact(rec)
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
