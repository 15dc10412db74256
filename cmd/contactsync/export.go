package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// exportCmd writes every contact's vCard exactly as stored, one after the other.
type exportCmd struct {
	output string
}

func (c *exportCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("export", g.stdio.Err)
	fs.StringVar(&c.output, "o", "", "write to FILE instead of stdout (replaced atomically)")
	fs.Usage = func() {
		fmt.Fprintln(g.stdio.Err, "Usage: contactsync export [-o FILE]")
		fs.PrintDefaults()
	}
	d, _, err := g.open(fs, args, func(rest []string) error {
		if len(rest) > 0 {
			return fmt.Errorf("%w: export takes no arguments (did you mean -o %s?)", errUsage, rest[0])
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer d.Close()

	if c.output == "" {
		w := bufio.NewWriter(g.stdio.Out)
		n, err := d.Export(ctx, w)
		if err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fmt.Fprintf(g.stdio.Err, "exported %d contacts\n", n)
		return nil
	}
	// Write beside the target and rename, so an interrupted export never leaves a half file in its place.
	tmp, err := os.CreateTemp(filepath.Dir(c.output), ".export-*.vcf")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	n, err := d.Export(ctx, w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.output)
	}
	if err != nil {
		return fmt.Errorf("export to %s: %w", c.output, err)
	}
	fmt.Fprintf(g.stdio.Err, "exported %d contacts to %s\n", n, c.output)
	return nil
}
