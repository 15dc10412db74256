package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/contactsync/contactsync/changelog"
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
	rest, err := g.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: export takes no arguments (did you mean -o %s?)", errUsage, rest[0])
	}
	store, err := g.openStore()
	if err != nil {
		return err
	}
	defer store.Close()

	if c.output == "" {
		w := bufio.NewWriter(g.stdio.Out)
		n, err := writeAll(ctx, store, w)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
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
	n, err := writeAll(ctx, store, w)
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

// writeAll writes each stored card as is, in ID order. A card whose text does not end with a line break (the
// last card of some files) is followed by one when another card comes after it, so each BEGIN:VCARD starts its
// own line; the last card of the export is written exactly as stored.
func writeAll(ctx context.Context, store *changelog.Store, w io.Writer) (int, error) {
	n := 0
	needBreak := false
	for c, err := range store.All(ctx) {
		if err != nil {
			return n, err
		}
		if needBreak {
			if _, err := io.WriteString(w, "\r\n"); err != nil {
				return n, err
			}
		}
		if _, err := w.Write(c.Data); err != nil {
			return n, err
		}
		last := c.Data[len(c.Data)-1]
		needBreak = last != '\n' && last != '\r'
		n++
	}
	return n, nil
}
