package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/contactsync/contactsync/engine/device"
)

// exportCmd writes every contact's vCard exactly as stored, one after the other.
type exportCmd struct {
	output string
}

var exportHelp = help{
	usage: []string{"export [-o FILE]"},
	about: "Writes every contact's vCard, exactly as stored, to stdout or to FILE.",
}

func (c *exportCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("export", exportHelp)
	fs.StringVar(&c.output, "o", "", "write to `FILE` instead of stdout (replaced atomically: an interrupted export leaves the old file)")
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
	n, err := exportFile(ctx, d, c.output)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdio.Err, "exported %d contacts to %s\n", n, c.output)
	return nil
}

// exportFile writes the export beside target and renames it into place, so an interrupted export never leaves
// a half file there.
func exportFile(ctx context.Context, d *device.Device, target string) (int, error) {
	// A rename onto a directory fails, depending on the system, with "file exists" or "is a directory": say
	// what the matter is before writing anything.
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		return 0, fmt.Errorf("export: cannot write %s: it is a directory", target)
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".export-*.vcf")
	if err != nil {
		return 0, exportError(target, err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	n, err := d.Export(ctx, w)
	if err != nil {
		tmp.Close()
		var pe *os.PathError
		if !errors.As(err, &pe) {
			return 0, err // the store's error, not the file's
		}
		return 0, exportError(target, err)
	}
	err = w.Flush()
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	if err != nil {
		return 0, exportError(target, err)
	}
	return n, nil
}

// exportError says that target could not be written, and why, leaving out the temporary file that the file
// system's error names: the user asked for target.
func exportError(target string, err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("export: cannot write %s: %w", target, err)
}
